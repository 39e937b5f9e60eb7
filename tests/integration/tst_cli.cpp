// The whole update path through the otafleetctl binary, as scripts use it (DESIGN.md section 10):
// pki init on a real SoftHSM2 token, bundle create/sign/verify/inspect, the openssl CLI accepting
// the signature, and device info/push/commit/rollback against a real agent on loopback.
#include "AgentProcess.h"
#include "ProcessRun.h"
#include "SoftHsmEnvironment.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;

namespace {

using Run = test::ProcessRun;

const char* const kPinEnv = "OTAFLEET_CLI_TEST_PIN";
const char* const kSoPinEnv = "OTAFLEET_CLI_TEST_SO_PIN";

Run run(const QString& program, const QStringList& args) {
    return test::runProcess(program, args);
}

Run ctl(const QStringList& args) {
    return run(QStringLiteral(OTAFLEET_BIN_DIR "/otafleetctl"), args);
}

// A firmware-like image: a header naming the version, then reproducible pseudo-random blocks.
void writeFirmware(const QString& path, const QByteArray& version, qint64 size) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    QByteArray data = "OTAFLEET-TEST-FIRMWARE " + version + '\n';
    QRandomGenerator rng(qHash(version));
    while (data.size() < size) {
        const quint32 word = rng.generate();
        data.append(reinterpret_cast<const char*>(&word), sizeof word);
    }
    data.truncate(size);
    QCOMPARE(f.write(data), size);
}

QJsonObject json(const Run& r) {
    return QJsonDocument::fromJson(r.out).object();
}

QString slotVersion(const QJsonObject& info, const QString& slot) {
    for (const auto& s : info.value(QStringLiteral("slots")).toArray()) {
        if (s.toObject().value(QStringLiteral("name")).toString() == slot) {
            return s.toObject().value(QStringLiteral("version")).toString();
        }
    }
    return {};
}

}  // namespace

class TestCli : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void helpForEveryCommand_data();
    void helpForEveryCommand();
    void badInputIsAUsageError();
    void signVerifyInspect();
    void pushCommitRollback();
    // After pushCommitRollback, so the device's stored security version (4) is above zero.
    void refusedBundlesHaveDistinctCodes_data();
    void refusedBundlesHaveDistinctCodes();
    // Last: it leaves the device without bootable firmware.
    void tamperedSlotNeverFallsBackBelowSecurityVersion();

private:
    QTemporaryDir m_tmp;
    std::unique_ptr<test::SoftHsmEnvironment> m_hsm;
    std::unique_ptr<test::AgentProcess> m_agent;
    QString m_pki;
    QString path(const QString& name) const { return m_tmp.filePath(name); }
    QString makeBundle(const QString& name, const QByteArray& version, int securityVersion,
                       const QString& hardware = QStringLiteral("rev-a"),
                       const QString& expires = {});
};

void TestCli::initTestCase() {
    QVERIFY(m_tmp.isValid());
    m_hsm = std::make_unique<test::SoftHsmEnvironment>(m_tmp.filePath(QStringLiteral("softhsm")));
    qputenv(kPinEnv, "4321");
    qputenv(kSoPinEnv, "87654321");
    m_pki = path(QStringLiteral("pki"));
    const Run init = ctl({QStringLiteral("pki"), QStringLiteral("init"), QStringLiteral("--dir"),
                          m_pki, QStringLiteral("--pkcs11-module"), m_hsm->modulePath(),
                          QStringLiteral("--token-label"), QStringLiteral("cli-test"),
                          QStringLiteral("--init-token"), QStringLiteral("--pin-env"),
                          QString::fromLatin1(kPinEnv), QStringLiteral("--so-pin-env"),
                          QString::fromLatin1(kSoPinEnv)});
    QVERIFY2(init.exitCode == 0, init.err.constData());
    QVERIFY(QFile::exists(m_pki + QStringLiteral("/root-ca.pem")));
    QVERIFY2(!QDir(m_pki + QStringLiteral("/keys")).exists(), "token keys must not be files");

    auto agent = test::AgentProcess::setUp(
        QStringLiteral(OTAFLEET_BIN_DIR), path(QStringLiteral("agent")), m_pki,
        QStringLiteral("bench-1"), QStringLiteral("rev-a"), QString::fromLatin1(kPinEnv));
    QVERIFY2(agent.has_value(), agent ? "" : qPrintable(agent.error().toString()));
    m_agent = std::move(*agent);
    const auto started = m_agent->start();
    QVERIFY2(started.has_value(), started ? "" : qPrintable(started.error().toString()));
}

QString TestCli::makeBundle(const QString& name, const QByteArray& version, int securityVersion,
                            const QString& hardware, const QString& expires) {
    const QString payload = path(name + QStringLiteral(".img"));
    writeFirmware(payload, version, 3 * 1024 * 1024 + 123);
    const QString out = path(name + QStringLiteral(".otab"));
    QStringList args{QStringLiteral("bundle"),
                     QStringLiteral("create"),
                     QStringLiteral("--payload"),
                     QStringLiteral("rootfs=") + payload,
                     QStringLiteral("--version"),
                     QString::fromLatin1(version),
                     QStringLiteral("--hardware"),
                     hardware,
                     QStringLiteral("--security-version"),
                     QString::number(securityVersion),
                     QStringLiteral("-o"),
                     out};
    if (!expires.isEmpty()) {
        args << QStringLiteral("--created") << QStringLiteral("2019-06-01T00:00:00Z")
             << QStringLiteral("--expires") << expires;
    }
    const Run create = ctl(args);
    if (create.exitCode != 0) {
        qWarning("%s", create.err.constData());
        return {};
    }
    const Run sign =
        ctl({QStringLiteral("bundle"), QStringLiteral("sign"), out, QStringLiteral("--pki"), m_pki,
             QStringLiteral("--pin-env"), QString::fromLatin1(kPinEnv)});
    if (sign.exitCode != 0) {
        qWarning("%s", sign.err.constData());
        return {};
    }
    return out;
}

void TestCli::helpForEveryCommand_data() {
    QTest::addColumn<QStringList>("args");
    for (const char* cmd :
         {"pki init", "bundle create", "bundle sign", "bundle verify", "bundle inspect",
          "device info", "device push", "device commit", "device rollback", "device reboot"}) {
        QTest::newRow(cmd) << QString::fromLatin1(cmd).split(QLatin1Char(' '));
    }
}

void TestCli::helpForEveryCommand() {
    QFETCH(QStringList, args);
    const Run r = ctl(args << QStringLiteral("--help"));
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("Usage:"));
    QVERIFY(r.out.contains("--"));
}

void TestCli::badInputIsAUsageError() {
    QCOMPARE(ctl({QStringLiteral("bundle"), QStringLiteral("frobnicate")}).exitCode, 2);
    QCOMPARE(ctl({QStringLiteral("bundle"), QStringLiteral("create"), QStringLiteral("--bogus")})
                 .exitCode,
             2);
    const Run noTarget =
        ctl({QStringLiteral("device"), QStringLiteral("info"), QStringLiteral("--pki"), m_pki});
    QCOMPARE(noTarget.exitCode, 2);
    QVERIFY(noTarget.err.contains("--target"));
    const Run missing = ctl(
        {QStringLiteral("bundle"), QStringLiteral("inspect"), path(QStringLiteral("nope.otab"))});
    QCOMPARE(missing.exitCode, 1);
    QVERIFY(missing.err.contains("[io.read-failed]"));
}

void TestCli::signVerifyInspect() {
    const QString bundle = makeBundle(QStringLiteral("fw-110"), "1.1.0", 2);
    QVERIFY(!bundle.isEmpty());
    const Run verify = ctl({QStringLiteral("bundle"), QStringLiteral("verify"), bundle,
                            QStringLiteral("--pki"), m_pki, QStringLiteral("--hardware"),
                            QStringLiteral("rev-a"), QStringLiteral("--json")});
    QVERIFY2(verify.exitCode == 0, verify.err.constData());
    QCOMPARE(json(verify).value(QStringLiteral("valid")).toBool(), true);
    QCOMPARE(json(verify).value(QStringLiteral("version")).toString(), QStringLiteral("1.1.0"));

    const QString manifest = path(QStringLiteral("manifest.json"));
    const QString signature = path(QStringLiteral("manifest.sig"));
    const Run inspect = ctl({QStringLiteral("bundle"), QStringLiteral("inspect"), bundle,
                             QStringLiteral("--json"), QStringLiteral("--extract-manifest"),
                             manifest, QStringLiteral("--extract-signature"), signature});
    QVERIFY2(inspect.exitCode == 0, inspect.err.constData());
    const QJsonObject m = json(inspect).value(QStringLiteral("manifest")).toObject();
    QCOMPARE(m.value(QStringLiteral("version")).toString(), QStringLiteral("1.1.0"));
    QCOMPARE(m.value(QStringLiteral("security_version")).toInt(), 2);
    // Freeze protection by default: a year unless the release manager says otherwise.
    const QDateTime created =
        QDateTime::fromString(m.value(QStringLiteral("created")).toString(), Qt::ISODate);
    const QDateTime expires =
        QDateTime::fromString(m.value(QStringLiteral("expires")).toString(), Qt::ISODate);
    QVERIFY(expires.isValid());
    QCOMPARE(created.daysTo(expires), 365);

    // The contract: OpenSSL's own CMS verifier accepts what otafleetctl signed.
    const Run openssl =
        run(QStringLiteral("openssl"),
            {QStringLiteral("cms"), QStringLiteral("-verify"), QStringLiteral("-binary"),
             QStringLiteral("-inform"), QStringLiteral("DER"), QStringLiteral("-in"), signature,
             QStringLiteral("-content"), manifest, QStringLiteral("-CAfile"),
             m_pki + QStringLiteral("/root-ca.pem"), QStringLiteral("-purpose"),
             QStringLiteral("any"), QStringLiteral("-out"), QStringLiteral("/dev/null")});
    QVERIFY2(openssl.exitCode == 0, openssl.err.constData());
}

void TestCli::refusedBundlesHaveDistinctCodes_data() {
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("code");
    QTest::newRow("untrusted signer") << "untrusted"
                                      << "crypto.untrusted-signer";
    QTest::newRow("payload bit flip") << "bitflip"
                                      << "bundle.payload-corrupted";
    QTest::newRow("truncated") << "truncated"
                               << "bundle.truncated";
    QTest::newRow("lower security version") << "rollback"
                                            << "bundle.rollback";
    QTest::newRow("expired manifest") << "expired"
                                      << "bundle.expired";
    QTest::newRow("other hardware") << "hardware"
                                    << "bundle.wrong-hardware";
}

void TestCli::refusedBundlesHaveDistinctCodes() {
    QFETCH(QString, kind);
    QFETCH(QString, code);
    QString bundle;
    QString pki = m_pki;
    if (kind == QLatin1String("untrusted")) {
        // Signed by a second, unrelated PKI (PEM keys): the device's root does not know it.
        const QString other = path(QStringLiteral("other-pki"));
        if (!QFile::exists(other + QStringLiteral("/root-ca.pem"))) {
            QCOMPARE(
                ctl({QStringLiteral("pki"), QStringLiteral("init"), QStringLiteral("--dir"), other})
                    .exitCode,
                0);
        }
        const QString payload = path(QStringLiteral("u.img"));
        writeFirmware(payload, "6.6.6", 4096);
        bundle = path(QStringLiteral("untrusted.otab"));
        QCOMPARE(
            ctl({QStringLiteral("bundle"), QStringLiteral("create"), QStringLiteral("--payload"),
                 QStringLiteral("rootfs=") + payload, QStringLiteral("--version"),
                 QStringLiteral("6.6.6"), QStringLiteral("--hardware"), QStringLiteral("rev-a"),
                 QStringLiteral("--security-version"), QStringLiteral("9"), QStringLiteral("-o"),
                 bundle})
                .exitCode,
            0);
        QCOMPARE(ctl({QStringLiteral("bundle"), QStringLiteral("sign"), bundle,
                      QStringLiteral("--pki"), other})
                     .exitCode,
                 0);
    } else if (kind == QLatin1String("rollback")) {
        bundle = makeBundle(QStringLiteral("old"), "0.9.0", 1);
    } else if (kind == QLatin1String("expired")) {
        bundle = makeBundle(QStringLiteral("expired"), "9.0.0", 9, QStringLiteral("rev-a"),
                            QStringLiteral("2020-01-01T00:00:00Z"));
    } else if (kind == QLatin1String("hardware")) {
        bundle = makeBundle(QStringLiteral("otherhw"), "9.0.0", 9, QStringLiteral("rev-z"));
    } else {
        bundle = makeBundle(kind, "9.0.0", 9);
        QFile f(bundle);
        QVERIFY(f.open(QIODevice::ReadWrite));
        if (kind == QLatin1String("bitflip")) {
            QVERIFY(f.seek(f.size() - 1000));
            char c = 0;
            QVERIFY(f.getChar(&c));
            QVERIFY(f.seek(f.size() - 1000));
            QVERIFY(f.putChar(static_cast<char>(c ^ 0x10)));
        } else {
            QVERIFY(f.resize(f.size() - 4096));
        }
    }
    QVERIFY(!bundle.isEmpty());
    const Run verify = ctl({QStringLiteral("bundle"), QStringLiteral("verify"), bundle,
                            QStringLiteral("--pki"), pki, QStringLiteral("--hardware"),
                            QStringLiteral("rev-a"), QStringLiteral("--min-security-version"),
                            QStringLiteral("2"), QStringLiteral("--json")});
    QCOMPARE(verify.exitCode, 1);
    QCOMPARE(json(verify)
                 .value(QStringLiteral("error"))
                 .toObject()
                 .value(QStringLiteral("code"))
                 .toString(),
             code);

    // The device refuses it too, with the same code, and its slots stay as they were.
    const QStringList device{QStringLiteral("--target"), m_agent->target(), QStringLiteral("--pki"),
                             m_pki};
    const Run before = ctl(
        QStringList{QStringLiteral("device"), QStringLiteral("info"), QStringLiteral("--json")} +
        device);
    QCOMPARE(before.exitCode, 0);
    const Run push =
        ctl(QStringList{QStringLiteral("device"), QStringLiteral("push"), bundle} + device);
    QCOMPARE(push.exitCode, 1);
    QVERIFY2(push.err.contains(QStringLiteral("[%1]").arg(code).toUtf8()), push.err.constData());
    const Run after = ctl(
        QStringList{QStringLiteral("device"), QStringLiteral("info"), QStringLiteral("--json")} +
        device);
    QCOMPARE(json(after).value(QStringLiteral("slots")),
             json(before).value(QStringLiteral("slots")));
    QCOMPARE(json(after).value(QStringLiteral("active_slot")),
             json(before).value(QStringLiteral("active_slot")));
}

void TestCli::pushCommitRollback() {
    const QStringList device{QStringLiteral("--target"), m_agent->target(), QStringLiteral("--pki"),
                             m_pki, QStringLiteral("--json")};
    const Run info = ctl(QStringList{QStringLiteral("device"), QStringLiteral("info")} + device);
    QVERIFY2(info.exitCode == 0, info.err.constData());
    const QJsonObject before = json(info);
    const QString startSlot = before.value(QStringLiteral("active_slot")).toString();
    QVERIFY(startSlot == QLatin1String("A") || startSlot == QLatin1String("B"));
    QCOMPARE(before.value(QStringLiteral("trial")).toBool(), false);
    QCOMPARE(before.value(QStringLiteral("slots")).toArray().size(), 2);
    const QString otherSlot =
        startSlot == QLatin1String("A") ? QStringLiteral("B") : QStringLiteral("A");

    // All the way: transfer, install, reboot, health check, commit. Same security version as
    // the factory image, so rolling back to it stays allowed.
    const qint64 factorySecurity =
        before.value(QStringLiteral("stored_security_version")).toInteger();
    const QString v2 =
        makeBundle(QStringLiteral("fw-200"), "2.0.0", static_cast<int>(factorySecurity));
    const Run push =
        ctl(QStringList{QStringLiteral("device"), QStringLiteral("push"), v2} + device);
    QVERIFY2(push.exitCode == 0, push.err.constData());
    const QJsonObject pushed = json(push);
    QCOMPARE(pushed.value(QStringLiteral("active_slot")).toString(), otherSlot);
    QCOMPARE(pushed.value(QStringLiteral("trial")).toBool(), false);
    QCOMPARE(slotVersion(pushed, otherSlot), QStringLiteral("2.0.0"));

    // Roll back returns to the other slot, which still holds the previous firmware.
    const Run back =
        ctl(QStringList{QStringLiteral("device"), QStringLiteral("rollback")} + device);
    QVERIFY2(back.exitCode == 0, back.err.constData());
    QCOMPARE(json(back).value(QStringLiteral("active_slot")).toString(), startSlot);
    // Exactly one reboot: the rollback itself, not a second one on top.
    QCOMPARE(json(back).value(QStringLiteral("boot_count")).toInteger(),
             pushed.value(QStringLiteral("boot_count")).toInteger() + 1);

    // Stepping through: stop on trial, then commit by hand.
    const QString v3 = makeBundle(QStringLiteral("fw-210"), "2.1.0", 4);
    const Run trial = ctl(QStringList{QStringLiteral("device"), QStringLiteral("push"), v3,
                                      QStringLiteral("--no-commit")} +
                          device);
    QVERIFY2(trial.exitCode == 0, trial.err.constData());
    QCOMPARE(json(trial).value(QStringLiteral("trial")).toBool(), true);
    const Run commit =
        ctl(QStringList{QStringLiteral("device"), QStringLiteral("commit")} + device);
    QVERIFY2(commit.exitCode == 0, commit.err.constData());
    QCOMPARE(json(commit).value(QStringLiteral("trial")).toBool(), false);
    QCOMPARE(
        slotVersion(json(commit), json(commit).value(QStringLiteral("active_slot")).toString()),
        QStringLiteral("2.1.0"));
    QCOMPARE(json(commit).value(QStringLiteral("stored_security_version")).toInteger(), 4);

    // Committing security version 4 closes the door behind it: the older slot may not boot.
    const Run blocked =
        ctl(QStringList{QStringLiteral("device"), QStringLiteral("rollback")} + device);
    QCOMPARE(blocked.exitCode, 1);
    QVERIFY2(blocked.err.contains("[agent.rollback-blocked]"), blocked.err.constData());
}

void TestCli::tamperedSlotNeverFallsBackBelowSecurityVersion() {
    // The device runs 2.1.0 (security version 4) and still holds the factory image (1) in the
    // other slot. Corrupting the running slot must not become a way back to the old firmware.
    const QStringList device{QStringLiteral("--target"), m_agent->target(), QStringLiteral("--pki"),
                             m_pki, QStringLiteral("--json")};
    const QJsonObject before =
        json(ctl(QStringList{QStringLiteral("device"), QStringLiteral("info")} + device));
    QCOMPARE(before.value(QStringLiteral("stored_security_version")).toInteger(), 4);
    const QString running = before.value(QStringLiteral("active_slot")).toString();
    QFile slot(m_agent->dir() + QStringLiteral("/slots/slot-%1.img").arg(running.toLower()));
    QVERIFY2(slot.open(QIODevice::ReadWrite), qPrintable(slot.fileName()));
    QVERIFY(slot.seek(100));
    QVERIFY(slot.putChar('\xff'));
    slot.close();

    const Run reboot =
        ctl(QStringList{QStringLiteral("device"), QStringLiteral("reboot")} + device);
    QVERIFY2(reboot.exitCode == 0, reboot.err.constData());
    const QJsonObject after = json(reboot);
    QCOMPARE(after.value(QStringLiteral("health_ok")).toBool(), false);
    QCOMPARE(after.value(QStringLiteral("last_error"))
                 .toObject()
                 .value(QStringLiteral("code"))
                 .toString(),
             QStringLiteral("agent.tamper-detected"));
    for (const auto& s : after.value(QStringLiteral("slots")).toArray()) {
        QVERIFY2(s.toObject().value(QStringLiteral("state")).toString() != QLatin1String("active"),
                 "no slot may run: the only intact one is below the stored security version");
    }
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
