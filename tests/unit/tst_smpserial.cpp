// SMP serial framing (mcumgr transport/smp-console.md; Zephyr "SMP Transport Specification",
// UART/serial and console) against frames written from that text: 0x06 0x09 starts a packet,
// 0x04 0x14 continues it, base64 of (length BE, packet, CRC16 BE), newline, at most 127 bytes a
// line. The CRCs were computed with Python's binascii.crc_hqx(packet, 0), an independent
// CRC-16/XMODEM, and the lines with base64.b64encode over 93-byte slices.
#include "smp/SmpSerial.h"

#include <QTest>

using namespace otafleet::smp;

namespace {

// The echo request of tst_smpcodec ({"d": "hello"}, SMP v1): 17 bytes, CRC 0x256F.
QByteArray echoPacket() {
    return QByteArray::fromHex("0200000900000000A16164656865 6C6C6F");
}
QByteArray echoFrame() {
    return QByteArrayLiteral(
        "\x06\x09"
        "ABMCAAAJAAAAAKFhZGVoZWxsbyVv\n");
}

// A v2 echo of 200 'a' (packet 213 bytes, CRC 0x3E95): three lines of 127, 127 and 47 bytes.
QByteArray longPacket() {
    return QByteArray::fromHex("0A0000CD00004200A1616478C8") + QByteArray(200, 'a');
}
QByteArray longFrame() {
    const QByteArray a64 = QByteArrayLiteral("YWFh").repeated(31);
    return QByteArrayLiteral(
               "\x06\x09"
               "ANcKAADNAABCAKFhZHjI") +
           QByteArrayLiteral("YWFh").repeated(26) + "\n" + QByteArrayLiteral("\x04\x14") + a64 +
           "\n" + QByteArrayLiteral("\x04\x14") + QByteArrayLiteral("YWFh").repeated(9) +
           "YWE+lQ==\n";
}

QStringList codes(const QList<otafleet::Result<QByteArray>>& results) {
    QStringList out;
    for (const auto& r : results) {
        out.append(r ? QStringLiteral("ok") : r.error().code);
    }
    return out;
}

}  // namespace

class TestSmpSerial : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void crcCheckValue() {
        // The catalogue check value of CRC-16/XMODEM.
        QCOMPARE(crc16Xmodem("123456789"), quint16(0x31C3));
        QCOMPARE(crc16Xmodem(echoPacket()), quint16(0x256F));
    }

    void encodesAsSpecified() {
        QCOMPARE(encodeSerialFrame(echoPacket()), echoFrame());
        const QByteArray frame = encodeSerialFrame(longPacket());
        QCOMPARE(frame, longFrame());
        for (const QByteArray& line : frame.split('\n')) {
            QVERIFY(line.size() + 1 <= kSerialLineLimit);
        }
        QCOMPARE(serialFrameSize(longPacket().size()), qint64(longFrame().size()));
        QCOMPARE(serialFrameSize(echoPacket().size()), qint64(echoFrame().size()));
    }

    void decodesEverySplit_data() {
        QTest::addColumn<QByteArray>("frame");
        QTest::addColumn<QByteArray>("packet");
        QTest::newRow("one line") << echoFrame() << echoPacket();
        QTest::newRow("three lines") << longFrame() << longPacket();
    }

    void decodesEverySplit() {
        QFETCH(QByteArray, frame);
        QFETCH(QByteArray, packet);
        for (qsizetype cut = 0; cut <= frame.size(); ++cut) {
            SerialDeframer deframer;
            auto results = deframer.feed(QByteArrayView(frame).first(cut));
            results += deframer.feed(QByteArrayView(frame).sliced(cut));
            QCOMPARE(codes(results), QStringList{QStringLiteral("ok")});
            QCOMPARE(results.first().value(), packet);
        }
        // And byte by byte.
        SerialDeframer deframer;
        QList<otafleet::Result<QByteArray>> results;
        for (const char byte : frame) {
            results += deframer.feed(QByteArrayView(&byte, 1));
        }
        QCOMPARE(codes(results), QStringList{QStringLiteral("ok")});
    }

    void skipsConsoleTextBetweenFrames() {
        const QByteArray stream = QByteArrayLiteral("*** Booting Zephyr OS ***\r\n") + echoFrame() +
                                  QByteArrayLiteral("uart:~$ \x1b[1;32mnoise") + longFrame() +
                                  QByteArray("\0\xff\n", 3) + echoFrame();
        for (qsizetype cut = 0; cut <= stream.size(); ++cut) {
            SerialDeframer deframer;
            auto results = deframer.feed(QByteArrayView(stream).first(cut));
            results += deframer.feed(QByteArrayView(stream).sliced(cut));
            QCOMPARE(codes(results), (QStringList{QStringLiteral("ok"), QStringLiteral("ok"),
                                                  QStringLiteral("ok")}));
            QCOMPARE(results.at(1).value(), longPacket());
        }
    }

    void refusesWithDistinctCodes_data() {
        QTest::addColumn<QByteArray>("stream");
        QTest::addColumn<QStringList>("expected");
        const QString ok = QStringLiteral("ok");
        // CRC field 0x256E instead of 0x256F.
        QTest::newRow("crc") << QByteArrayLiteral(
                                    "\x06\x09"
                                    "ABMCAAAJAAAAAKFhZGVoZWxsbyVu\n") +
                                    echoFrame()
                             << QStringList{QStringLiteral("smp.crc-mismatch"), ok};
        // Length field 17 (forgot the CRC): two bytes more arrive than announced.
        QTest::newRow("length") << QByteArrayLiteral(
                                       "\x06\x09"
                                       "ABECAAAJAAAAAKFhZGVoZWxsbyVv\n") +
                                       echoFrame()
                                << QStringList{QStringLiteral("smp.length-mismatch"), ok};
        // Length field 0xFFFF: more than a serial packet may hold.
        QTest::newRow("too large") << QByteArrayLiteral(
                                          "\x06\x09"
                                          "//8CAAAJAAAAAKFhZGVoZWxsbyVv\n") +
                                          echoFrame()
                                   << QStringList{QStringLiteral("smp.packet-too-large"), ok};
        // A line of 2 + 128 + 1 bytes: one base64 group over the limit of 127.
        QTest::newRow("line too long")
            << QByteArrayLiteral("\x06\x09") + QByteArray(128, 'A') + "\n" + echoFrame()
            << QStringList{QStringLiteral("smp.frame-too-long"), ok};
        QTest::newRow("bad base64") << QByteArrayLiteral(
                                           "\x06\x09"
                                           "AB*C\n") +
                                           echoFrame()
                                    << QStringList{QStringLiteral("smp.bad-base64"), ok};
        QTest::newRow("stray continuation")
            << QByteArrayLiteral(
                   "\x04\x14"
                   "YWFh\n") +
                   echoFrame()
            << QStringList{QStringLiteral("smp.unexpected-continuation"), ok};
        // The first line of the long frame, then a new packet.
        QTest::newRow("incomplete") << longFrame().left(127) + echoFrame()
                                    << QStringList{QStringLiteral("smp.incomplete-packet"), ok};
    }

    void refusesWithDistinctCodes() {
        QFETCH(QByteArray, stream);
        QFETCH(QStringList, expected);
        SerialDeframer deframer;
        const auto results = deframer.feed(stream);
        QCOMPARE(codes(results), expected);
        for (const auto& r : results) {
            if (!r) {
                QVERIFY(!r.error().message.isEmpty());
            }
        }
        QCOMPARE(results.last().value(), echoPacket());
    }

    void smallerLineLimit() {
        // A device built with a smaller frame limit: every line respects it, and a de-framer with
        // the same limit reads the packet back.
        const QByteArray frame = encodeSerialFrame(longPacket(), 40);
        for (const QByteArray& line : frame.split('\n')) {
            QVERIFY(line.size() + 1 <= 40);
        }
        SerialDeframer deframer(40);
        const auto results = deframer.feed(frame);
        QCOMPARE(codes(results), QStringList{QStringLiteral("ok")});
        QCOMPARE(results.first().value(), longPacket());
    }
};

QTEST_GUILESS_MAIN(TestSmpSerial)
#include "tst_smpserial.moc"
