// The ble transport plugin as built, on this machine, which has no Bluetooth radio: DeviceHub
// finds it by its metadata and loads it as the console does, `otafleetctl mcu ... --ble ADDRESS`
// loads it too, and every path fails at once and cleanly with ble.no-adapter (a stable code and
// a sentence that says what to do) instead of crashing or hanging, and so does a scan
// (`mcu ports --ble-scan`); a malformed address is refused first with its own code. On a machine
// that has an adapter these checks cannot be shown and are skipped. What SMP over BLE does once
// connected is tested without a radio in tst_bletransport.
#include "CliRun.h"

#include "link/DeviceHub.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;
using otafleet::test::ProcessRun;

namespace {

// Generous: the failure is immediate; this only tells a hang from an answer.
constexpr qint64 kPromptMs = 15'000;

bool machineHasAdapter() {
    return !QDir(QStringLiteral("/sys/class/bluetooth"))
                .entryList({QStringLiteral("hci*")}, QDir::AllEntries | QDir::System)
                .isEmpty();
}

QString describe(const ProcessRun& run) {
    return QStringLiteral("exit %1\nstdout: %2\nstderr: %3")
        .arg(run.exitCode)
        .arg(QString::fromUtf8(run.out), QString::fromUtf8(run.err));
}

}  // namespace

class TestMcuBle : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() {
        if (machineHasAdapter()) {
            QSKIP("This machine has a Bluetooth adapter; the no-adapter path cannot be shown.");
        }
        // A signed image and its key, so `mcu upload` gets past its own checks to the link.
        QVERIFY(m_dir.isValid());
        const QString openssl = QStandardPaths::findExecutable(QStringLiteral("openssl"));
        QVERIFY2(!openssl.isEmpty(), "the openssl command makes the test key");
        const QString key = m_dir.filePath(QStringLiteral("k.key.pem"));
        QCOMPARE(test::runProcess(openssl, test::argList({"genpkey", "-algorithm", "EC", "-pkeyopt",
                                                          "ec_paramgen_curve:P-256", "-out", key}))
                     .exitCode,
                 0);
        QCOMPARE(
            test::runProcess(openssl, test::argList({"pkey", "-in", key, "-pubout", "-out",
                                                     m_dir.filePath(QStringLiteral("k.pub.pem"))}))
                .exitCode,
            0);
        const QString firmware = m_dir.filePath(QStringLiteral("fw.bin"));
        QFile file(firmware);
        QVERIFY(file.open(QIODevice::WriteOnly));
        QVERIFY(file.write(QByteArray(4096, '\x5a')) == 4096);
        file.close();
        const ProcessRun signedImage =
            test::ctl({"mcuboot", "sign", firmware, "--key", key, "--version", "1.0.0",
                       "--header-size", "0x200", "--slot-size", "0x40000", "--pad-header", "-o",
                       m_dir.filePath(QStringLiteral("fw.img"))});
        QVERIFY2(signedImage.exitCode == 0, qPrintable(describe(signedImage)));
    }

    void thePluginIsBuiltAndDescribedByItsMetadata() {
        link::DeviceHub hub(link::LinkContext{}, {QStringLiteral(OTAFLEET_PLUGIN_DIR)});
        const auto transport = hub.transportFor(QStringLiteral("ble:///C0:FF:EE:00:00:01"));
        QVERIFY2(transport.has_value(), qPrintable(transport.error().toString()));
        QCOMPARE(transport->transport, QStringLiteral("ble"));
        QVERIFY(transport->capabilities.contains(QStringLiteral("update")));
        QVERIFY(!hub.isLoaded(QStringLiteral("ble")));  // metadata only, so far
    }

    void theConsolePathFailsWithNoAdapter_data() {
        QTest::addColumn<QString>("uri");
        QTest::addColumn<QString>("code");
        QTest::newRow("an address")
            << QStringLiteral("ble:///C0:FF:EE:00:00:01") << QStringLiteral("ble.no-adapter");
        QTest::newRow("lower case")
            << QStringLiteral("ble:///c0:ff:ee:00:00:01") << QStringLiteral("ble.no-adapter");
        QTest::newRow("not an address")
            << QStringLiteral("ble:///C0:FF:EE") << QStringLiteral("link.bad-uri");
        QTest::newRow("a host instead of a path")
            << QStringLiteral("ble://device/C0:FF:EE:00:00:01") << QStringLiteral("link.bad-uri");
    }

    void theConsolePathFailsWithNoAdapter() {
        QFETCH(QString, uri);
        QFETCH(QString, code);
        link::DeviceHub hub(link::LinkContext{}, {QStringLiteral(OTAFLEET_PLUGIN_DIR)});
        const auto opened = hub.open(uri);
        QVERIFY(!opened.has_value());
        QCOMPARE(opened.error().code, code);
        QVERIFY(!opened.error().message.isEmpty());
        QVERIFY(hub.isLoaded(QStringLiteral("ble")));
    }

    void everyMcuCommandFailsWithNoAdapter_data() {
        QTest::addColumn<QStringList>("command");
        QTest::newRow("info") << QStringList{QStringLiteral("info")};
        QTest::newRow("echo") << QStringList{QStringLiteral("echo"), QStringLiteral("hi")};
        QTest::newRow("reset") << QStringList{QStringLiteral("reset")};
        QTest::newRow("confirm") << QStringList{QStringLiteral("confirm")};
        QTest::newRow("test") << QStringList{QStringLiteral("test"), QString(64, QLatin1Char('a'))};
        QTest::newRow("upload") << QStringList{QStringLiteral("upload"), QStringLiteral("fw.img"),
                                               QStringLiteral("--key"), QStringLiteral("k.pub.pem"),
                                               QStringLiteral("--confirm")};
    }

    void everyMcuCommandFailsWithNoAdapter() {
        QFETCH(QStringList, command);
        for (QString& arg : command) {
            if (arg.endsWith(QLatin1String(".img")) || arg.endsWith(QLatin1String(".pem"))) {
                arg = m_dir.filePath(arg);
            }
        }
        QElapsedTimer clock;
        clock.start();
        const ProcessRun run = test::otafleetctl(
            QStringList{QStringLiteral("mcu")} + command +
            QStringList{QStringLiteral("--ble"), QStringLiteral("C0:FF:EE:00:00:01")});
        QVERIFY2(clock.elapsed() < kPromptMs, qPrintable(describe(run)));
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains("[ble.no-adapter]"), qPrintable(describe(run)));
        QVERIFY2(run.err.contains("Bluetooth adapter"), qPrintable(describe(run)));
    }

    void theJsonErrorCarriesTheCode() {
        const ProcessRun run = test::otafleetctl(
            {QStringLiteral("mcu"), QStringLiteral("info"), QStringLiteral("--ble"),
             QStringLiteral("C0:FF:EE:00:00:01"), QStringLiteral("--json")});
        QCOMPARE(run.exitCode, 1);
        const QJsonObject error =
            QJsonDocument::fromJson(run.out).object().value(QStringLiteral("error")).toObject();
        QCOMPARE(error.value(QStringLiteral("code")).toString(), QStringLiteral("ble.no-adapter"));
        QVERIFY(!error.value(QStringLiteral("message")).toString().isEmpty());
    }

    void aScanFailsWithNoAdapter() {
        QElapsedTimer clock;
        clock.start();
        const ProcessRun run = test::otafleetctl({QStringLiteral("mcu"), QStringLiteral("ports"),
                                                  QStringLiteral("--ble-scan"), QStringLiteral("3"),
                                                  QStringLiteral("--json")});
        QVERIFY2(clock.elapsed() < kPromptMs, qPrintable(describe(run)));
        QCOMPARE(run.exitCode, 1);
        const QJsonObject error =
            QJsonDocument::fromJson(run.out).object().value(QStringLiteral("error")).toObject();
        QCOMPARE(error.value(QStringLiteral("code")).toString(), QStringLiteral("ble.no-adapter"));
        // Without --ble-scan the serial listing is untouched and has no "ble" key.
        const ProcessRun ports = test::otafleetctl(
            {QStringLiteral("mcu"), QStringLiteral("ports"), QStringLiteral("--json")});
        QCOMPARE(ports.exitCode, 0);
        const QJsonObject listing = QJsonDocument::fromJson(ports.out).object();
        QVERIFY(listing.contains(QStringLiteral("ports")));
        QVERIFY(!listing.contains(QStringLiteral("ble")));
        // A scan length out of range is a usage error.
        for (const char* seconds : {"0", "61", "x"}) {
            const ProcessRun usage =
                test::otafleetctl({QStringLiteral("mcu"), QStringLiteral("ports"),
                                   QStringLiteral("--ble-scan"), QString::fromLatin1(seconds)});
            QCOMPARE(usage.exitCode, 2);
        }
    }

    void aMalformedAddressIsRefusedFirst_data() {
        QTest::addColumn<QString>("address");
        QTest::newRow("word") << QStringLiteral("nonsense");
        QTest::newRow("five pairs") << QStringLiteral("C0:FF:EE:00:01");
        QTest::newRow("dashes") << QStringLiteral("C0-FF-EE-00-00-01");
        QTest::newRow("empty") << QString();
        QTest::newRow("long") << QString(5000, QLatin1Char('A'));
    }

    void aMalformedAddressIsRefusedFirst() {
        QFETCH(QString, address);
        const ProcessRun run = test::otafleetctl(
            {QStringLiteral("mcu"), QStringLiteral("info"), QStringLiteral("--ble"), address});
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains("[ble.bad-address]"), qPrintable(describe(run)));
        QVERIFY(run.err.size() < 1000);  // the address is cut, not echoed whole
    }

private:
    QTemporaryDir m_dir;
};

QTEST_GUILESS_MAIN(TestMcuBle)
#include "tst_mcuble.moc"
