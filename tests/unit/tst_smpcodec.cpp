// The SMP packet codec against byte sequences written by hand from the SMP specification
// (Zephyr docs: services/device_mgmt/smp_protocol.rst "Frame: the envelope" for the header,
// smp_groups/smp_group_0.rst and smp_group_1.rst for the bodies, RFC 8949 for the CBOR bytes).
// None of the expected bytes come from our own encoder.
#include "smp/SmpCommands.h"
#include "smp/SmpError.h"
#include "smp/SmpPacket.h"

#include <QCborArray>
#include <QTest>

using namespace otafleet::smp;

namespace {

QByteArray hex(const char* text) {
    return QByteArray::fromHex(QByteArray(text));
}

// QVERIFY2 evaluates its message even when the check passes: never touch error() of a value.
template <typename T>
QByteArray why(const otafleet::Result<T>& result) {
    return result ? QByteArray() : result.error().toString().toUtf8();
}

}  // namespace

class TestSmpCodec : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void echoRequestVersion1() {
        // smp_protocol "Frame": Res=0 Ver=0 OP=2 (write) -> 0x02; Flags 0; Data Length 9;
        // Group 0 (OS); Seq 0; Command 0 (echo). smp_group_0 "Echo command": {"d": "hello"} =
        // A1 (map of 1) 61 64 ("d") 65 68 65 6C 6C 6F ("hello").
        const QByteArray expected = hex("02 00 0009 0000 00 00  A1 6164 6568656C6C6F");
        const auto bytes = encodeRequest(os::echo(QStringLiteral("hello")), Version::V1, 0);
        QVERIFY(bytes.has_value());
        QCOMPARE(*bytes, expected);
    }

    void echoResponseVersion2() {
        // Ver=1 (SMP version 2) OP=3 (write response) -> 0x0B; Seq 0x2A; {"r": "hello"}.
        const auto packet = decodePacket(hex("0B 00 0009 0000 2A 00  A1 6172 6568656C6C6F"));
        QVERIFY2(packet.has_value(), why(packet).constData());
        QCOMPARE(packet->header.op, Op::WriteResponse);
        QCOMPARE(packet->header.version, Version::V2);
        QCOMPARE(packet->header.sequence, quint8(0x2A));
        QCOMPARE(packet->header.group, kGroupOs);
        QCOMPARE(os::parseEcho(packet->body).value(), QStringLiteral("hello"));
    }

    void mcumgrParametersResponse() {
        // smp_group_0 "MCUmgr Parameters": read response (0x09 with Ver=1) to command 6,
        // {"buf_size": 2048, "buf_count": 4}: 68 "buf_size", 19 0800 (uint16 2048),
        // 69 "buf_count", 04.
        const auto packet =
            decodePacket(hex("09 00 0018 0000 07 06"
                             "A2 68 6275665F73697A65 19 0800"
                             "69 6275665F636F756E74 04"));
        QVERIFY2(packet.has_value(), why(packet).constData());
        QCOMPARE(packet->header.command, os::kMcumgrParameters);
        const auto params = os::parseMcumgrParameters(packet->body);
        QVERIFY(params.has_value());
        QCOMPARE(params->bufSize, 2048);
        QCOMPARE(params->bufCount, 4);
    }

    void imageStateResponse() {
        // smp_group_1 "State of images" response: {"images": [{"slot": 0, "version": "1.2.3",
        // "hash": h'01020304', "active": true, "confirmed": true}]}; F5 is CBOR true.
        const auto packet =
            decodePacket(hex("09 00 003B 0001 01 00"
                             "A1 66 696D61676573 81 A5"
                             "64 736C6F74 00"
                             "67 76657273696F6E 65 312E322E33"
                             "64 68617368 44 01020304"
                             "66 616374697665 F5"
                             "69 636F6E6669726D6564 F5"));
        QVERIFY2(packet.has_value(), why(packet).constData());
        const auto slots = image::parseState(packet->body);
        QVERIFY2(slots.has_value(), why(slots).constData());
        QCOMPARE(slots->size(), 1);
        const image::SlotState& slot = slots->first();
        QCOMPARE(slot.slot, 0);
        QCOMPARE(slot.version, QStringLiteral("1.2.3"));
        QCOMPARE(slot.hash, hex("01020304"));
        QVERIFY(slot.active);
        QVERIFY(slot.confirmed);
        QVERIFY(!slot.pending);
        QVERIFY(!slot.permanent);
    }

    void uploadFirstChunk() {
        // smp_group_1 "Image upload" request, first chunk: "len" and "sha" only at off 0.
        // A4 (map of 4): 63 "len" 0A, 63 "off" 00, 63 "sha" 42 AABB, 64 "data" 43 010203.
        // Header: Ver=1 OP=2 -> 0x0A, length 0x1B, group 1, seq 5, command 1.
        const QByteArray expected =
            hex("0A 00 001B 0001 05 01"
                "A4 636C656E 0A 636F6666 00 63736861 42 AABB"
                "6464617461 43 010203");
        image::UploadChunk chunk;
        chunk.offset = 0;
        chunk.totalLength = 10;
        chunk.sha = hex("AABB");
        chunk.data = hex("010203");
        const auto bytes = encodeRequest(image::upload(chunk), Version::V2, 5);
        QVERIFY(bytes.has_value());
        QCOMPARE(*bytes, expected);
        QCOMPARE(image::uploadOverhead(image::UploadChunk{0, {}, 0, 10, hex("AABB"), false}),
                 qint64(8 + 24 + 5));
    }

    void uploadResponseNextOffset() {
        // {"off": 512} = A1 63 "off" 19 0200, write response to image upload.
        const auto packet = decodePacket(hex("0B 00 0008 0001 05 01 A1 636F6666 19 0200"));
        QVERIFY(packet.has_value());
        const auto result = image::parseUpload(packet->body);
        QVERIFY(result.has_value());
        QCOMPARE(result->offset, 512);
        QVERIFY(!result->match.has_value());
    }

    void errors_data() {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("code");
        // smp_protocol "Minimal response", version 2: {"err": {"group": 1, "rc": 24}}:
        // image group, IMG_MGMT_ERR_INVALID_HASH.
        QTest::newRow("v2 image invalid hash") << hex("A1 63657272 A2 6567726F7570 01 627263 18 18")
                                               << QStringLiteral("smp.image.invalid-hash");
        // Version 1: {"rc": 8} = MGMT_ERR_ENOTSUP.
        QTest::newRow("v1 not supported")
            << hex("A1 627263 08") << QStringLiteral("smp.device.not-supported");
        // {"rc": 5, "rsn": "x"}: a reason text travels into the message.
        QTest::newRow("v1 with reason")
            << hex("A2 627263 05 63 72736E 61 78") << QStringLiteral("smp.device.not-found");
        // {"err": 3}: not a map.
        QTest::newRow("malformed err")
            << hex("A1 63657272 03") << QStringLiteral("smp.bad-response");
    }

    void errors() {
        QFETCH(QByteArray, body);
        QFETCH(QString, code);
        const auto map = decodeCborMap(body);
        QVERIFY2(map.has_value(), why(map).constData());
        const otafleet::Status status = checkResponse(*map);
        QVERIFY(!status.has_value());
        QCOMPARE(status.error().code, code);
        QVERIFY(!status.error().message.isEmpty());
        // The same body refuses every parser.
        QCOMPARE(image::parseUpload(*map).error().code, code);
    }

    void successCodesAreNotErrors() {
        // {"rc": 0} and {"err": {"group": 0, "rc": 0}}: success in both versions.
        QVERIFY(checkResponse(decodeCborMap(hex("A1 627263 00")).value()).has_value());
        QVERIFY(
            checkResponse(decodeCborMap(hex("A1 63657272 A2 6567726F7570 00 627263 00")).value())
                .has_value());
    }

    void refusedPackets_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("code");
        QTest::newRow("short header")
            << hex("0B 00 0000 0000 00") << QStringLiteral("smp.truncated-header");
        // Res bits (top three of the first byte) must be 0.
        QTest::newRow("reserved bits")
            << hex("2B 00 0000 0000 00 00") << QStringLiteral("smp.bad-header");
        // Ver=2 and Ver=3 are not defined.
        QTest::newRow("version 3")
            << hex("1B 00 0000 0000 00 00") << QStringLiteral("smp.bad-header");
        // Header announces 9 bytes, 8 follow.
        QTest::newRow("length short") << hex("0B 00 0009 0000 00 00 A1 6172 6568656C6C")
                                      << QStringLiteral("smp.length-mismatch");
        // Header announces 2 bytes, 3 follow.
        QTest::newRow("length long")
            << hex("0B 00 0002 0000 00 00 A0 00 00") << QStringLiteral("smp.length-mismatch");
        // A map followed by another value inside the announced length.
        QTest::newRow("trailing value")
            << hex("0B 00 0002 0000 00 00 A0 00") << QStringLiteral("smp.length-mismatch");
        // 0x83: array of 3 with nothing after it.
        QTest::newRow("truncated cbor")
            << hex("0B 00 0001 0000 00 00 83") << QStringLiteral("smp.bad-cbor");
        // 0x1F is a reserved additional-information value (RFC 8949 3.1).
        QTest::newRow("reserved cbor")
            << hex("0B 00 0001 0000 00 00 1F") << QStringLiteral("smp.bad-cbor");
        QTest::newRow("array body")
            << hex("0B 00 0001 0000 00 00 80") << QStringLiteral("smp.body-not-map");
        // Ten nested one-element arrays inside a map: deeper than SMP ever goes.
        QTest::newRow("too deep") << hex("0B 00 000E 0000 00 00 A1 6161 81818181818181818181 00")
                                  << QStringLiteral("smp.cbor-too-complex");
        // A map with a 4-billion-item count: refused by count, nothing allocated.
        QTest::newRow("huge count")
            << hex("0B 00 0005 0000 00 00 BA FFFFFFFF") << QStringLiteral("smp.bad-cbor");
    }

    void refusedPackets() {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, code);
        const auto packet = decodePacket(bytes);
        QVERIFY(!packet.has_value());
        QCOMPARE(packet.error().code, code);
    }

    void headerRoundTrip() {
        const Header header{Op::ReadResponse, Version::V2, 0x00, 0x1234, 0xABCD, 0x7F, 0x08};
        // 0x09: Ver 1 in bits 4-3, OP 1 in bits 2-0.
        QCOMPARE(encodeHeader(header), hex("09 00 1234 ABCD 7F 08"));
        QCOMPARE(decodeHeader(hex("09 00 1234 ABCD 7F 08")).value(), header);
    }

    void emptyBodyIsEmptyMap() {
        // smp_protocol: "Data is optional and is not present when Data Length is zero".
        const auto packet = decodePacket(hex("0B 00 0000 0000 00 05"));
        QVERIFY(packet.has_value());
        QVERIFY(packet->body.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestSmpCodec)
#include "tst_smpcodec.moc"
