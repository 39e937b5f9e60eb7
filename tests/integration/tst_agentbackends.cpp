// The uboot and grub boot backends behind the real agent over gRPC/TLS: push, reboot, commit,
// rollback, the trial countdown, and the state the bootloader's own tool reads afterwards; and
// slots on block devices.
#include "AgentTestBase.h"
#include "ProcessRun.h"
#include "TestBundles.h"

#include <QScopeGuard>
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

    // Slots on block devices (loop devices over the slot files): a full update, a delta applied
    // from the active partition, and the boot verifier hashing exactly each image's bytes of a
    // partition that is larger than the image.
    void blockDeviceSlots() {
        const QString dir = m_tmp.filePath(QStringLiteral("agent-block"));
        auto agent = AgentProcess::setUp(QStringLiteral(OTAFLEET_BIN_DIR), dir, m_pki->pkiDir,
                                         QStringLiteral("block"));
        VERIFY_OK(agent);
        constexpr qint64 kPartition = 4 * 1024 * 1024;
        QStringList devices;
        for (const char* name : {"slots/slot-a.img", "slots/slot-b.img"}) {
            QFile image(QDir(dir).filePath(QLatin1String(name)));
            QVERIFY(image.open(QIODevice::ReadWrite) && image.resize(kPartition));
            image.close();
            const QByteArray device =
                run(QStringLiteral("losetup"),
                    {QStringLiteral("--find"), QStringLiteral("--show"), image.fileName()}, dir)
                    .trimmed();
            if (!device.startsWith("/dev/loop")) {
                for (const QString& d : devices)
                    run(QStringLiteral("losetup"), {QStringLiteral("-d"), d}, dir);
                QSKIP("no loop devices here (losetup needs root and /dev/loop-control)");
            }
            devices << QString::fromLatin1(device);
        }
        const auto detach = qScopeGuard([&] {
            for (const QString& d : devices)
                run(QStringLiteral("losetup"), {QStringLiteral("-d"), d}, dir);
        });
        QFile conf((*agent)->configPath());
        QVERIFY(conf.open(QIODevice::ReadWrite));
        QString text = QString::fromUtf8(conf.readAll());
        text.replace(QStringLiteral("slot_a = slots/slot-a.img"),
                     QStringLiteral("slot_a = ") + devices[0]);
        text.replace(QStringLiteral("slot_b = slots/slot-b.img"),
                     QStringLiteral("slot_b = ") + devices[1]);
        conf.resize(0);
        conf.seek(0);
        conf.write(text.toUtf8());
        conf.close();
        VERIFY_OK((*agent)->start());
        auto client = clientFor(**agent);
        QVERIFY(client);
        QCOMPARE(client->info()->activeVersion(), QStringLiteral("1.0.0"));  // verified on A

        test::TestBundleSpec full;
        full.version = QStringLiteral("1.1.0");
        full.payloadSize = 1024 * 1024 + 4321;
        auto first = test::makeSignedBundle(*m_pki, dir, full);
        VERIFY_OK(first);
        auto pushed = client->push(*first, PushOptions{}, {});
        VERIFY_OK(pushed);
        QCOMPARE(pushed->activeSlot, QStringLiteral("B"));
        full.version = QStringLiteral("1.2.0");
        auto second = test::makeSignedBundle(*m_pki, dir, full);
        VERIFY_OK(second);
        auto delta = test::makeSignedDelta(*m_pki, *first, *second,
                                           QDir(dir).filePath(QStringLiteral("d.otab")));
        VERIFY_OK(delta);
        pushed = client->push(*delta, PushOptions{}, {});
        VERIFY_OK(pushed);
        QCOMPARE(pushed->activeSlot, QStringLiteral("A"));
        QCOMPARE(pushed->activeVersion(), QStringLiteral("1.2.0"));
        // Partition A starts with exactly 1.2.0's image; the rest is what was there before.
        QFile partition(devices[0]);
        QVERIFY(partition.open(QIODevice::ReadOnly));
        const QByteArray expected = test::readAll(test::payloadPathOf(*second));
        QCOMPARE(partition.read(expected.size()), expected);
        // A restart re-verifies the running partition (boot verifier) and keeps 1.2.0.
        (*agent)->kill();
        VERIFY_OK((*agent)->start());
        client = clientFor(**agent);
        QVERIFY(client);
        auto info = client->info();
        VERIFY_OK(info);
        QCOMPARE(info->activeVersion(), QStringLiteral("1.2.0"));
        QVERIFY(info->healthOk);
        QVERIFY2(info->lastErrorCode.isEmpty(), qPrintable(info->lastErrorCode));
    }
};

QTEST_GUILESS_MAIN(TestAgentBackends)
#include "tst_agentbackends.moc"
