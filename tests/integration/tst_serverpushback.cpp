// otafleetd's pushback against a real otafleetd on loopback whose [limits] busy_backlog is 0 (it
// turns every device away, as a server draining before maintenance would): inventory reports and
// sessions get RESOURCE_EXHAUSTED with code server.busy, a sentence and the retry hint
// "retry-after-ms"; a real device link (the agent's ServerLink with its enrolled identity)
// waits at least that hint before it dials again, although its own backoff is far shorter.
#include "AgentProcess.h"
#include "FleetTestSupport.h"
#include "ServerTestBase.h"

#include "agent/Agent.h"
#include "agent/AgentConfig.h"
#include "agent/ServerLink.h"

#include <QDeadlineTimer>

using namespace otafleet;
using namespace otafleet::test;
using namespace std::chrono_literals;

class TestServerPushback : public QObject, public ServerTestBase {
    Q_OBJECT

    static qint64 retryAfterMs(const grpc::ClientContext& context) {
        const auto& trailers = context.GetServerTrailingMetadata();
        const auto it = trailers.find("retry-after-ms");
        if (it == trailers.end())
            return -1;
        return QByteArray(it->second.data(), qsizetype(it->second.size())).toLongLong();
    }

private Q_SLOTS:
    void initTestCase() {
        startServer(
            [](QString& text) { text += QStringLiteral("\n[limits]\nbusy_backlog = 0\n"); });
    }

    void devicesAreTurnedAwayWithARetryHint() {
        auto stub = deviceStub(QStringLiteral("busy-1"));
        QVERIFY(stub);
        {
            grpc::ClientContext context;
            context.set_deadline(std::chrono::system_clock::now() + 15s);
            dpb::InventoryAck ack;
            const grpc::Status status = stub->ReportInventory(
                &context, inventory(QStringLiteral("busy-1"), QStringLiteral("1.0.0")), &ack);
            QCOMPARE(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
            QCOMPARE(status.error_details(), std::string("server.busy"));
            QVERIFY2(status.error_message().find("tries again") != std::string::npos,
                     status.error_message().c_str());
            QVERIFY(retryAfterMs(context) >= 1000);
        }
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + 15s);
        auto stream = stub->Session(&context);
        dpb::ServerMessage message;
        QVERIFY(!stream->Read(&message));
        const grpc::Status status = stream->Finish();
        QCOMPARE(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
        QCOMPARE(status.error_details(), std::string("server.busy"));
        QVERIFY(retryAfterMs(context) >= 1000);
    }

    void theAgentLinkWaitsForTheHint() {
        auto dir = enrolledDialler(binDir(), *m_pki, m_tmp.filePath(QStringLiteral("agent")),
                                   QStringLiteral("pushed"), m_server->address());
        QVERIFY(dir);
        auto config = agent::AgentConfig::load(dir->configPath());
        VERIFY_OK(config);
        auto options = agent::serverLinkOptions(*config, dir->configPath());
        VERIFY_OK(options);
        // Its own backoff alone would wait at most 200 ms.
        options->backoffInitial = 50ms;
        options->backoffMax = 200ms;
        auto core = agent::Agent::create(*config);
        VERIFY_OK(core);
        QVERIFY((*core)->bootStage());
        agent::ServerLink link(**core, *options, [] {});
        link.start();
        // One snapshot that saw the server's refusal (a loaded machine may add other failures).
        agent::ServerLinkStats stats = link.stats();
        QDeadlineTimer deadline(30000);
        while (!stats.lastError.contains(u"server.busy") && !deadline.hasExpired()) {
            QTest::qWait(20);
            stats = link.stats();
        }
        QVERIFY(!stats.online);
        QVERIFY2(stats.lastError.contains(u"server.busy"), qPrintable(stats.lastError));
        QVERIFY2(stats.lastBackoff >= 1000ms,
                 qPrintable(QString::number(stats.lastBackoff.count())));
        link.stop();
    }
};

QTEST_GUILESS_MAIN(TestServerPushback)
#include "tst_serverpushback.moc"
