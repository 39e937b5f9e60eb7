// SMP over Bluetooth LE framing without a radio: requests cut into writes of at most MTU - 3
// bytes, responses reassembled from notifications by the SMP header's length field. The packets
// are written out byte by byte from the SMP specification (header: Op/Ver, Flags, Length, Group,
// Sequence, Command; CBOR body), not produced by our encoder; every cut of a packet into two
// notifications gives it back whole; garbage, overlong, oversized and stale data are refused
// each with its own code, and the reassembler takes the next good packet after each of them.
#include "smp/SmpBle.h"
#include "smp/SmpPacket.h"

#include <QTest>

using namespace otafleet;

namespace {

// An echo response, SMP version 2 (Ver 1 -> 0x08) write response (Op 3): 0x0b; flags 0; length
// 9; group 0 (OS); sequence 0x42; command 0 (echo); then the CBOR map {"r": "hello"}.
QByteArray echoResponse() {
    return QByteArray::fromHex(
        "0b00"
        "0009"
        "0000"
        "42"
        "00"  // header
        "a1"
        "61"
        "72"
        "65"
        "68656c6c6f");  // map(1) "r" text(5) hello
}

// An image state read request, version 2 read (Op 0): 0x08; length 0; group 1; sequence 7;
// command 0. No body.
QByteArray stateReadRequest() {
    return QByteArray::fromHex("0800000000010700");
}

// A response whose body is `bodySize` bytes of one CBOR map {"d": h'..'}.
QByteArray bigResponse(int bodySize) {
    QByteArray body = QByteArray::fromHex("a16164");   // {"d": ...
    const int data = bodySize - int(body.size()) - 3;  // byte string header 0x59 LL LL
    body += char(0x59);
    body += char((data >> 8) & 0xff);
    body += char(data & 0xff);
    for (int i = 0; i < data; ++i) {
        body += char(i * 31);
    }
    QByteArray header = QByteArray::fromHex("0b00000000010001");
    header[2] = char((body.size() >> 8) & 0xff);
    header[3] = char(body.size() & 0xff);
    return header + body;
}

QStringList codes(const QList<Result<QByteArray>>& results) {
    QStringList out;
    for (const auto& result : results) {
        out.append(result ? QStringLiteral("packet") : result.error().code);
    }
    return out;
}

}  // namespace

class TestSmpBle : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void theHandWrittenPacketsAreWhatTheSpecificationSays() {
        // Guard against a typo in the fixtures: the codec agrees with the hand-written bytes.
        const auto echo = smp::decodePacket(echoResponse());
        QVERIFY(echo.has_value());
        QCOMPARE(echo->header.op, smp::Op::WriteResponse);
        QCOMPARE(echo->header.sequence, quint8(0x42));
        QCOMPARE(echo->body.value(QStringLiteral("r")).toString(), QStringLiteral("hello"));
        QVERIFY(smp::decodePacket(stateReadRequest()).has_value());
        QVERIFY(smp::decodePacket(bigResponse(600)).has_value());
    }

    void piecesFitTheMtu_data() {
        QTest::addColumn<int>("packetSize");
        QTest::addColumn<int>("mtu");
        QTest::addColumn<int>("pieceSize");
        QTest::addColumn<int>("pieces");
        QTest::newRow("default MTU, one piece") << 20 << 23 << 20 << 1;
        QTest::newRow("default MTU, one byte over") << 21 << 23 << 20 << 2;
        QTest::newRow("default MTU, 600 bytes") << 600 << 23 << 20 << 30;
        QTest::newRow("MTU 24") << 600 << 24 << 21 << 29;
        QTest::newRow("MTU 185 (iOS)") << 600 << 185 << 182 << 4;
        QTest::newRow("MTU 247 (Zephyr default)") << 2048 << 247 << 244 << 9;
        QTest::newRow("MTU 517 carries at most 512") << 2048 << 517 << 512 << 4;
        QTest::newRow("an MTU below 23 is 23") << 100 << 5 << 20 << 5;
        QTest::newRow("an MTU above 517 is 517") << 1024 << 4000 << 512 << 2;
    }

    void piecesFitTheMtu() {
        QFETCH(int, packetSize);
        QFETCH(int, mtu);
        QFETCH(int, pieceSize);
        QFETCH(int, pieces);
        QCOMPARE(smp::blePayloadSize(mtu), pieceSize);
        QByteArray packet(packetSize, '\0');
        for (int i = 0; i < packetSize; ++i) {
            packet[i] = char(i);
        }
        const QList<QByteArray> out = smp::splitForBle(packet, mtu);
        QCOMPARE(out.size(), pieces);
        QByteArray joined;
        for (const QByteArray& piece : out) {
            QVERIFY(piece.size() <= pieceSize);
            QVERIFY(!piece.isEmpty());
            joined += piece;
        }
        QCOMPARE(joined, packet);
        // Only the last piece may be short.
        for (qsizetype i = 0; i + 1 < out.size(); ++i) {
            QCOMPARE(out[i].size(), qsizetype(pieceSize));
        }
    }

    void everyCutInTwoGivesThePacketBack() {
        const QByteArray packet = echoResponse();
        for (qsizetype cut = 1; cut < packet.size(); ++cut) {
            smp::BleReassembler reassembler;
            const auto first = reassembler.feed(QByteArrayView(packet).first(cut), 0);
            QVERIFY2(first.isEmpty(), qPrintable(QString::number(cut)));
            QVERIFY(reassembler.inPacket());
            const auto second = reassembler.feed(QByteArrayView(packet).sliced(cut), 1);
            QCOMPARE(second.size(), 1);
            QVERIFY(second.first().has_value());
            QCOMPARE(*second.first(), packet);
            QVERIFY(!reassembler.inPacket());
        }
    }

    void aResponseSpanningManyNotifications_data() {
        QTest::addColumn<int>("mtu");
        QTest::newRow("MTU 23") << 23;
        QTest::newRow("MTU 64") << 64;
        QTest::newRow("MTU 247") << 247;
        QTest::newRow("MTU 517") << 517;
    }

    void aResponseSpanningManyNotifications() {
        QFETCH(int, mtu);
        const QByteArray packet = bigResponse(1500);
        smp::BleReassembler reassembler;
        const QList<QByteArray> pieces = smp::splitForBle(packet, mtu);
        QVERIFY(pieces.size() > 1);
        QList<Result<QByteArray>> results;
        for (const QByteArray& piece : pieces) {
            QVERIFY(results.isEmpty());  // nothing completes before the last piece
            results += reassembler.feed(piece, 0);
        }
        QCOMPARE(codes(results), QStringList{QStringLiteral("packet")});
        QCOMPARE(*results.first(), packet);
    }

    void badDataIsRefusedWithItsOwnCode_data() {
        QTest::addColumn<QList<QByteArray>>("pieces");
        QTest::addColumn<QList<qint64>>("times");
        QTest::addColumn<QStringList>("expected");
        const QByteArray echo = echoResponse();
        // Reserved bits set in the first byte (0xff): not an SMP header.
        QTest::newRow("garbage") << QList<QByteArray>{QByteArray::fromHex("ffffffffffffffff")}
                                 << QList<qint64>{0}
                                 << QStringList{QStringLiteral("smp.ble-bad-header")};
        QTest::newRow("text") << QList<QByteArray>{QByteArrayLiteral("*** Booting Zephyr")}
                              << QList<qint64>{0}
                              << QStringList{QStringLiteral("smp.ble-bad-header")};
        // A request (Op 0) where only responses belong.
        QTest::newRow("request instead of response")
            << QList<QByteArray>{stateReadRequest()} << QList<qint64>{0}
            << QStringList{QStringLiteral("smp.ble-bad-header")};
        // Three bytes past the announced length in the same notification.
        QTest::newRow("overlong in one piece")
            << QList<QByteArray>{echo + QByteArray::fromHex("0b0000")} << QList<qint64>{0}
            << QStringList{QStringLiteral("smp.ble-overlong")};
        QTest::newRow("overlong in the last piece")
            << QList<QByteArray>{echo.first(10), echo.sliced(10) + "x"} << QList<qint64>{0, 0}
            << QStringList{QStringLiteral("smp.ble-overlong")};
        // Length 0xffff: 65543 bytes, more than the reassembler holds.
        QTest::newRow("too large")
            << QList<QByteArray>{QByteArray::fromHex("0b00ffff00000100a0")} << QList<qint64>{0}
            << QStringList{QStringLiteral("smp.ble-packet-too-large")};
        // Half a packet, then nothing for longer than the timeout, then a whole good packet.
        QTest::newRow("stale then good")
            << QList<QByteArray>{echo.first(6), echo}
            << QList<qint64>{0, smp::kBleReassemblyTimeoutMs + 1}
            << QStringList{QStringLiteral("smp.ble-stale-packet"), QStringLiteral("packet")};
        // Within the timeout the second piece continues the first (and runs over).
        QTest::newRow("not stale within the timeout")
            << QList<QByteArray>{echo.first(6), echo}
            << QList<qint64>{0, smp::kBleReassemblyTimeoutMs}
            << QStringList{QStringLiteral("smp.ble-overlong")};
        QTest::newRow("empty notifications are ignored")
            << QList<QByteArray>{QByteArray(), echo, QByteArray()} << QList<qint64>{0, 0, 0}
            << QStringList{QStringLiteral("packet")};
    }

    void badDataIsRefusedWithItsOwnCode() {
        QFETCH(QList<QByteArray>, pieces);
        QFETCH(QList<qint64>, times);
        QFETCH(QStringList, expected);
        smp::BleReassembler reassembler;
        QList<Result<QByteArray>> results;
        for (qsizetype i = 0; i < pieces.size(); ++i) {
            results += reassembler.feed(pieces[i], times[i]);
        }
        QCOMPARE(codes(results), expected);
        for (const auto& result : results) {
            if (!result) {
                QVERIFY(!result.error().message.isEmpty());
            }
        }
        // Whatever went wrong, the next good packet comes through.
        QVERIFY(!reassembler.inPacket());
        const auto next = reassembler.feed(echoResponse(), times.last() + 1);
        QCOMPARE(codes(next), QStringList{QStringLiteral("packet")});
    }

    void theDeviceSideTakesRequestsOnly() {
        smp::BleReassembler device(smp::BleReassembler::Expect::Requests);
        QCOMPARE(codes(device.feed(stateReadRequest(), 0)), QStringList{QStringLiteral("packet")});
        QCOMPARE(codes(device.feed(echoResponse(), 0)),
                 QStringList{QStringLiteral("smp.ble-bad-header")});
    }

    void resetForgetsAPartialPacket() {
        smp::BleReassembler reassembler;
        QVERIFY(reassembler.feed(echoResponse().first(5), 0).isEmpty());
        reassembler.reset();
        QCOMPARE(codes(reassembler.feed(echoResponse(), 0)), QStringList{QStringLiteral("packet")});
    }
};

QTEST_GUILESS_MAIN(TestSmpBle)
#include "tst_smpble.moc"
