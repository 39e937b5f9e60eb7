// Boot control: the trial state machine (countdown, exhausted revert, commit, rollback), the
// file backend's persistence, and the backend choice (tst_bootbackends runs uboot and grub).
#include "agent/BootControl.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet::agent;

class TestBootControl : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void trialCountsDownThenReverts() {
        BootState s;
        s.setStatus(SlotId::A, SlotStatus::Good);
        boot::startTrial(s, SlotId::B, 3);
        QCOMPARE(s.primary, SlotId::B);
        QVERIFY(s.trial);
        for (int left = 2; left >= 0; --left) {
            const auto d = boot::begin(s);
            QCOMPARE(d.slot, SlotId::B);
            QVERIFY(!d.exhaustedRevert);
            QCOMPARE(s.triesLeft, left);
        }
        const auto d = boot::begin(s);
        QVERIFY(d.exhaustedRevert);
        QCOMPARE(d.slot, SlotId::A);
        QCOMPARE(s.primary, SlotId::A);
        QVERIFY(!s.trial);
        QCOMPARE(s.status(SlotId::B), SlotStatus::Bad);
        QCOMPARE(s.bootCount, quint64(4));
    }

    void commitOnlyDuringTrial() {
        BootState s;
        s.securityVersion = 2;
        s.setStatus(SlotId::A, SlotStatus::Good);
        auto notTrial = boot::commit(s, SlotId::A, 5);
        QVERIFY(!notTrial);
        QCOMPARE(notTrial.error().code, QStringLiteral("agent.not-in-trial"));
        boot::startTrial(s, SlotId::B, 3);
        // Booted A while B waits for its trial: nothing to commit yet.
        QVERIFY(!boot::commit(s, SlotId::A, 5));
        (void)boot::begin(s);
        QVERIFY(boot::commit(s, SlotId::B, 5));
        QVERIFY(!s.trial);
        QCOMPARE(s.securityVersion, quint64(5));
        // Stored security version never decreases.
        boot::startTrial(s, SlotId::A, 3);
        (void)boot::begin(s);
        QVERIFY(boot::commit(s, SlotId::A, 1));
        QCOMPARE(s.securityVersion, quint64(5));
    }

    void rollbackNeedsVerifiedOtherSlot() {
        BootState s;
        s.setStatus(SlotId::A, SlotStatus::Good);
        auto none = boot::rollback(s, SlotId::A);
        QVERIFY(!none);
        QCOMPARE(none.error().code, QStringLiteral("agent.rollback-unavailable"));
        s.setStatus(SlotId::B, SlotStatus::Bad);
        QVERIFY(!boot::rollback(s, SlotId::A));
        s.setStatus(SlotId::B, SlotStatus::Good);
        QVERIFY(boot::rollback(s, SlotId::A));
        QCOMPARE(s.primary, SlotId::B);
        QVERIFY(!s.trial);
    }

    void healthFailureRevert() {
        BootState s;
        s.setStatus(SlotId::A, SlotStatus::Good);
        boot::startTrial(s, SlotId::B, 3);
        (void)boot::begin(s);
        boot::revertTrial(s);
        QCOMPARE(s.primary, SlotId::A);
        QCOMPARE(s.status(SlotId::B), SlotStatus::Bad);
        QVERIFY(!s.trial);
    }

    void stateSurvivesReload() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        FileBootControl control(bootStatePath(dir.path()));
        auto missing = control.load();
        QVERIFY(!missing);
        QCOMPARE(missing.error().code, QStringLiteral("agent.state-missing"));
        BootState s;
        s.setStatus(SlotId::A, SlotStatus::Good);
        s.securityVersion = 7;
        boot::startTrial(s, SlotId::B, 2);
        (void)boot::begin(s);
        QVERIFY(control.store(s));
        FileBootControl again(bootStatePath(dir.path()));
        auto loaded = again.load();
        QVERIFY2(loaded, loaded ? "" : qPrintable(loaded.error().toString()));
        QVERIFY(*loaded == s);
        QCOMPARE(loaded->serialize(), s.serialize());
    }

    // writeFileAtomically leaves either the old or the new state: a stale temp file from a crash
    // before the rename does not change what is loaded.
    void interruptedWriteLeavesOldState() {
        QTemporaryDir dir;
        FileBootControl control(bootStatePath(dir.path()));
        BootState old;
        old.setStatus(SlotId::A, SlotStatus::Good);
        QVERIFY(control.store(old));
        QFile temp(control.path() + QStringLiteral(".tmp"));
        QVERIFY(temp.open(QIODevice::WriteOnly));
        temp.write("format=1\nprimary=B\ntri");  // a crash mid-write of the next state
        temp.close();
        auto loaded = control.load();
        QVERIFY(loaded);
        QVERIFY(*loaded == old);
        BootState next = old;
        boot::startTrial(next, SlotId::B, 3);
        QVERIFY(control.store(next));
        QVERIFY(*control.load() == next);
    }

    void corruptStateIsReported_data() {
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("bad primary") << QByteArray(
            "format=1\nprimary=C\ntrial=0\ntries_left=0\n"
            "security_version=0\nboot_count=0\nslot_a=good\nslot_b=empty\n");
        QTest::newRow("bad number") << QByteArray(
            "format=1\nprimary=A\ntrial=0\ntries_left=x\n"
            "security_version=0\nboot_count=0\nslot_a=good\nslot_b=empty\n");
        QTest::newRow("garbage") << QByteArray("\x01\x02\x03");
    }
    void corruptStateIsReported() {
        QFETCH(QByteArray, text);
        auto s = BootState::parse(text);
        QVERIFY(!s);
        QCOMPARE(s.error().code, QStringLiteral("agent.state-corrupt"));
    }

    void backendsNeedTheirEnvironment_data() {
        QTest::addColumn<int>("backend");
        QTest::addColumn<QString>("name");
        QTest::newRow("uboot") << int(BootBackend::UBoot) << QStringLiteral("uboot");
        QTest::newRow("grub") << int(BootBackend::Grub) << QStringLiteral("grub");
    }
    void backendsNeedTheirEnvironment() {
        QFETCH(int, backend);
        QFETCH(QString, name);
        AgentConfig config;
        config.bootBackend = static_cast<BootBackend>(backend);
        auto control = createBootControl(config);
        QVERIFY(!control);
        QCOMPARE(control.error().code, QStringLiteral("agent.boot-backend-unavailable"));
        config.ubootEnvConfig = QStringLiteral("/tmp/fw_env.config");
        config.grubEnv = QStringLiteral("/tmp/grubenv");
        auto configured = createBootControl(config);
        QVERIFY(configured);
        QCOMPARE((*configured)->backendName(), name);
        config.bootBackend = BootBackend::File;
        QVERIFY(createBootControl(config));
    }
};

QTEST_GUILESS_MAIN(TestBootControl)
#include "tst_bootcontrol.moc"
