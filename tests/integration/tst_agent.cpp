// otafleet-agent end to end: real agent processes on loopback, real TLS with operator client
// certificates, real bundles signed by a test PKI. Push, commit, rollback with reboot, resume
// after SIGKILL, cancel, health-check revert, exhausted trial, SIGKILL during an install.
#include "AgentTestBase.h"

#include "bundle/Bundle.h"

#include <QTcpServer>

using namespace agenttest;

class TestAgent : public AgentTestBase {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { setUpFleets(); }

    void pushCommitAndRollback() {
        auto agent = newAgent();
        QVERIFY(agent);
        auto client = clientFor(*agent);
        QVERIFY(client);
        auto info = client->info();
        VERIFY_OK(info);
        QCOMPARE(info->activeSlot, QStringLiteral("A"));
        QCOMPARE(info->activeVersion(), QStringLiteral("1.0.0"));
        QCOMPARE(info->state, QStringLiteral("idle"));
        QVERIFY(info->healthOk);
        QCOMPARE(info->slot(QStringLiteral("B"))->state, QStringLiteral("empty"));

        auto bundle = makeBundle({}, *m_pki);
        VERIFY_OK(bundle);
        QList<agentclient::PushPhase> phases;
        auto pushed =
            client->push(*bundle, PushOptions{}, [&](agentclient::PushPhase p, qint64, qint64) {
                if (phases.isEmpty() || phases.last() != p)
                    phases << p;
            });
        VERIFY_OK(pushed);
        QCOMPARE(pushed->activeSlot, QStringLiteral("B"));
        QCOMPARE(pushed->activeVersion(), QStringLiteral("1.1.0"));
        QVERIFY(!pushed->trial);
        QCOMPARE(pushed->slot(QStringLiteral("A"))->state, QStringLiteral("inactive"));
        // The slot's hash is the payload's SHA-256 in hex, as the manifest (and `bundle
        // inspect`) states it, not a hash of that digest.
        auto reader = bundle::BundleReader::open(*bundle);
        VERIFY_OK(reader);
        QCOMPARE(pushed->slot(QStringLiteral("B"))->sha256,
                 QString::fromLatin1(reader->manifest().payloads.first().targetSha256.toHex()));
        QCOMPARE(phases.first(), agentclient::PushPhase::Uploading);
        QCOMPARE(phases.last(), agentclient::PushPhase::Done);
        QCOMPARE(pushed->toJson().value(QStringLiteral("active_slot")).toString(),
                 QStringLiteral("B"));

        const qint64 pid = agent->pid();
        const QStringList fdsBefore = openDescriptors(pid);
        auto rolledBack = client->rollback(true);
        VERIFY_OK(rolledBack);
        QCOMPARE(rolledBack->activeSlot, QStringLiteral("A"));
        QCOMPARE(rolledBack->activeVersion(), QStringLiteral("1.0.0"));
        QVERIFY(rolledBack->bootCount > pushed->bootCount);
        // The reboot re-executed the same process without carrying descriptors across exec.
        QCOMPARE(agent->pid(), pid);
        auto again = client->rebootAndWait(std::chrono::seconds(30));
        VERIFY_OK(again);
        const QStringList fdsAfter = openDescriptors(pid);
        qInfo() << "descriptors before" << fdsBefore.size() << "after two reboots"
                << fdsAfter.size();
        QVERIFY2(fdsAfter.size() <= fdsBefore.size() + 2, qPrintable(fdsAfter.join(u' ')));
        for (const QString& target : fdsAfter) {
            QVERIFY2(!target.startsWith(agent->dir()), qPrintable(target));
        }

        // Boot verifier: slot A no longer matches its signed manifest, so the device boots the
        // other verified slot and says why.
        agent->kill();
        {
            QFile slotA(QDir(agent->dir()).filePath(QStringLiteral("slots/slot-a.img")));
            QVERIFY(slotA.open(QIODevice::ReadWrite));
            slotA.seek(4096);
            slotA.putChar('X');
        }
        VERIFY_OK(agent->start());
        auto tampered = clientFor(*agent)->info();
        VERIFY_OK(tampered);
        QCOMPARE(tampered->activeSlot, QStringLiteral("B"));
        QCOMPARE(tampered->activeVersion(), QStringLiteral("1.1.0"));
        QCOMPARE(tampered->lastErrorCode, QStringLiteral("agent.tamper-detected"));
        QCOMPARE(tampered->slot(QStringLiteral("A"))->state, QStringLiteral("bad"));
        // ... and reports it as a tamper event in its telemetry.
        auto events = clientFor(*agent)->events(0, 256);
        VERIFY_OK(events);
        const auto tamperEvent =
            std::find_if(events->events.cbegin(), events->events.cend(), [](const auto& e) {
                return e.type == u"boot" &&
                       e.fields.value(u"error_code").toString() == u"agent.tamper-detected";
            });
        QVERIFY2(tamperEvent != events->events.cend(), "no boot event with the tamper code");
    }

    void resumesAfterKill() {
        auto agent = newAgent();
        QVERIFY(agent);
        BundleSpec spec;
        spec.payloadSize = 3 * 1024 * 1024;
        auto bundle = makeBundle(spec, *m_pki);
        VERIFY_OK(bundle);
        auto id = AgentClient::transferIdFor(*bundle);
        VERIFY_OK(id);
        constexpr qint64 kChunk = 64 * 1024;
        std::atomic<qint64> sent{0};
        auto client = clientFor(*agent);
        QVERIFY(client);
        Status interrupted;
        std::thread uploader([&] {
            // Slow on purpose: the agent is killed while chunks are still coming.
            interrupted = client->upload(*bundle, *id, kChunk, [&](qint64 done, qint64) {
                sent = done;
                std::this_thread::sleep_for(std::chrono::milliseconds(15));
            });
        });
        QTRY_VERIFY_WITH_TIMEOUT(sent >= 1024 * 1024, 20000);
        // What the client had handed over when the device died; later writes went nowhere.
        const qint64 sentBeforeKill = sent;
        agent->kill();
        uploader.join();
        QVERIFY(!interrupted);

        VERIFY_OK(agent->start());
        auto fresh = clientFor(*agent);
        QVERIFY(fresh);
        auto offset = fresh->uploadOffset(*id);
        VERIFY_OK(offset);
        QVERIFY(qint64(*offset) > 0);
        QVERIFY2(
            sentBeforeKill - qint64(*offset) <= kChunk,
            qPrintable(QStringLiteral("sent %1, agent holds %2").arg(sentBeforeKill).arg(*offset)));
        qint64 firstProgress = -1;
        VERIFY_OK(fresh->upload(*bundle, *id, kChunk, [&](qint64 done, qint64) {
            if (firstProgress < 0)
                firstProgress = done;
        }));
        QCOMPARE(firstProgress, qint64(*offset));  // resumed, nothing before the offset re-sent
        VERIFY_OK(fresh->install(*id, {}));
        auto info = fresh->info();
        VERIFY_OK(info);
        QCOMPARE(info->state, QStringLiteral("pending-reboot"));
        QCOMPARE(info->slot(QStringLiteral("B"))->state, QStringLiteral("pending"));
    }

    void cancelStopsUpload() {
        auto agent = newAgent();
        QVERIFY(agent);
        auto client = clientFor(*agent);
        QVERIFY(client);
        BundleSpec spec;
        spec.payloadSize = 2 * 1024 * 1024;
        auto bundle = makeBundle(spec, *m_pki);
        VERIFY_OK(bundle);
        auto id = AgentClient::transferIdFor(*bundle);
        VERIFY_OK(id);
        std::atomic<qint64> sent{0};
        Status result;
        std::thread uploader([&] {
            result = client->upload(*bundle, *id, 64 * 1024, [&](qint64 done, qint64) {
                sent = done;
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            });
        });
        QTRY_VERIFY_WITH_TIMEOUT(sent >= 256 * 1024, 20000);
        client->cancel();
        uploader.join();
        QVERIFY(!result);
        QCOMPARE(result.error().code, QStringLiteral("link.cancelled"));
        QVERIFY(sent < 2 * 1024 * 1024);
    }

    void healthFailureReverts() {
        // 1.1.0 hangs in its health check, which times out after one second.
        auto agent = newAgent(QStringLiteral("\n[health]\ncommand = sh -c \"test $OTAFLEET_VERSION "
                                             "!= 1.1.0 || sleep 20\"\n"),
                              {{QStringLiteral("timeout = 30"), QStringLiteral("timeout = 1")}});
        QVERIFY(agent);
        auto client = clientFor(*agent);
        QVERIFY(client);
        auto bundle = makeBundle({}, *m_pki);
        VERIFY_OK(bundle);
        auto pushed = client->push(*bundle, PushOptions{}, {});
        QVERIFY(!pushed);
        QCOMPARE(pushed.error().code, QStringLiteral("agent.health-check-failed"));
        auto info = client->info();
        VERIFY_OK(info);
        QCOMPARE(info->activeSlot, QStringLiteral("A"));
        QCOMPARE(info->activeVersion(), QStringLiteral("1.0.0"));
        QCOMPARE(info->state, QStringLiteral("reverted"));
        QVERIFY(!info->trial);
        QVERIFY(info->healthOk);
        QCOMPARE(info->slot(QStringLiteral("B"))->state, QStringLiteral("bad"));
    }

    // A built-in check: the new firmware must still reach the host the device depends on. The
    // host answers while 1.0.0 boots and is gone when 1.1.0 does, so only the update fails.
    void builtinHealthCheckReverts() {
        QTcpServer server;
        QVERIFY(server.listen(QHostAddress::LocalHost));
        auto agent = newAgent(
            {},
            {{QStringLiteral("[health]\n"),
              QStringLiteral("[health]\ncheck_tcp = 127.0.0.1:%1\n").arg(server.serverPort())}});
        QVERIFY(agent);
        auto client = clientFor(*agent);
        QVERIFY(client);
        auto before = client->info();
        VERIFY_OK(before);
        QVERIFY(before->healthOk);
        server.close();
        auto bundle = makeBundle({}, *m_pki);
        VERIFY_OK(bundle);
        auto pushed = client->push(*bundle, PushOptions{}, {});
        QVERIFY(!pushed);
        QCOMPARE(pushed.error().code, QStringLiteral("agent.health-check-failed"));
        auto info = client->info();
        VERIFY_OK(info);
        QCOMPARE(info->activeVersion(), QStringLiteral("1.0.0"));
        QCOMPARE(info->slot(QStringLiteral("B"))->state, QStringLiteral("bad"));
        QVERIFY2(agent->output().contains("health check tcp 127.0.0.1"),
                 agent->output().constData());
    }

    void exhaustedTrialReverts() {
        auto agent = newAgent();
        QVERIFY(agent);
        auto client = clientFor(*agent);
        QVERIFY(client);
        auto bundle = makeBundle({}, *m_pki);
        VERIFY_OK(bundle);
        PushOptions noCommit;
        noCommit.commit = false;
        auto trial = client->push(*bundle, noCommit, {});
        VERIFY_OK(trial);
        QVERIFY(trial->trial);
        QCOMPARE(trial->activeSlot, QStringLiteral("B"));
        constexpr int kTrialTries = 3;  // setup's default
        QCOMPARE(trial->triesLeft, quint32(kTrialTries - 1));
        for (int restart = 1; restart <= kTrialTries; ++restart) {
            agent->kill();
            VERIFY_OK(agent->start());
            auto info = clientFor(*agent)->info();
            VERIFY_OK(info);
            if (restart < kTrialTries) {
                QCOMPARE(info->activeSlot, QStringLiteral("B"));
                QVERIFY(info->trial);
            } else {
                QCOMPARE(info->activeSlot, QStringLiteral("A"));
                QVERIFY(!info->trial);
                QCOMPARE(info->lastErrorCode, QStringLiteral("agent.trial-exhausted"));
                QCOMPARE(info->slot(QStringLiteral("B"))->state, QStringLiteral("bad"));
            }
        }
    }

    // SIGKILL while the slot is being written: the next start boots a verified slot (the old one,
    // or the new one on trial if the install had completed), never the half-written one.
    void killDuringInstallLeavesBootableSlot() {
        auto agent = newAgent();
        QVERIFY(agent);
        BundleSpec spec;
        spec.payloadSize = 24 * 1024 * 1024;
        auto bundle = makeBundle(spec, *m_pki);
        VERIFY_OK(bundle);
        auto id = AgentClient::transferIdFor(*bundle);
        VERIFY_OK(id);
        auto client = clientFor(*agent);
        QVERIFY(client);
        VERIFY_OK(client->upload(*bundle, *id, 1024 * 1024, {}));
        const qint64 pid = agent->pid();
        bool killed = false;
        auto installed = client->install(*id, [&](agentclient::PushPhase phase, qint64, qint64) {
            if (phase == agentclient::PushPhase::Writing && !killed) {
                killed = true;
                ::kill(pid_t(pid), SIGKILL);
            }
        });
        QVERIFY(killed);
        agent->kill();  // reaps the process
        VERIFY_OK(agent->start());
        auto info = clientFor(*agent)->info();
        VERIFY_OK(info);
        QVERIFY(info->healthOk);
        QVERIFY(info->state != u"error");
        const bool completed = installed.has_value() || info->activeSlot == u"B";
        qInfo() << "install completed before the kill:" << completed;
        if (completed) {
            QCOMPARE(info->activeVersion(), QStringLiteral("1.1.0"));
            QVERIFY(info->trial);
        } else {
            QCOMPARE(info->activeSlot, QStringLiteral("A"));
            QCOMPARE(info->activeVersion(), QStringLiteral("1.0.0"));
            QVERIFY(info->slot(QStringLiteral("B"))->state == u"bad" ||
                    info->slot(QStringLiteral("B"))->state == u"empty");
            // The device takes the update once it is sent again.
            VERIFY_OK(clientFor(*agent)->push(*bundle, PushOptions{}, {}));
        }
    }

    // A certificate that chains to the fleet root but comes from the device CA (a device, not
    // an operator) passes TLS yet may not operate the agent.
};

QTEST_GUILESS_MAIN(TestAgent)
#include "tst_agent.moc"
