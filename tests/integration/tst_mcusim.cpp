// MCU devices end to end: a real otafleet-mcusim process on a real pseudo-terminal and a real UDP
// socket, driven by the real otafleetctl (and, where the console's own check would stop a bad
// image before the device sees it, by the SMP client library directly). Images are signed by
// `otafleetctl mcuboot sign` with PEM P-256 keys made by the openssl command.
#include "CliRun.h"
#include "McuSimProcess.h"

#include "smp/ImageUploader.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;
using otafleet::test::ctl;
using otafleet::test::McuSimProcess;
using otafleet::test::ProcessRun;

namespace {

constexpr qsizetype kFirmwareSize = 48 * 1024;

QByteArray firmware(quint32 seed) {
    QByteArray bytes(kFirmwareSize, '\0');
    for (qsizetype i = 0; i < bytes.size(); ++i) {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        bytes[i] = char(seed);
    }
    return bytes;
}

bool writeFile(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

QJsonObject json(const ProcessRun& run) {
    return QJsonDocument::fromJson(run.out).object();
}

QString describe(const ProcessRun& run) {
    return QStringLiteral("exit %1\nstdout: %2\nstderr: %3")
        .arg(run.exitCode)
        .arg(QString::fromUtf8(run.out), QString::fromUtf8(run.err));
}

QJsonObject slotOf(const QJsonObject& info, int slot) {
    for (const QJsonValue& image : info.value(QStringLiteral("images")).toArray()) {
        if (image.toObject().value(QStringLiteral("slot")).toInt() == slot) {
            return image.toObject();
        }
    }
    return {};
}

}  // namespace

class TestMcuSim : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void uploadTestResetConfirmOverPty();
    void unconfirmedImageRevertsOverUdp();
    void testAndConfirmCommands();
    void otherKeyRefusedByDeviceWithReason();
    void badImagesRefusedByDevice_data();
    void badImagesRefusedByDevice();
    void consoleRefusesCorruptImageBeforeSending();
    void linkDroppedMidUploadResumes();
    void resetMidUploadResumesInTheSameRun();
    void bleWithoutRadioFailsClearly();

private:
    QString path(const QString& name) const { return m_dir.filePath(name); }
    QStringList link(const McuSimProcess& sim) const {
        return sim.pty().isEmpty() ? QStringList{QStringLiteral("--udp"), sim.udp()}
                                   : QStringList{QStringLiteral("--port"), sim.pty()};
    }
    ProcessRun mcu(const QStringList& args) {
        return otafleet::test::otafleetctl(
            QStringList{QStringLiteral("mcu")} + args +
            QStringList{QStringLiteral("--timeout"), QStringLiteral("500")});
    }
    bool sign(const QString& key, const QString& version, quint32 seed, const QString& out);

    QTemporaryDir m_dir;
    QString m_deviceDir;
    int m_run = 0;
};

bool TestMcuSim::sign(const QString& key, const QString& version, quint32 seed,
                      const QString& out) {
    const QString fw = out + QStringLiteral(".fw");
    if (!writeFile(fw, firmware(seed))) {
        return false;
    }
    const ProcessRun run =
        ctl({"mcuboot", "sign", fw, "--key", key, "--version", version, "--header-size", "0x200",
             "--slot-size", "0x40000", "--pad-header", "-o", out});
    if (run.exitCode != 0) {
        qWarning("%s", qPrintable(describe(run)));
    }
    return run.exitCode == 0;
}

void TestMcuSim::initTestCase() {
    QVERIFY(m_dir.isValid());
    const QString openssl = QStandardPaths::findExecutable(QStringLiteral("openssl"));
    QVERIFY2(!openssl.isEmpty(), "the openssl command makes the test keys");
    for (const QString& name : {QStringLiteral("a"), QStringLiteral("b")}) {
        const auto key = path(name + QStringLiteral(".key.pem"));
        QCOMPARE(otafleet::test::runProcess(
                     openssl, otafleet::test::argList({"genpkey", "-algorithm", "EC", "-pkeyopt",
                                                       "ec_paramgen_curve:P-256", "-out", key}))
                     .exitCode,
                 0);
        QCOMPARE(otafleet::test::runProcess(
                     openssl, otafleet::test::argList({"pkey", "-in", key, "-pubout", "-out",
                                                       path(name + QStringLiteral(".pub.pem"))}))
                     .exitCode,
                 0);
    }
    QVERIFY(sign(path(QStringLiteral("a.key.pem")), QStringLiteral("1.0.0"), 11,
                 path(QStringLiteral("v1.img"))));
    QVERIFY(sign(path(QStringLiteral("a.key.pem")), QStringLiteral("2.0.0"), 22,
                 path(QStringLiteral("v2.img"))));
    QVERIFY(sign(path(QStringLiteral("b.key.pem")), QStringLiteral("3.0.0"), 33,
                 path(QStringLiteral("other.img"))));
    QFile v2(path(QStringLiteral("v2.img")));
    QVERIFY(v2.open(QIODevice::ReadOnly));
    const QByteArray image = v2.readAll();
    QVERIFY(writeFile(path(QStringLiteral("truncated.img")), image.left(image.size() - 100)));
    QByteArray corrupted = image;
    corrupted[0x200 + 1000] = char(corrupted[0x200 + 1000] ^ 0x40);
    QVERIFY(writeFile(path(QStringLiteral("corrupted.img")), corrupted));
}

void TestMcuSim::init() {
    // Every test gets a blank device.
    m_deviceDir = path(QStringLiteral("device-%1").arg(++m_run));
}

void TestMcuSim::uploadTestResetConfirmOverPty() {
    McuSimProcess sim;
    QVERIFY2(sim.start(m_deviceDir, path(QStringLiteral("a.pub.pem")), {QStringLiteral("--pty")}),
             qPrintable(sim.error()));
    QVERIFY(sim.pty().startsWith(QStringLiteral("/dev/pts/")));

    const ProcessRun echo =
        mcu(QStringList{QStringLiteral("echo"), QStringLiteral("hi there")} + link(sim));
    QVERIFY2(echo.exitCode == 0, qPrintable(describe(echo)));
    QCOMPARE(echo.out.trimmed(), QByteArray("hi there"));

    const ProcessRun up =
        mcu(QStringList{QStringLiteral("upload"), path(QStringLiteral("v1.img")),
                        QStringLiteral("--key"), path(QStringLiteral("a.pub.pem")),
                        QStringLiteral("--confirm"), QStringLiteral("--json")} +
            link(sim));
    QVERIFY2(up.exitCode == 0, qPrintable(describe(up)));
    const QJsonObject report = json(up);
    QCOMPARE(report.value(QStringLiteral("state")).toString(), QStringLiteral("confirmed"));
    QCOMPARE(report.value(QStringLiteral("resumed_from")).toInteger(), 0);

    const ProcessRun info =
        mcu(QStringList{QStringLiteral("info"), QStringLiteral("--json")} + link(sim));
    QVERIFY2(info.exitCode == 0, qPrintable(describe(info)));
    const QJsonObject primary = slotOf(json(info), 0);
    QCOMPARE(primary.value(QStringLiteral("version")).toString(), QStringLiteral("1.0.0"));
    QCOMPARE(primary.value(QStringLiteral("hash")).toString(),
             report.value(QStringLiteral("hash")).toString());
    QVERIFY(primary.value(QStringLiteral("active")).toBool());
    QVERIFY(primary.value(QStringLiteral("confirmed")).toBool());
    QVERIFY(!primary.value(QStringLiteral("pending")).toBool());
    QVERIFY(!primary.value(QStringLiteral("permanent")).toBool());
    QCOMPARE(json(info).value(QStringLiteral("bootloader")).toString(), QStringLiteral("MCUboot"));

    // The slots live in the directory: a restarted device still runs 1.0.0, confirmed.
    sim.stop();
    McuSimProcess again;
    QVERIFY2(again.start(m_deviceDir, path(QStringLiteral("a.pub.pem")), {QStringLiteral("--pty")}),
             qPrintable(again.error()));
    const ProcessRun after =
        mcu(QStringList{QStringLiteral("info"), QStringLiteral("--json")} + link(again));
    QVERIFY2(after.exitCode == 0, qPrintable(describe(after)));
    QCOMPARE(slotOf(json(after), 0), primary);
}

void TestMcuSim::unconfirmedImageRevertsOverUdp() {
    McuSimProcess sim;
    QVERIFY2(sim.start(m_deviceDir, path(QStringLiteral("a.pub.pem")),
                       {QStringLiteral("--udp"), QStringLiteral("127.0.0.1:0")}),
             qPrintable(sim.error()));
    const QStringList key{QStringLiteral("--key"), path(QStringLiteral("a.pub.pem"))};
    ProcessRun run = mcu(QStringList{QStringLiteral("upload"), path(QStringLiteral("v1.img")),
                                     QStringLiteral("--confirm")} +
                         key + link(sim));
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));

    run = mcu(QStringList{QStringLiteral("upload"), path(QStringLiteral("v2.img")),
                          QStringLiteral("--test"), QStringLiteral("--json")} +
              key + link(sim));
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
    QCOMPARE(json(run).value(QStringLiteral("state")).toString(), QStringLiteral("testing"));
    const QJsonObject testing = slotOf(json(run), 0);
    QCOMPARE(testing.value(QStringLiteral("version")).toString(), QStringLiteral("2.0.0"));
    QVERIFY(testing.value(QStringLiteral("active")).toBool());
    QVERIFY(!testing.value(QStringLiteral("confirmed")).toBool());

    // Never confirmed: the next reset goes back to 1.0.0.
    run = mcu(QStringList{QStringLiteral("reset")} + link(sim));
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
    run = mcu(QStringList{QStringLiteral("info"), QStringLiteral("--json")} + link(sim));
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
    QCOMPARE(slotOf(json(run), 0).value(QStringLiteral("version")).toString(),
             QStringLiteral("1.0.0"));
    QVERIFY(slotOf(json(run), 0).value(QStringLiteral("confirmed")).toBool());
    QCOMPARE(slotOf(json(run), 1).value(QStringLiteral("version")).toString(),
             QStringLiteral("2.0.0"));
}

void TestMcuSim::testAndConfirmCommands() {
    McuSimProcess sim;
    QVERIFY2(sim.start(m_deviceDir, path(QStringLiteral("a.pub.pem")),
                       {QStringLiteral("--udp"), QStringLiteral("[::1]:0")}),
             qPrintable(sim.error()));
    QVERIFY(sim.udp().startsWith(QStringLiteral("[::1]:")));  // IPv6 works the same
    ProcessRun run = mcu(QStringList{QStringLiteral("upload"), path(QStringLiteral("v2.img")),
                                     QStringLiteral("--key"), path(QStringLiteral("a.pub.pem")),
                                     QStringLiteral("--json")} +
                         link(sim));
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
    const QString hash = json(run).value(QStringLiteral("hash")).toString();
    QCOMPARE(json(run).value(QStringLiteral("state")).toString(), QStringLiteral("uploaded"));

    run = mcu(QStringList{QStringLiteral("test"), hash, QStringLiteral("--json")} + link(sim));
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
    QVERIFY(slotOf(json(run), 1).value(QStringLiteral("pending")).toBool());
    QVERIFY(!slotOf(json(run), 1).value(QStringLiteral("permanent")).toBool());

    run = mcu(QStringList{QStringLiteral("reset")} + link(sim));
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
    run = mcu(QStringList{QStringLiteral("info"), QStringLiteral("--json")} + link(sim));
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
    QCOMPARE(slotOf(json(run), 0).value(QStringLiteral("hash")).toString(), hash);
    QVERIFY(!slotOf(json(run), 0).value(QStringLiteral("confirmed")).toBool());

    run = mcu(QStringList{QStringLiteral("confirm"), QStringLiteral("--json")} + link(sim));
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
    QVERIFY(slotOf(json(run), 0).value(QStringLiteral("confirmed")).toBool());

    // A hash the device does not hold, and a malformed one.
    run = mcu(QStringList{QStringLiteral("test"), QString(64, QLatin1Char('0'))} + link(sim));
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains("smp.image.hash-not-found"), qPrintable(describe(run)));
    run = mcu(QStringList{QStringLiteral("test"), QStringLiteral("xyz")} + link(sim));
    QCOMPARE(run.exitCode, 2);
}

void TestMcuSim::otherKeyRefusedByDeviceWithReason() {
    McuSimProcess sim;
    QVERIFY2(sim.start(m_deviceDir, path(QStringLiteral("a.pub.pem")), {QStringLiteral("--pty")}),
             qPrintable(sim.error()));
    // The console checks against key B, which signed it; the device trusts only key A.
    const ProcessRun run =
        mcu(QStringList{QStringLiteral("upload"), path(QStringLiteral("other.img")),
                        QStringLiteral("--key"), path(QStringLiteral("b.pub.pem")),
                        QStringLiteral("--json")} +
            link(sim));
    QCOMPARE(run.exitCode, 1);
    const QJsonObject error =
        json(run).isEmpty() ? QJsonDocument::fromJson(run.err).object() : json(run);
    const QString all = QString::fromUtf8(run.out + run.err);
    QVERIFY2(all.contains(QStringLiteral("smp.image.")), qPrintable(describe(run)));
    QVERIFY2(all.contains(QStringLiteral("mcuboot.key-mismatch")), qPrintable(describe(run)));
    Q_UNUSED(error);
    const ProcessRun info =
        mcu(QStringList{QStringLiteral("info"), QStringLiteral("--json")} + link(sim));
    QVERIFY(slotOf(json(info), 1).isEmpty());  // nothing bootable was kept
}

void TestMcuSim::badImagesRefusedByDevice_data() {
    QTest::addColumn<QString>("image");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("reason");
    QTest::addColumn<bool>("udp");
    QTest::newRow("truncated, pty")
        << QStringLiteral("truncated.img") << QStringLiteral("smp.image.invalid-image-header")
        << QStringLiteral("mcuboot.truncated") << false;
    QTest::newRow("corrupted, udp")
        << QStringLiteral("corrupted.img") << QStringLiteral("smp.image.invalid-hash")
        << QStringLiteral("mcuboot.hash-mismatch") << true;
}

void TestMcuSim::badImagesRefusedByDevice() {
    QFETCH(QString, image);
    QFETCH(QString, code);
    QFETCH(QString, reason);
    QFETCH(bool, udp);
    McuSimProcess sim;
    QVERIFY2(sim.start(m_deviceDir, path(QStringLiteral("a.pub.pem")),
                       udp ? QStringList{QStringLiteral("--udp"), QStringLiteral("127.0.0.1:0")}
                           : QStringList{QStringLiteral("--pty")}),
             qPrintable(sim.error()));
    // The client library straight, without the console's own check, so the device decides.
    std::unique_ptr<smp::SmpTransport> transport;
    if (udp) {
        const auto address = smp::parseHostPort(sim.udp());
        QVERIFY(address.has_value());
        transport = std::make_unique<smp::UdpTransport>(address->first, address->second);
    } else {
        transport = std::make_unique<smp::SerialTransport>(sim.pty(), 115200);
    }
    QVERIFY(transport->open().has_value());
    smp::SmpClient client(*transport);
    client.setTimeout(1000);
    smp::ImageUploader uploader(client);
    QSignalSpy failed(&uploader, &smp::ImageUploader::failed);
    QSignalSpy succeeded(&uploader, &smp::ImageUploader::succeeded);
    QFile file(path(image));
    QVERIFY(file.open(QIODevice::ReadOnly));
    uploader.start(file.readAll());
    QVERIFY(failed.wait(20'000));
    QCOMPARE(succeeded.count(), 0);
    const auto error = failed.first().first().value<Error>();
    QCOMPARE(error.code, code);
    QVERIFY2(error.message.contains(reason), qPrintable(error.toString()));
}

void TestMcuSim::consoleRefusesCorruptImageBeforeSending() {
    const ProcessRun run = mcu({QStringLiteral("upload"), path(QStringLiteral("corrupted.img")),
                                QStringLiteral("--key"), path(QStringLiteral("a.pub.pem")),
                                QStringLiteral("--udp"), QStringLiteral("127.0.0.1:9")});
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains("mcuboot.hash-mismatch"), qPrintable(describe(run)));
}

void TestMcuSim::linkDroppedMidUploadResumes() {
    const QString key = path(QStringLiteral("a.pub.pem"));
    {
        McuSimProcess sim;
        QVERIFY2(sim.start(m_deviceDir, key,
                           {QStringLiteral("--pty"), QStringLiteral("--drop-at"),
                            QStringLiteral("20000")}),
                 qPrintable(sim.error()));
        const ProcessRun run =
            mcu(QStringList{QStringLiteral("upload"), path(QStringLiteral("v1.img")),
                            QStringLiteral("--key"), key} +
                link(sim));
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains("smp.timeout") || run.err.contains("smp.link-lost"),
                 qPrintable(describe(run)));
        QCOMPARE(sim.waitForExit(5000), 3);  // the simulator was "unplugged"
    }
    McuSimProcess sim;
    QVERIFY2(sim.start(m_deviceDir, key, {QStringLiteral("--pty")}), qPrintable(sim.error()));
    const ProcessRun run = mcu(QStringList{QStringLiteral("upload"), path(QStringLiteral("v1.img")),
                                           QStringLiteral("--key"), key, QStringLiteral("--json")} +
                               link(sim));
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
    const qint64 resumed = json(run).value(QStringLiteral("resumed_from")).toInteger();
    QVERIFY2(resumed >= 20000 && resumed < json(run).value(QStringLiteral("bytes")).toInteger(),
             qPrintable(describe(run)));
    const ProcessRun info =
        mcu(QStringList{QStringLiteral("info"), QStringLiteral("--json")} + link(sim));
    QCOMPARE(slotOf(json(info), 1).value(QStringLiteral("hash")).toString(),
             json(run).value(QStringLiteral("hash")).toString());
}

void TestMcuSim::resetMidUploadResumesInTheSameRun() {
    McuSimProcess sim;
    QVERIFY2(sim.start(m_deviceDir, path(QStringLiteral("a.pub.pem")),
                       {QStringLiteral("--udp"), QStringLiteral("127.0.0.1:0"),
                        QStringLiteral("--reset-at"), QStringLiteral("30000")}),
             qPrintable(sim.error()));
    const ProcessRun run = mcu(
        QStringList{QStringLiteral("upload"), path(QStringLiteral("v1.img")),
                    QStringLiteral("--key"), path(QStringLiteral("a.pub.pem")),
                    QStringLiteral("--in-flight"), QStringLiteral("4"), QStringLiteral("--json")} +
        link(sim));
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
    QCOMPARE(json(run).value(QStringLiteral("in_flight")).toInt(), 4);
    const ProcessRun info =
        mcu(QStringList{QStringLiteral("info"), QStringLiteral("--json")} + link(sim));
    QCOMPARE(slotOf(json(info), 1).value(QStringLiteral("version")).toString(),
             QStringLiteral("1.0.0"));
}

void TestMcuSim::bleWithoutRadioFailsClearly() {
    const ProcessRun run =
        mcu({QStringLiteral("info"), QStringLiteral("--ble"), QStringLiteral("C0:FF:EE:00:00:01")});
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains("ble.no-adapter"), qPrintable(describe(run)));  // no radio here
    const ProcessRun usage = mcu({QStringLiteral("info")});
    QCOMPARE(usage.exitCode, 2);
}

QTEST_GUILESS_MAIN(TestMcuSim)
#include "tst_mcusim.moc"
