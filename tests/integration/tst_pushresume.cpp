// Resume and continue: `otafleetctl device push` run again after an interruption at each phase
// (client killed mid-upload, agent killed during install or commit, a push stopped before the
// reboot or the commit) finishes the job, and another release that waits gets a clear choice:
// push.other-release-pending, or --replace-pending to discard it. An agent killed mid-upload
// resumes it, and a staged copy a power cut damaged is sent again.
#include "AgentTestBase.h"

#include "CliRun.h"

#include <QJsonArray>
#include <QJsonDocument>

using namespace agenttest;

namespace {

struct Interruption {
    QByteArray crashAt;      // OTAFLEET_AGENT_CRASH_AT for the first run; the agent dies
    QStringList firstFlags;  // the first run stops early on purpose (--no-reboot, --no-commit)
    bool killClientMidUpload = false;
};

}  // namespace

Q_DECLARE_METATYPE(Interruption)

class TestPushResume : public AgentTestBase {
    Q_OBJECT

    QStringList device(const AgentProcess& agent) const {
        return {QStringLiteral("--target"), agent.target(), QStringLiteral("--pki"), m_pki->pkiDir};
    }
    test::ProcessRun push(const AgentProcess& agent, const QString& bundle,
                          const QStringList& extra = {}) {
        return test::otafleetctl(
            QStringList{QStringLiteral("device"), QStringLiteral("push"), bundle} + device(agent) +
            extra);
    }
    // The device runs `version` from slot `slot`, committed.
    void verifyCommitted(AgentProcess& agent, const QString& version, const QString& slot) {
        auto client = clientFor(agent);
        QVERIFY(client);
        auto info = client->info();
        VERIFY_OK(info);
        QCOMPARE(info->activeVersion(), version);
        QCOMPARE(info->activeSlot, slot);
        QVERIFY(!info->trial);
        QCOMPARE(info->state, QStringLiteral("idle"));
    }

private Q_SLOTS:
    void initTestCase() { setUpFleets(); }

    void resumesAfterInterruption_data() {
        QTest::addColumn<Interruption>("interruption");
        QTest::newRow("client killed mid-upload") << Interruption{{}, {}, true};
        QTest::newRow("agent killed after verification")
            << Interruption{"install-verified:1", {}, false};
        QTest::newRow("agent killed mid slot write")
            << Interruption{"slot-write-bytes:262144", {}, false};
        QTest::newRow("agent killed after install (reboots into trial)")
            << Interruption{"install-trial-stored:1", {}, false};
        QTest::newRow("agent killed after commit") << Interruption{"commit-stored:1", {}, false};
        QTest::newRow("stopped awaiting reboot")
            << Interruption{{}, {QStringLiteral("--no-reboot")}, false};
        QTest::newRow("stopped awaiting commit")
            << Interruption{{}, {QStringLiteral("--no-commit")}, false};
    }
    void resumesAfterInterruption() {
        QFETCH(Interruption, interruption);
        auto agent = newAgent();
        QVERIFY(agent);
        BundleSpec spec;
        if (interruption.killClientMidUpload)
            spec.payloadSize = 8 * 1024 * 1024;  // long enough to be caught mid-way
        auto bundle = makeBundle(spec, *m_pki);
        VERIFY_OK(bundle);
        auto id = AgentClient::transferIdFor(*bundle);
        VERIFY_OK(id);

        if (!interruption.crashAt.isEmpty()) {
            agent->kill();
            qputenv("OTAFLEET_AGENT_CRASH_AT", interruption.crashAt);
            const Status started = agent->start();
            qunsetenv("OTAFLEET_AGENT_CRASH_AT");
            VERIFY_OK(started);
            const auto first = push(*agent, *bundle);
            QVERIFY2(first.exitCode == 1, first.err.constData());
            for (int i = 0; i < 100 && agent->isRunning(); ++i)
                QTest::qWait(50);
            QVERIFY2(!agent->isRunning(), "the agent did not stop at its crash point");
            VERIFY_OK(agent->start());  // the power comes back
        } else if (!interruption.firstFlags.isEmpty()) {
            const auto first = push(*agent, *bundle, interruption.firstFlags);
            QVERIFY2(first.exitCode == 0, first.err.constData());
        } else {
            QProcess client;
            client.start(QStringLiteral(OTAFLEET_BIN_DIR "/otafleetctl"),
                         QStringList{QStringLiteral("device"), QStringLiteral("push"), *bundle,
                                     QStringLiteral("--chunk-size"), QStringLiteral("16")} +
                             device(*agent));
            QVERIFY(client.waitForStarted());
            auto observer = clientFor(*agent);
            QVERIFY(observer);
            quint64 held = 0;
            for (int i = 0; i < 400 && held == 0; ++i) {
                QTest::qWait(10);
                held = observer->uploadOffset(*id).value_or(0);
            }
            client.kill();
            client.waitForFinished();
            held = observer->uploadOffset(*id).value_or(0);
            QVERIFY2(held > 0 && qint64(held) < QFileInfo(*bundle).size(),
                     qPrintable(QString::number(held)));
        }

        const auto again = push(*agent, *bundle);
        QVERIFY2(again.exitCode == 0, (again.err + again.out).constData());
        verifyCommitted(*agent, QStringLiteral("1.1.0"), QStringLiteral("B"));
        if (interruption.killClientMidUpload) {
            // The second run resumed the staged upload instead of starting over.
            auto client = clientFor(*agent);
            QVERIFY(client);
            auto batch = client->events(0, 500);
            VERIFY_OK(batch);
            bool resumed = false;
            for (const auto& e : batch->events) {
                if (e.fields.value(QStringLiteral("phase")).toString() == u"upload-started" &&
                    e.fields.value(QStringLiteral("offset")).toDouble() > 0)
                    resumed = true;
            }
            QVERIFY(resumed);
        }
    }

    // The agent never fsyncs a staged upload (the payload reaches the disk once, in the slot).
    // Killed mid-upload, it still holds what it took (the page cache survives a process): the push
    // resumes, and the install hashes the staged copy itself. A power cut can damage that copy
    // instead: the install's hash finds it, discards it (agent.staging-damaged, nothing written)
    // and the same push sends the bundle again and finishes.
    void resumesAcrossAgentRestart_data() {
        QTest::addColumn<bool>("damaged");
        QTest::newRow("agent killed mid-upload") << false;
        QTest::newRow("staged copy damaged by a power cut") << true;
    }
    void resumesAcrossAgentRestart() {
        QFETCH(bool, damaged);
        auto agent = newAgent();
        QVERIFY(agent);
        BundleSpec spec;
        spec.payloadSize = 4 * 1024 * 1024;
        auto bundle = makeBundle(spec, *m_pki);
        VERIFY_OK(bundle);
        auto id = AgentClient::transferIdFor(*bundle);
        VERIFY_OK(id);
        const qint64 size = QFileInfo(*bundle).size();
        {
            auto client = clientFor(*agent);
            QVERIFY(client);
            AgentClient* c = client.get();
            // 16 KiB chunks: at most 64 of them (1 MiB) travel unconfirmed when it stops.
            const Status sent = c->upload(*bundle, *id, 16 * 1024, [&](qint64 done, qint64) {
                if (!damaged && done >= size / 2)
                    c->cancel();
            });
            QCOMPARE(bool(sent), damaged);
        }
        agent->kill();
        const QString part =
            QDir(agent->dir()).filePath(QStringLiteral("incoming/%1.part").arg(*id));
        QVERIFY2(QFileInfo::exists(part), qPrintable(part));
        const qint64 held = QFileInfo(part).size();
        QVERIFY2(damaged ? held == size : held > 0 && held < size,
                 qPrintable(QString::number(held)));
        if (damaged) {
            // Pages that never reached the disk: zeros inside the payload.
            QFile f(part);
            QVERIFY(f.open(QIODevice::ReadWrite));
            QVERIFY(f.seek(size - 64 * 1024));
            QCOMPARE(f.write(QByteArray(4096, '\0')), qint64(4096));
        }
        VERIFY_OK(agent->start());

        const auto again = push(*agent, *bundle);
        QVERIFY2(again.exitCode == 0, (again.err + again.out).constData());
        verifyCommitted(*agent, QStringLiteral("1.1.0"), QStringLiteral("B"));
        auto client = clientFor(*agent);
        QVERIFY(client);
        auto batch = client->events(0, 500);
        VERIFY_OK(batch);
        bool resumed = false;
        int discarded = 0;
        for (const auto& e : batch->events) {
            const QString phase = e.fields.value(QStringLiteral("phase")).toString();
            if (phase == u"upload-started" &&
                e.fields.value(QStringLiteral("offset")).toDouble() > 0)
                resumed = true;
            if (phase == u"install-failed" &&
                e.fields.value(QStringLiteral("error_code")).toString() == u"agent.staging-damaged")
                ++discarded;
        }
        QCOMPARE(discarded, damaged ? 1 : 0);
        QCOMPARE(resumed, !damaged);
    }

    void otherReleasePending_data() {
        QTest::addColumn<QString>("stopAt");
        QTest::newRow("awaiting reboot") << QStringLiteral("--no-reboot");
        QTest::newRow("on trial") << QStringLiteral("--no-commit");
    }
    void otherReleasePending() {
        QFETCH(QString, stopAt);
        auto agent = newAgent();
        QVERIFY(agent);
        auto first = makeBundle(BundleSpec{}, *m_pki);
        VERIFY_OK(first);
        BundleSpec secondSpec;
        secondSpec.version = QStringLiteral("1.2.0");
        auto second = makeBundle(secondSpec, *m_pki);
        VERIFY_OK(second);

        const auto stopped = push(*agent, *first, {stopAt});
        QVERIFY2(stopped.exitCode == 0, stopped.err.constData());
        const auto before = deviceFiles(agent->dir());

        // Without --replace-pending: refused before anything moves, with what to do.
        const auto refused = push(*agent, *second);
        QCOMPARE(refused.exitCode, 1);
        QVERIFY2(refused.err.contains("[push.other-release-pending]"), refused.err.constData());
        QVERIFY2(refused.err.contains("--replace-pending"), refused.err.constData());
        QVERIFY2(refused.err.contains("1.1.0"), refused.err.constData());
        QCOMPARE(deviceFiles(agent->dir()), before);

        const auto replaced = push(*agent, *second, {QStringLiteral("--replace-pending")});
        QVERIFY2(replaced.exitCode == 0, (replaced.err + replaced.out).constData());
        // A pending 1.1.0 in B is overwritten in B; a trial of 1.1.0 in B is rolled back to A
        // first, and 1.2.0 then goes to B.
        verifyCommitted(*agent, QStringLiteral("1.2.0"), QStringLiteral("B"));
        auto client = clientFor(*agent);
        QVERIFY(client);
        auto info = client->info();
        VERIFY_OK(info);
        QCOMPARE(info->slot(QStringLiteral("A"))->version, QStringLiteral("1.0.0"));
    }

    void agentRefusesWithoutReplace() {
        // The agent's own check, for clients that skip the probe: a pending update is kept
        // unless the install asks to replace it, and a running trial is never replaced.
        auto agent = newAgent();
        QVERIFY(agent);
        auto first = makeBundle(BundleSpec{}, *m_pki);
        VERIFY_OK(first);
        BundleSpec secondSpec;
        secondSpec.version = QStringLiteral("1.2.0");
        auto second = makeBundle(secondSpec, *m_pki);
        VERIFY_OK(second);
        QCOMPARE(push(*agent, *first, {QStringLiteral("--no-commit")}).exitCode, 0);
        auto client = clientFor(*agent);
        QVERIFY(client);
        auto id = AgentClient::transferIdFor(*second);
        VERIFY_OK(id);
        VERIFY_OK(client->upload(*second, *id, 256 * 1024, {}));
        const auto before = deviceFiles(agent->dir());
        auto onTrial = client->install(*id, {}, true);
        QVERIFY(!onTrial);
        QCOMPARE(onTrial.error().code, QStringLiteral("agent.trial-running"));
        auto plain = client->install(*id, {}, false);
        QVERIFY(!plain);
        QCOMPARE(plain.error().code, QStringLiteral("agent.reboot-pending"));
        QCOMPARE(deviceFiles(agent->dir()), before);
    }
};

QTEST_GUILESS_MAIN(TestPushResume)
#include "tst_pushresume.moc"
