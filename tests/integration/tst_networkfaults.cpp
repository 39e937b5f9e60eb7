// Network trouble between a client and a real otafleet-agent, injected by a TCP fault proxy:
// dropped connections, stalls, trickling links, refused and delayed connection attempts, a
// permanent outage. Every push ends committed or fails with its reason (and then leaves the
// slots alone), and each interruption costs at most one chunk of re-sent bytes.
#include "AgentTestBase.h"
#include "FaultProxy.h"

#include <QElapsedTimer>

using namespace agenttest;
using agentclient::PushPhase;
using agentclient::PushStats;
using test::FaultProxy;

namespace {

constexpr qint64 kChunk = 64 * 1024;
constexpr qint64 kMiB = 1024 * 1024;

// One kind of trouble and the client's budget for it.
struct FaultRow {
    FaultProxy::Script script;
    int chunkDeadlineMs = 2000;
    int maxAttempts = 6;  // upload streams and connection attempts each
    int budgetMs = 30000;
    QString error;  // empty: the update must end committed
    int minInterruptions = 0;
};

}  // namespace

Q_DECLARE_METATYPE(FaultRow)

class TestNetworkFaults : public AgentTestBase {
    Q_OBJECT

    QString m_bundle;

private Q_SLOTS:
    void initTestCase() {
        setUpFleets();
        BundleSpec spec;
        spec.payloadSize = 4 * kMiB;
        auto bundle = makeBundle(spec, *m_pki);
        VERIFY_OK(bundle);
        m_bundle = *bundle;
    }

    void faults_data() {
        QTest::addColumn<FaultRow>("row");
        const int m = int(kMiB);
        const QString exhausted = QStringLiteral("link.retry-budget-exhausted");
        // Drops after 1 MiB on each of three connections; resumes three times.
        QTest::newRow("drop-x3") << FaultRow{{.dropAfter = m, .drops = 3}, 2000, 6, 30000, {}, 3};
        // Two connections stop forwarding for good mid-upload: the chunk deadline trips twice.
        QTest::newRow("stall-forever-x2") << FaultRow{
            {.stallAfter = 3 * m / 2, .stallMs = -1, .stalls = 2}, 400, 6, 30000, {}, 2};
        // The stalled connection delivers its bytes after the client's new one (reordered).
        QTest::newRow("stall-deliver-late") << FaultRow{
            {.stallAfter = 3 * m / 2, .stallMs = 1500, .stalls = 1, .deliverLate = true},
            400,
            6,
            30000,
            {},
            1};
        // A stall shorter than the chunk deadline is waited out.
        QTest::newRow("stall-short")
            << FaultRow{{.stallAfter = m, .stallMs = 300, .stalls = 1}, 2000, 6, 30000, {}, 0};
        QTest::newRow("trickle-ok")
            << FaultRow{{.trickleBytesPerSecond = 3 * m}, 1000, 6, 30000, {}, 0};
        // 16 s of trickling does not fit a 1.5 s budget.
        QTest::newRow("trickle-over-budget")
            << FaultRow{{.trickleBytesPerSecond = 256 * 1024}, 2000, 6, 1500, exhausted, 0};
        // No 64 KiB chunk gets through in 500 ms at 24 KiB/s: three stalls, then give up.
        QTest::newRow("trickle-over-deadline")
            << FaultRow{{.trickleBytesPerSecond = 24 * 1024}, 500, 3, 30000, exhausted, 3};
        QTest::newRow("refused-x3") << FaultRow{{.refuseNext = 3}, 2000, 6, 30000, {}, 0};
        QTest::newRow("accept-delayed") << FaultRow{{.acceptDelayMs = 300}, 2000, 6, 30000, {}, 0};
        QTest::newRow("outage") << FaultRow{{.refuseNext = 1000000}, 2000, 6, 30000, exhausted, 0};
    }

    void faults() {
        QFETCH(FaultRow, row);
        const FaultProxy::Script& script = row.script;
        auto agent = newAgent();
        QVERIFY(agent);
        const auto filesBefore = deviceFiles(agent->dir());
        const quint16 agentPort = agent->target().section(u':', -1).toUShort();
        auto proxy = FaultProxy::start(agentPort);
        VERIFY_OK(proxy);
        (*proxy)->setScript(script);

        auto identity = agentclient::TlsIdentity::fromPkiDirectory(m_pki->pkiDir);
        VERIFY_OK(identity);
        auto client = AgentClient::create((*proxy)->target(), *identity);
        VERIFY_OK(client);

        PushOptions options;
        options.chunkSize = kChunk;
        options.chunkDeadline = std::chrono::milliseconds(row.chunkDeadlineMs);
        options.maxAttempts = row.maxAttempts;
        options.maxConnectAttempts = row.maxAttempts;
        options.retryBudget = std::chrono::milliseconds(row.budgetMs);
        options.retryBackoff = std::chrono::milliseconds(100);

        // What the client had handed over vs where it resumed, seen from its progress reports:
        // after a chunk the report is the bytes sent so far, a resume reports the agent's offset.
        qint64 lastDone = -1;
        QList<qint64> resentSeen;
        const auto progress = [&](PushPhase phase, qint64 done, qint64) {
            if (phase != PushPhase::Uploading)
                return;
            if (done < lastDone)
                resentSeen << lastDone - done;
            lastDone = done;
        };
        QElapsedTimer timer;
        timer.start();
        auto pushed = (*client)->push(m_bundle, options, progress);
        const qint64 elapsed = timer.elapsed();
        const PushStats stats = (*client)->lastPushStats();
        const qint64 maxResent =
            stats.resent.isEmpty() ? 0
                                   : *std::max_element(stats.resent.cbegin(), stats.resent.cend());
        qInfo().noquote() << QStringLiteral(
                                 "%1: %2 in %3 ms; attempts %4, connect failures %5, interruptions "
                                 "%6 (%7), sent %8 B, re-sent %9 B (max %10 per resume), proxy "
                                 "%11 B up, %12 dropped, %13 stalled, %14 refused")
                                 .arg(QLatin1String(QTest::currentDataTag()),
                                      pushed ? QStringLiteral("committed") : pushed.error().code)
                                 .arg(elapsed)
                                 .arg(stats.attempts)
                                 .arg(stats.connectFailures)
                                 .arg(stats.interruptions)
                                 .arg(stats.lastCause)
                                 .arg(stats.bytesSent)
                                 .arg(stats.bytesResent)
                                 .arg(maxResent)
                                 .arg((*proxy)->bytesToUpstream())
                                 .arg((*proxy)->dropped())
                                 .arg((*proxy)->stalled())
                                 .arg((*proxy)->refused());

        // At most one chunk per chunk in flight re-sent per interruption, by the client's count
        // and by ours.
        const qint64 resendBound = options.window * kChunk;
        for (qint64 r : stats.resent)
            QVERIFY2(r <= resendBound, qPrintable(QString::number(r)));
        for (qint64 r : resentSeen)
            QVERIFY2(r <= resendBound, qPrintable(QString::number(r)));
        qint64 seenTotal = 0;
        for (qint64 r : resentSeen)
            seenTotal += r;
        QCOMPARE(seenTotal, stats.bytesResent);
        QVERIFY(stats.resent.size() <= stats.interruptions);
        QVERIFY2(stats.interruptions >= row.minInterruptions,
                 qPrintable(QString::number(stats.interruptions)));
        QVERIFY(stats.attempts <= row.maxAttempts);
        QVERIFY(stats.connectFailures <= row.maxAttempts);

        auto direct = clientFor(*agent);
        QVERIFY(direct);
        if (row.error.isEmpty()) {
            VERIFY_OK(pushed);
            QCOMPARE(pushed->activeSlot, QStringLiteral("B"));
            QCOMPARE(pushed->activeVersion(), QStringLiteral("1.1.0"));
            QVERIFY(!pushed->trial);
            QCOMPARE(stats.bytesSent - stats.bytesResent, QFileInfo(m_bundle).size());
            if (script.refuseNext > 0) {
                // gRPC may itself retry a refused connection within one attempt.
                QCOMPARE((*proxy)->refused(), script.refuseNext);
                QVERIFY(stats.connectFailures >= 1 && stats.connectFailures <= script.refuseNext);
            }
        } else {
            QVERIFY(!pushed);
            QCOMPARE(pushed.error().code, row.error);
            // The reason names the attempts and the last cause.
            QVERIFY2(pushed.error().message.contains(QStringLiteral("last cause: link.")),
                     qPrintable(pushed.error().message));
            auto info = direct->info();
            VERIFY_OK(info);
            QCOMPARE(info->activeSlot, QStringLiteral("A"));
            QCOMPARE(info->activeVersion(), QStringLiteral("1.0.0"));
            QCOMPARE(info->slot(QStringLiteral("B"))->state, QStringLiteral("empty"));
            QCOMPARE(deviceFiles(agent->dir()), filesBefore);
        }
        QVERIFY2(elapsed < 20000, qPrintable(QString::number(elapsed)));
    }
};

QTEST_GUILESS_MAIN(TestNetworkFaults)
#include "tst_networkfaults.moc"
