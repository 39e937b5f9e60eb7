// Fleet telemetry end to end on a real otafleetd: devices dial in with their own certificates and
// send their agents' events over the Session stream, as otafleet-agent does; the server keeps
// each (device, seq) once, aggregates them by hour, model, hardware, version and event for
// TelemetryReport and `otafleetctl fleet telemetry`, and flags anomalies: a spike of failed
// updates, a tampered slot, a signature failure, a version no release explains.
#include "CliRun.h"
#include "ServerTestBase.h"

#include <QDeadlineTimer>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace otafleet;
using namespace otafleet::test;
namespace apb = otafleet::agent::v1;

namespace {

dpb::AgentMessage phaseEvent(quint64 seq, qint64 timeMs, apb::EventPhase phase,
                             const std::string& code = {}, quint64 durationMs = 0) {
    dpb::AgentMessage m;
    apb::Event* e = m.mutable_telemetry()->mutable_event();
    m.mutable_telemetry()->set_seq(seq);
    e->set_seq(seq);
    e->set_time_unix_ms(timeMs);
    e->mutable_phase()->set_phase(phase);
    e->mutable_phase()->set_version("2.0.0");
    e->mutable_phase()->set_error_code(code);
    e->mutable_phase()->set_duration_ms(durationMs);
    e->mutable_phase()->set_bytes(4096);
    e->mutable_phase()->set_throughput_bytes_per_s(2048);
    return m;
}

dpb::AgentMessage bootEvent(quint64 seq, qint64 timeMs, const std::string& code) {
    dpb::AgentMessage m;
    apb::Event* e = m.mutable_telemetry()->mutable_event();
    e->set_seq(seq);
    e->set_time_unix_ms(timeMs);
    e->mutable_boot()->set_version("1.0.0");
    e->mutable_boot()->set_error_code(code);
    return m;
}

}  // namespace

class TestServerTelemetry : public QObject, public ServerTestBase {
    Q_OBJECT

    // One session of a device: its inventory (running `version`), then `messages`, then a clean
    // close.
    void session(const QString& deviceId, const QList<dpb::AgentMessage>& messages,
                 const QString& version = QStringLiteral("1.0.0")) {
        auto stub = deviceStub(deviceId);
        QVERIFY(stub);
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
        auto stream = stub->Session(&context);
        dpb::AgentMessage hello;
        *hello.mutable_inventory() = inventory(deviceId, version);
        QVERIFY(stream->Write(hello));
        for (const dpb::AgentMessage& m : messages)
            QVERIFY(stream->Write(m));
        QVERIFY(stream->WritesDone());
        const grpc::Status status = stream->Finish();
        QVERIFY2(status.ok(), status.error_message().c_str());
    }

    QJsonObject ctlJson(const QStringList& args) {
        auto run = otafleetctl(args + QStringList{QStringLiteral("--json"),
                                                  QStringLiteral("--server"), m_server->address(),
                                                  QStringLiteral("--pki"), m_pki->pkiDir});
        if (run.exitCode != 0)
            qWarning("otafleetctl failed: %s", run.err.constData());
        return QJsonDocument::fromJson(run.out).object();
    }

private Q_SLOTS:
    void initTestCase() { startServer(); }

    void eventsAreStoredOnceAndAggregated() {
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        const qint64 minute = 60 * 1000;
        session(QStringLiteral("tel-ok"),
                {phaseEvent(1, now - 10 * minute, apb::EVENT_PHASE_INSTALL_DONE, {}, 3000),
                 // A resend after a reconnect: the same seq is kept once.
                 phaseEvent(1, now - 10 * minute, apb::EVENT_PHASE_INSTALL_DONE, {}, 3000)});
        session(QStringLiteral("tel-fail-1"),
                {phaseEvent(1, now - 9 * minute, apb::EVENT_PHASE_INSTALL_FAILED,
                            "agent.health-check-failed")});
        session(QStringLiteral("tel-fail-2"),
                {phaseEvent(1, now - 8 * minute, apb::EVENT_PHASE_REVERT,
                            "agent.health-check-failed")});
        session(QStringLiteral("tel-sig"),
                {phaseEvent(1, now - 7 * minute, apb::EVENT_PHASE_INSTALL_FAILED,
                            "crypto.signature-invalid")});
        session(QStringLiteral("tel-tamper"),
                {bootEvent(1, now - 6 * minute, "agent.tamper-detected")});

        Console admin = adminConsole();
        cpb::TelemetryReportRequest request;
        cpb::TelemetryReportReply report;
        grpc::Status status;
        // otafleetd writes telemetry in batches, within StoreWorker::kTelemetryLatency (100 ms).
        QDeadlineTimer stored(5000);
        do {
            report.Clear();
            status = admin.stub->TelemetryReport(admin.context().get(), request, &report);
            QVERIFY2(status.ok(), status.error_message().c_str());
        } while (report.events() < 5 && !stored.hasExpired() && (QTest::qWait(50), true));
        QCOMPARE(report.events(), 5U);
        quint64 done = 0;
        for (const cpb::TelemetryBucket& b : report.buckets()) {
            QCOMPARE(b.model(), std::string("gw-x1"));
            QCOMPARE(b.hardware(), std::string("rev-a"));
            if (b.event() == "install-done") {
                done += b.count();
                QCOMPARE(b.version(), std::string("2.0.0"));
                QCOMPARE(b.avg_duration_ms(), 3000.0);
            }
        }
        QCOMPARE(done, 1U);
        QCOMPARE(report.failure_reasons(0).error_code(), std::string("agent.health-check-failed"));
        QCOMPARE(report.failure_reasons(0).count(), 2U);

        // Narrowed to a model nobody runs: nothing.
        request.set_model("gw-none");
        status = admin.stub->TelemetryReport(admin.context().get(), request, &report);
        QVERIFY(status.ok());
        QCOMPARE(report.events(), 0U);

        // The same through the command line.
        const QJsonObject json = ctlJson({QStringLiteral("fleet"), QStringLiteral("telemetry"),
                                          QStringLiteral("--since"), QStringLiteral("2h")});
        QCOMPARE(json.value(QStringLiteral("events")).toInt(), 5);
        QVERIFY(!json.value(QStringLiteral("buckets")).toArray().isEmpty());
        QCOMPARE(json.value(QStringLiteral("failure_reasons"))
                     .toArray()
                     .first()
                     .toObject()
                     .value(QStringLiteral("error_code"))
                     .toString(),
                 QStringLiteral("agent.health-check-failed"));
    }

    void anomaliesAreFlagged() {
        const QJsonObject json = ctlJson({QStringLiteral("fleet"), QStringLiteral("anomalies")});
        QMap<QString, QStringList> byKind;
        for (const QJsonValue& v : json.value(QStringLiteral("anomalies")).toArray()) {
            const QJsonObject a = v.toObject();
            byKind[a.value(QStringLiteral("kind")).toString()]
                << a.value(QStringLiteral("device_id")).toString();
            QVERIFY(!a.value(QStringLiteral("detail")).toString().isEmpty());
        }
        // 3 of 4 finished updates failed in the last hour, none the day before.
        QCOMPARE(byKind.value(QStringLiteral("failure-spike")).size(), 1);
        QCOMPARE(byKind.value(QStringLiteral("tampered-slot")),
                 QStringList{QStringLiteral("tel-tamper")});
        QCOMPARE(byKind.value(QStringLiteral("signature-failure")),
                 QStringList{QStringLiteral("tel-sig")});
        // Every device runs 1.0.0 and the server holds no release of it.
        QCOMPARE(byKind.value(QStringLiteral("unexplained-version")).size(), 1);
    }

    // The console's charts: the server computes the distributions and the adoption from its
    // stored events, with the console's arithmetic; without `charts` the reply has none.
    void chartsAreComputedFromTheStore() {
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        const qint64 minute = 60 * 1000;
        const qint64 day = 24 * 60 * minute;
        const auto upload = [](quint64 seq, qint64 t, double bytesPerSecond) {
            dpb::AgentMessage m = phaseEvent(seq, t, apb::EVENT_PHASE_UPLOAD_COMPLETED);
            m.mutable_telemetry()->mutable_event()->mutable_phase()->set_throughput_bytes_per_s(
                bytesPerSecond);
            return m;
        };
        const auto boot = [](quint64 seq, qint64 t, const std::string& version) {
            dpb::AgentMessage m = bootEvent(seq, t, {});
            m.mutable_telemetry()->mutable_event()->mutable_boot()->set_version(version);
            return m;
        };
        Console admin = adminConsole();
        cpb::TelemetryReportRequest request;
        request.set_since_unix_ms(now - 3 * day);
        request.set_until_unix_ms(now + minute);
        request.set_model("gw-x1");
        const auto storedEvents = [&]() -> quint64 {
            cpb::TelemetryReportReply r;
            const grpc::Status s = admin.stub->TelemetryReport(admin.context().get(), request, &r);
            return s.ok() ? r.events() : 0;
        };
        const quint64 before = storedEvents();
        // Two devices: one boots 3.0.0 two days ago and 3.1.0 today; the other runs 3.0.0.
        session(QStringLiteral("chart-a"),
                {boot(1, now - 2 * day, "3.0.0"), upload(2, now - 5 * minute, 4'000'000),
                 phaseEvent(3, now - 4 * minute, apb::EVENT_PHASE_INSTALL_DONE, {}, 12'000),
                 boot(4, now - 3 * minute, "3.1.0")},
                QStringLiteral("3.1.0"));
        session(QStringLiteral("chart-b"),
                {boot(1, now - 2 * day, "3.0.0"), upload(2, now - 5 * minute, 1'000'000),
                 phaseEvent(3, now - 4 * minute, apb::EVENT_PHASE_INSTALL_DONE, {}, 3'000)},
                QStringLiteral("3.0.0"));
        // otafleetd writes telemetry in batches (StoreWorker::kTelemetryLatency, 100 ms): wait
        // until all seven events are stored.
        QTRY_COMPARE_WITH_TIMEOUT(storedEvents(), before + 7, 5000);

        cpb::TelemetryReportReply plain;
        grpc::Status status = admin.stub->TelemetryReport(admin.context().get(), request, &plain);
        QVERIFY2(status.ok(), status.error_message().c_str());
        QVERIFY(!plain.charts());
        QCOMPARE(plain.install_seconds().samples(), 0U);

        request.set_charts(true);
        cpb::TelemetryReportReply report;
        status = admin.stub->TelemetryReport(admin.context().get(), request, &report);
        QVERIFY2(status.ok(), status.error_message().c_str());
        QVERIFY(report.charts());
        QVERIFY(!report.samples_cut());
        // Install durations 3 s and 12 s (and the 3 s of the first test's tel-ok, in range).
        const cpb::Histogram& installs = report.install_seconds();
        quint64 counted = 0;
        for (const quint64 c : installs.counts())
            counted += c;
        QCOMPARE(counted, installs.samples());
        QVERIFY(installs.samples() >= 2);
        QVERIFY(installs.bin_width() > 0);
        const auto binOf = [&installs](double v) {
            return int((v - installs.lower()) / installs.bin_width());
        };
        QVERIFY(installs.counts(binOf(12.0)) >= 1);
        QVERIFY(installs.counts(binOf(3.0)) >= 1);
        // Throughput in MB/s: 4 and 1 (and the 2048 B/s of the first test's events).
        const cpb::Histogram& throughput = report.throughput_mbps();
        QVERIFY(throughput.samples() >= 2);
        QVERIFY(throughput.lower() + throughput.bin_width() * throughput.counts_size() > 4.0);
        // Adoption: today chart-a runs 3.1.0 and chart-b 3.0.0; two days ago both ran 3.0.0.
        QVERIFY(report.adoption_days_unix_ms_size() >= 3);
        QHash<QString, QList<quint64>> series;
        for (const cpb::AdoptionSeries& a : report.adoption()) {
            QCOMPARE(a.devices_size(), report.adoption_days_unix_ms_size());
            series.insert(QString::fromStdString(a.version()),
                          QList<quint64>(a.devices().begin(), a.devices().end()));
        }
        QVERIFY(series.contains(QStringLiteral("3.0.0")));
        QVERIFY(series.contains(QStringLiteral("3.1.0")));
        QVERIFY(series.value(QStringLiteral("3.1.0")).last() >= 1);
        const int twoDaysAgo = report.adoption_days_unix_ms_size() - 3;
        QVERIFY(series.value(QStringLiteral("3.0.0")).at(twoDaysAgo) >= 2);
        QCOMPARE(series.value(QStringLiteral("3.1.0")).at(twoDaysAgo), 0U);

        // A rollout id that is no rollout has no reasons; a negative one is refused.
        request.set_rollout_id(424242);
        status = admin.stub->TelemetryReport(admin.context().get(), request, &report);
        QVERIFY2(status.ok(), status.error_message().c_str());
        QCOMPARE(report.rollout_failure_reasons_size(), 0);
        request.set_rollout_id(-1);
        status = admin.stub->TelemetryReport(admin.context().get(), request, &report);
        QCOMPARE(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
        QCOMPARE(status.error_details(), std::string("server.invalid-rollout"));
    }

    void badRangesAreRefused() {
        Console admin = adminConsole();
        cpb::TelemetryReportRequest request;
        request.set_since_unix_ms(2'000'000'000'000);
        request.set_until_unix_ms(1'000'000'000'000);
        cpb::TelemetryReportReply report;
        grpc::Status status = admin.stub->TelemetryReport(admin.context().get(), request, &report);
        QCOMPARE(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
        request.set_since_unix_ms(1);
        request.set_until_unix_ms(1 + 40LL * 24 * 3600 * 1000);
        status = admin.stub->TelemetryReport(admin.context().get(), request, &report);
        QCOMPARE(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
        auto refused = otafleetctl({QStringLiteral("fleet"), QStringLiteral("telemetry"),
                                    QStringLiteral("--since"), QStringLiteral("soon"),
                                    QStringLiteral("--server"), m_server->address(),
                                    QStringLiteral("--pki"), m_pki->pkiDir});
        QCOMPARE(refused.exitCode, 1);
        QVERIFY(refused.err.contains("plan.duration"));
    }

    // The agent forgets an event once the server acknowledges it, so the server acknowledges
    // only what is in its store: an event it held in memory when it died is sent again. Runs
    // last: its events would change the figures the cases above check.
    void eventsAreAcknowledgedOnceStored() {
        const QString deviceId = QStringLiteral("tel-ack");
        Console admin = adminConsole();
        const auto storedEvents = [&] {
            cpb::TelemetryReportRequest request;
            request.set_model("gw-x1");
            cpb::TelemetryReportReply report;
            const grpc::Status status =
                admin.stub->TelemetryReport(admin.context().get(), request, &report);
            return status.ok() ? qint64(report.events()) : qint64(-1);
        };
        const qint64 before = storedEvents();
        QVERIFY(before >= 0);

        auto stub = deviceStub(deviceId);
        QVERIFY(stub);
        grpc::ClientContext inventoryContext;
        dpb::InventoryAck inventoryAck;
        QVERIFY(stub->ReportInventory(&inventoryContext,
                                      inventory(deviceId, QStringLiteral("1.0.0")), &inventoryAck)
                    .ok());
        QVERIFY(inventoryAck.acks_telemetry());

        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
        auto stream = stub->Session(&context);
        dpb::AgentMessage hello;
        *hello.mutable_inventory() = inventory(deviceId, QStringLiteral("1.0.0"));
        QVERIFY(stream->Write(hello));
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        for (quint64 seq = 1; seq <= 3; ++seq)
            QVERIFY(stream->Write(phaseEvent(seq, now, apb::EVENT_PHASE_UPLOAD_STARTED)));
        // Read acks until seq 3 is covered; every ack must come after what it covers is stored.
        const auto readAckUpTo = [&](quint64 wanted) {
            dpb::ServerMessage in;
            quint64 acked = 0;
            while (acked < wanted && stream->Read(&in)) {
                if (!in.has_telemetry_ack())
                    continue;
                QVERIFY(in.telemetry_ack().seq() >= acked);
                acked = in.telemetry_ack().seq();
                QVERIFY2(storedEvents() >= before + qint64(std::min<quint64>(acked, 3)),
                         "acknowledged before it was stored");
            }
            QCOMPARE(acked, wanted);
        };
        readAckUpTo(3);
        if (QTest::currentTestFailed())
            return;
        // An event with nothing to keep (no body) is acknowledged too, so it leaves the queue.
        dpb::AgentMessage empty;
        empty.mutable_telemetry()->set_seq(4);
        empty.mutable_telemetry()->set_time_unix_ms(now);
        QVERIFY(stream->Write(empty));
        readAckUpTo(4);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(storedEvents(), before + 3);
        QVERIFY(stream->WritesDone());
        const grpc::Status status = stream->Finish();
        QVERIFY2(status.ok(), status.error_message().c_str());
    }
};

QTEST_GUILESS_MAIN(TestServerTelemetry)
#include "tst_servertelemetry.moc"
