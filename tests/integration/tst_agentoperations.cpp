// The agent core in-process: while an install runs, commit and rollback answer agent.busy at
// once instead of waiting for it, and the device report stays available.
#include "AgentTestBase.h"

#include "agent/Agent.h"
#include "agent/AgentConfig.h"
#include "agent/AgentSetup.h"
#include "common/AtomicFile.h"

#include <future>
#include <latch>

using namespace agenttest;
using namespace std::chrono_literals;

class TestAgentOperations : public AgentTestBase {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { setUpFleets(); }

    void commitAndRollbackDuringInstallAreBusy() {
        agent::SetupOptions o;
        o.directory = m_tmp.filePath(QStringLiteral("device"));
        o.pkiDirectory = m_pki->pkiDir;
        o.listen = QStringLiteral("127.0.0.1:1");
        VERIFY_OK(agent::setUpAgent(o));
        auto config =
            agent::AgentConfig::load(QDir(o.directory).filePath(QStringLiteral("agent.conf")));
        VERIFY_OK(config);
        auto created = agent::Agent::create(*config);
        VERIFY_OK(created);
        agent::Agent& device = **created;
        VERIFY_OK(device.bootStage());

        auto bundle = makeBundle(BundleSpec{}, *m_pki);
        VERIFY_OK(bundle);
        auto bytes = readFileBounded(*bundle, 64 * 1024 * 1024);
        VERIFY_OK(bytes);
        const QString id = QStringLiteral("busy-test");
        for (qsizetype offset = 0; offset < bytes->size();
             offset += agent::UploadStore::kMaxChunk) {
            const QByteArray chunk = bytes->mid(offset, agent::UploadStore::kMaxChunk);
            VERIFY_OK(device.uploadChunk(id, quint64(bytes->size()), quint64(offset), chunk));
        }

        // The install stops in its first progress event until released.
        std::latch inInstall(1);
        std::latch release(1);
        bool first = true;
        Status installed;
        std::thread installer([&] {
            installed = device.install(id, [&](const agent::InstallEvent&) {
                if (std::exchange(first, false)) {
                    inInstall.count_down();
                    release.wait();
                }
            });
        });
        inInstall.wait();
        auto commit = std::async(std::launch::async, [&] { return device.commit(); });
        auto rollback = std::async(std::launch::async, [&] { return device.rollback(); });
        auto report = std::async(std::launch::async, [&] { return device.report(); });
        const bool commitAnswered = commit.wait_for(5s) == std::future_status::ready;
        const bool rollbackAnswered = rollback.wait_for(5s) == std::future_status::ready;
        const bool reportAnswered = report.wait_for(5s) == std::future_status::ready;
        release.count_down();
        installer.join();

        QVERIFY(commitAnswered);
        QVERIFY(rollbackAnswered);
        QVERIFY(reportAnswered);
        const Status committed = commit.get();
        QVERIFY(!committed);
        QCOMPARE(committed.error().code, QStringLiteral("agent.busy"));
        const Status rolledBack = rollback.get();
        QVERIFY(!rolledBack);
        QCOMPARE(rolledBack.error().code, QStringLiteral("agent.busy"));
        QCOMPARE(report.get().state, QStringLiteral("installing"));
        VERIFY_OK(installed);
    }
};

QTEST_GUILESS_MAIN(TestAgentOperations)
#include "tst_agentoperations.moc"
