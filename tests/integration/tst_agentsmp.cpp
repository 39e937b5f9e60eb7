// otafleet-agent answering SMP over a serial line (issue 10): a real agent with [smp] serial = pty,
// driven over its real pseudo-terminal by the real otafleetctl mcu commands and by a station run
// that also flashes a real otafleet-mcusim unit. Slots are checked through the agent's gRPC
// GetInfo too, and a refused bundle must leave the slot files and boot state byte-identical.
#include "AgentTestBase.h"
#include "CliRun.h"
#include "McuSimProcess.h"

#include "bundle/Bundle.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

using otafleet::test::ctl;
using otafleet::test::McuSimProcess;
using otafleet::test::ProcessRun;

namespace {

QString describe(const ProcessRun& run) {
    return QStringLiteral("exit %1\nstdout: %2\nstderr: %3")
        .arg(run.exitCode)
        .arg(QString::fromUtf8(run.out), QString::fromUtf8(run.err));
}

// The "images" of `mcu info --json`, by slot.
QMap<int, QJsonObject> imagesBySlot(const QJsonObject& report) {
    QMap<int, QJsonObject> slots;
    for (const QJsonValue& value : report.value(QStringLiteral("images")).toArray()) {
        slots.insert(value.toObject().value(QStringLiteral("slot")).toInt(), value.toObject());
    }
    return slots;
}

}  // namespace

class TestAgentSmp : public agenttest::AgentTestBase {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void infoMatchesTheAgentsSlots();
    void refusedBundlesLeaveTheSlots_data();
    void refusedBundlesLeaveTheSlots();
    void uploadTestResetConfirm();
    void interruptedUploadResumes();
    void stationFlashesAgentAndMcu();

private:
    [[nodiscard]] AgentInfo info() {
        auto client = clientFor(*m_agent);
        if (!client) {
            return {};
        }
        auto got = client->info();
        return got ? *got : AgentInfo{};
    }
    [[nodiscard]] ProcessRun mcu(const QStringList& args) {
        return test::otafleetctl(QStringList{QStringLiteral("mcu")} + args +
                                 QStringList{QStringLiteral("--port"), m_pty});
    }

    std::unique_ptr<AgentProcess> m_agent;
    QString m_pty;
};

void TestAgentSmp::initTestCase() {
    setUpFleets();
    m_agent = newAgent(QStringLiteral("\n[smp]\nserial = pty\nbaud = 0\n"));
    QVERIFY(m_agent);
    static const QRegularExpression line(QStringLiteral("otafleet-agent: smp pty (\\S+)"));
    const auto match = line.match(QString::fromUtf8(m_agent->output()));
    QVERIFY2(match.hasMatch(), m_agent->output().constData());
    m_pty = match.captured(1);
    QVERIFY(QFile::exists(m_pty));
}

void TestAgentSmp::infoMatchesTheAgentsSlots() {
    const ProcessRun run = mcu({QStringLiteral("info"), QStringLiteral("--json")});
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
    const QJsonObject report = QJsonDocument::fromJson(run.out).object();
    QCOMPARE(report.value(QStringLiteral("bootloader")).toString(),
             QStringLiteral("otafleet-agent"));
    QCOMPARE(report.value(QStringLiteral("buf_size")).toInt(), 4096);
    const auto slots = imagesBySlot(report);
    const AgentInfo agent = info();
    QCOMPARE(agent.activeSlot, QStringLiteral("A"));
    const QJsonObject running = slots.value(0);
    QCOMPARE(running.value(QStringLiteral("version")).toString(), QStringLiteral("1.0.0"));
    // The payload's SHA-256 as installed, from the factory bundle's signed manifest.
    const auto factory =
        bundle::BundleReader::open(QDir(m_agent->dir()).filePath(QStringLiteral("factory.otab")));
    VERIFY_OK(factory);
    QCOMPARE(running.value(QStringLiteral("hash")).toString(),
             QString::fromLatin1(factory->manifest().payloads.first().targetSha256.toHex()));
    QCOMPARE(agent.slots.size(), 2);
    QCOMPARE(running.value(QStringLiteral("version")).toString(), agent.slots.at(0).version);
    QVERIFY(running.value(QStringLiteral("active")).toBool());
    QVERIFY(running.value(QStringLiteral("confirmed")).toBool());
    QVERIFY(!running.value(QStringLiteral("pending")).toBool());
    // Slot B holds nothing yet: no second image.
    QVERIFY2(!slots.contains(1), run.out.constData());
}

void TestAgentSmp::refusedBundlesLeaveTheSlots_data() {
    QTest::addColumn<QString>("version");
    QTest::addColumn<quint64>("securityVersion");
    QTest::addColumn<QString>("hardware");
    QTest::addColumn<bool>("foreignSigner");
    QTest::addColumn<QString>("code");     // the agent's code, in the device's reason
    QTest::addColumn<QString>("smpCode");  // the SMP image group code
    QTest::newRow("signed by another fleet")
        << "1.5.0" << quint64(1) << "rev-a" << true << "crypto.untrusted-signer"
        << "smp.image.unknown";
    QTest::newRow("downgrade") << "0.9.0" << quint64(0) << "rev-a" << false << "bundle.rollback"
                               << "smp.image.current-version-is-newer";
    QTest::newRow("other hardware")
        << "1.5.0" << quint64(1) << "rev-z" << false << "bundle.wrong-hardware"
        << "smp.image.unknown";
}

void TestAgentSmp::refusedBundlesLeaveTheSlots() {
    QFETCH(QString, version);
    QFETCH(quint64, securityVersion);
    QFETCH(QString, hardware);
    QFETCH(bool, foreignSigner);
    QFETCH(QString, code);
    QFETCH(QString, smpCode);
    agenttest::BundleSpec spec;
    spec.version = version;
    spec.securityVersion = securityVersion;
    spec.hardware = hardware;
    spec.payloadSize = 64 * 1024;
    const TestPki& signer = foreignSigner ? *m_otherPki : *m_pki;
    const auto bundle = makeBundle(spec, signer);
    VERIFY_OK(bundle);
    const auto before = agenttest::deviceFiles(m_agent->dir());
    // The station side trusts the signer (its own --pki); the agent must still refuse.
    const ProcessRun run = mcu({QStringLiteral("upload"), *bundle, QStringLiteral("--pki"),
                                signer.pkiDir, QStringLiteral("--confirm")});
    QVERIFY2(run.exitCode == 1, qPrintable(describe(run)));
    QVERIFY2(run.err.contains(code.toUtf8()), qPrintable(describe(run)));
    QVERIFY2(run.err.contains(smpCode.toUtf8()), qPrintable(describe(run)));
    QCOMPARE(agenttest::deviceFiles(m_agent->dir()), before);
    const AgentInfo agent = info();
    QCOMPARE(agent.activeSlot, QStringLiteral("A"));
    QCOMPARE(agent.state, QStringLiteral("idle"));
}

void TestAgentSmp::uploadTestResetConfirm() {
    agenttest::BundleSpec spec;
    spec.version = QStringLiteral("1.1.0");
    spec.securityVersion = 2;
    const auto bundle = makeBundle(spec, *m_pki);
    VERIFY_OK(bundle);
    const qint64 pid = m_agent->pid();
    const quint64 boots = info().bootCount;
    const ProcessRun run =
        mcu({QStringLiteral("upload"), *bundle, QStringLiteral("--pki"), m_pki->pkiDir,
             QStringLiteral("--confirm"), QStringLiteral("--json")});
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
    const QJsonObject report = QJsonDocument::fromJson(run.out).object();
    QCOMPARE(report.value(QStringLiteral("state")).toString(), QStringLiteral("confirmed"));
    QCOMPARE(report.value(QStringLiteral("format")).toString(), QStringLiteral("otab"));
    const QJsonObject running = imagesBySlot(report).value(0);
    QCOMPARE(running.value(QStringLiteral("version")).toString(), QStringLiteral("1.1.0"));
    QVERIFY(running.value(QStringLiteral("confirmed")).toBool());

    // The agent rebooted through its own path (same process, re-executed), kept its pty, and
    // runs the new version committed.
    const AgentInfo agent = info();
    QCOMPARE(m_agent->pid(), pid);
    QVERIFY(agent.bootCount > boots);
    QCOMPARE(agent.activeSlot, QStringLiteral("B"));
    QVERIFY(!agent.trial);
    QCOMPARE(agent.state, QStringLiteral("idle"));
    QCOMPARE(agent.storedSecurityVersion, quint64(2));
    QCOMPARE(agent.slots.size(), 2);
    QCOMPARE(agent.slots.at(1).version, QStringLiteral("1.1.0"));
    QString payload = *bundle;
    payload.replace(QStringLiteral(".otab"), QStringLiteral(".bin"));
    QCOMPARE(report.value(QStringLiteral("hash")).toString(),
             QString::fromLatin1(crypto::Sha256::hash(test::readAll(payload)).toHex()));
}

void TestAgentSmp::interruptedUploadResumes() {
    agenttest::BundleSpec spec;
    spec.version = QStringLiteral("1.2.0");
    spec.securityVersion = 2;
    spec.payloadSize = 8 * 1024 * 1024;
    const auto bundle = makeBundle(spec, *m_pki);
    VERIFY_OK(bundle);
    const QString staged =
        QDir(m_agent->dir()).filePath(QStringLiteral("incoming/smp-upload.part"));
    QProcess client;
    client.start(QStringLiteral(OTAFLEET_BIN_DIR "/otafleetctl"),
                 {QStringLiteral("mcu"), QStringLiteral("upload"), *bundle, QStringLiteral("--pki"),
                  m_pki->pkiDir, QStringLiteral("--in-flight"), QStringLiteral("1"),
                  QStringLiteral("--port"), m_pty});
    QVERIFY(client.waitForStarted());
    constexpr qint64 kCutAt = 256 * 1024;
    QElapsedTimer clock;
    clock.start();
    while (QFileInfo(staged).size() < kCutAt && clock.elapsed() < 30000 &&
           client.state() == QProcess::Running) {
        QTest::qWait(1);
    }
    // gRPC serves while the serial line is busy: SMP runs on a thread of its own.
    const AgentInfo during = info();
    QVERIFY(client.state() == QProcess::Running);
    QCOMPARE(during.activeSlot, QStringLiteral("B"));
    client.kill();  // the cable is pulled mid-upload
    client.waitForFinished();
    const qint64 received = QFileInfo(staged).size();
    QVERIFY2(received >= kCutAt, qPrintable(QString::fromUtf8(client.readAllStandardError())));
    QVERIFY2(received < QFileInfo(*bundle).size(), "the upload finished before it was cut");

    const ProcessRun run = mcu({QStringLiteral("upload"), *bundle, QStringLiteral("--pki"),
                                m_pki->pkiDir, QStringLiteral("--json")});
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
    const QJsonObject report = QJsonDocument::fromJson(run.out).object();
    QVERIFY2(report.value(QStringLiteral("resumed_from")).toInteger() >= kCutAt,
             run.out.constData());
    // Uploaded, not installed: slot 1 shows the staged bundle, the slots are untouched.
    const ProcessRun state = mcu({QStringLiteral("info"), QStringLiteral("--json")});
    QVERIFY2(state.exitCode == 0, qPrintable(describe(state)));
    const QJsonObject second = imagesBySlot(QJsonDocument::fromJson(state.out).object()).value(1);
    QCOMPARE(second.value(QStringLiteral("version")).toString(), QStringLiteral("1.2.0"));
    QCOMPARE(second.value(QStringLiteral("hash")).toString(),
             report.value(QStringLiteral("hash")).toString());
    QVERIFY(!second.value(QStringLiteral("bootable")).toBool());
    const AgentInfo after = info();
    QCOMPARE(after.state, QStringLiteral("idle"));
    QCOMPARE(after.activeSlot, QStringLiteral("B"));
}

void TestAgentSmp::stationFlashesAgentAndMcu() {
    // An MCU unit beside the agent: otafleet-mcusim with an image signed by the same release key.
    const QString fw = m_tmp.filePath(QStringLiteral("fw.bin"));
    QFile firmware(fw);
    QVERIFY(firmware.open(QIODevice::WriteOnly));
    firmware.write(QByteArray(16 * 1024, '\x5a'));
    firmware.close();
    const QString image = m_tmp.filePath(QStringLiteral("image.bin"));
    const ProcessRun sign = ctl({"mcuboot", "sign", fw, "--pki", m_pki->pkiDir, "--signer",
                                 "release", "--version", "3.0.0", "--header-size", "0x200",
                                 "--slot-size", "0x20000", "--pad-header", "-o", image});
    QVERIFY2(sign.exitCode == 0, qPrintable(describe(sign)));
    const auto release = m_pki->pki.publicKeyPem(QStringLiteral("release"));
    QVERIFY(release);
    const QString key = m_tmp.filePath(QStringLiteral("release.pub.pem"));
    QFile keyFile(key);
    QVERIFY(keyFile.open(QIODevice::WriteOnly));
    keyFile.write(*release);
    keyFile.close();
    McuSimProcess sim;
    QVERIFY2(
        sim.start(m_tmp.filePath(QStringLiteral("mcu-unit")), key,
                  {QStringLiteral("--pty"), QStringLiteral("--serial"), QStringLiteral("SN-MCU-1"),
                   QStringLiteral("--slot-size"), QStringLiteral("131072")}),
        qPrintable(sim.error()));
    const QDir line(m_tmp.filePath(QStringLiteral("line")));
    QVERIFY(line.mkpath(QStringLiteral(".")));
    QVERIFY(QFile::link(sim.pty(), line.filePath(QStringLiteral("unit-mcu"))));
    QVERIFY(QFile::link(m_pty, line.filePath(QStringLiteral("unit-agent"))));

    agenttest::BundleSpec spec;
    spec.version = QStringLiteral("1.3.0");
    spec.securityVersion = 2;
    const auto bundle = makeBundle(spec, *m_pki);
    VERIFY_OK(bundle);
    const ProcessRun run = ctl(
        {"station",      "run",         "--ports",    line.filePath(QStringLiteral("unit-*")),
         "--image",      image,         "--bundle",   *bundle,
         "--pki",        m_pki->pkiDir, "--operator", "Grace Hopper",
         "--station-id", "mixed-line",  "--db",       m_tmp.filePath(QStringLiteral("trace.db")),
         "--units",      "2",           "--timeout",  "60s",
         "--json"});
    QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
    const QJsonObject report = QJsonDocument::fromJson(run.out).object();
    QCOMPARE(report.value(QStringLiteral("bundle_version")).toString(), QStringLiteral("1.3.0"));
    const AgentInfo agent = info();
    QMap<QString, QJsonObject> bySerial;
    for (const QJsonValue& value : report.value(QStringLiteral("records")).toArray()) {
        const QJsonObject record = value.toObject();
        QCOMPARE(record.value(QStringLiteral("result")).toString(), QStringLiteral("pass"));
        bySerial.insert(record.value(QStringLiteral("serial_number")).toString(), record);
    }
    QCOMPARE(bySerial.size(), 2);
    QCOMPARE(bySerial.value(QStringLiteral("SN-MCU-1")).value(QStringLiteral("image_version")),
             QJsonValue(QStringLiteral("3.0.0+0")));
    const QJsonObject agentRecord = bySerial.value(agent.deviceId);
    QCOMPARE(agentRecord.value(QStringLiteral("image_version")).toString(),
             QStringLiteral("1.3.0"));
    QCOMPARE(agentRecord.value(QStringLiteral("image_hash")).toString(),
             report.value(QStringLiteral("bundle_hash")).toString());
    // The agent runs the new release, committed.
    QCOMPARE(agent.activeSlot, QStringLiteral("A"));
    QVERIFY(!agent.trial);
    QCOMPARE(agent.slots.size(), 2);
    QCOMPARE(agent.slots.at(0).version, QStringLiteral("1.3.0"));

    // An MCUboot image sent to the agent directly is refused at its first chunk.
    const ProcessRun wrong = mcu({QStringLiteral("upload"), image, QStringLiteral("--key"), key});
    QVERIFY2(wrong.exitCode == 1, qPrintable(describe(wrong)));
    QVERIFY2(wrong.err.contains("smp.image.invalid-image-header-magic"),
             qPrintable(describe(wrong)));
}

QTEST_GUILESS_MAIN(TestAgentSmp)
#include "tst_agentsmp.moc"
