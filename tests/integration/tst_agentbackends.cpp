// The uboot and grub boot backends behind the real agent over gRPC/TLS: push, reboot, commit,
// rollback, the trial countdown, and the state the bootloader's own tool reads afterwards.
#include "AgentTestBase.h"

#include <QStandardPaths>

class TestAgentBackends : public agenttest::AgentTestBase {
    Q_OBJECT

private:
    static QByteArray run(const QString& program, const QStringList& args, const QString& cwd) {
        QProcess p;
        p.setWorkingDirectory(cwd);
        p.start(program, args);
        p.waitForFinished(10000);
        return p.readAllStandardOutput();
    }

    static quint64 seqOf(const QByteArray& listing) {
        for (const QByteArray& line : listing.split('\n')) {
            if (line.startsWith("otafleet_seq="))
                return line.mid(13).toULongLong();
        }
        return 0;
    }

    // What the bootloader would read: the (relative-path) fw_env.config from its directory, or
    // the GRUB block with the higher sequence number.
    static QByteArray toolListing(const QString& backend, const QString& dir) {
        const QString state = QDir(dir).filePath(QStringLiteral("state"));
        if (backend == u"uboot") {
            return run(QStringLiteral("fw_printenv"),
                       {QStringLiteral("-c"), QStringLiteral("fw_env.config")}, state);
        }
        const QByteArray a = run(QStringLiteral("grub-editenv"),
                                 {QStringLiteral("grubenv"), QStringLiteral("list")}, state);
        const QByteArray b = run(QStringLiteral("grub-editenv"),
                                 {QStringLiteral("grubenv.b"), QStringLiteral("list")}, state);
        return seqOf(a) > seqOf(b) ? a : b;
    }

private Q_SLOTS:
    void initTestCase() { setUpFleets(); }

    void pushCommitRollback_data() {
        QTest::addColumn<QString>("backend");
        QTest::addColumn<QString>("tool");
        QTest::newRow("uboot") << QStringLiteral("uboot") << QStringLiteral("fw_setenv");
        QTest::newRow("grub") << QStringLiteral("grub") << QStringLiteral("grub-editenv");
    }
    void pushCommitRollback() {
        QFETCH(QString, backend);
        QFETCH(QString, tool);
        if (QStandardPaths::findExecutable(tool).isEmpty())
            QSKIP("the backend's tool is not installed (installer/install-deps.sh)");
        const QString dir = m_tmp.filePath(QStringLiteral("agent-") + backend);
        auto agent = AgentProcess::setUp(QStringLiteral(OTAFLEET_BIN_DIR), dir, m_pki->pkiDir,
                                         backend, QStringLiteral("rev-a"), {}, backend);
        VERIFY_OK(agent);
        VERIFY_OK((*agent)->start());
        auto client = clientFor(**agent);
        QVERIFY(client);

        agenttest::BundleSpec spec;
        spec.version = QStringLiteral("1.1.0");
        spec.securityVersion = 2;
        spec.payloadSize = 64 * 1024;
        auto bundle = makeBundle(spec, *m_pki);
        VERIFY_OK(bundle);
        auto pushed = client->push(*bundle, PushOptions{}, {});
        VERIFY_OK(pushed);
        QCOMPARE(pushed->activeSlot, QStringLiteral("B"));
        QCOMPARE(pushed->activeVersion(), QStringLiteral("1.1.0"));
        QVERIFY(!pushed->trial);
        // The bootloader's own tool sees the committed state.
        const QByteArray env = toolListing(backend, dir);
        QVERIFY2(env.contains("otafleet_primary=B") && env.contains("otafleet_trial=0") &&
                     env.contains("otafleet_security_version=2"),
                 env.constData());

        // An uncommitted trial of 1.2.0, then a rollback to the committed 1.1.0.
        spec.version = QStringLiteral("1.2.0");
        auto second = makeBundle(spec, *m_pki);
        VERIFY_OK(second);
        PushOptions noCommit;
        noCommit.commit = false;
        auto trial = client->push(*second, noCommit, {});
        VERIFY_OK(trial);
        QVERIFY(trial->trial);
        QCOMPARE(trial->activeSlot, QStringLiteral("A"));
        auto back = client->rollback(true);
        VERIFY_OK(back);
        QCOMPARE(back->activeSlot, QStringLiteral("B"));
        QCOMPARE(back->activeVersion(), QStringLiteral("1.1.0"));
        QVERIFY(!back->trial);
    }
};

QTEST_GUILESS_MAIN(TestAgentBackends)
#include "tst_agentbackends.moc"
