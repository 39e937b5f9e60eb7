// Fleet telemetry end to end on a real otafleetd: devices dial in with their own certificates and
// send their agents' events over the Session stream, as otafleet-agent does; the server keeps
// each (device, seq) once, aggregates them by hour, model, hardware, version and event for
// TelemetryReport and `otafleetctl fleet telemetry`, and flags anomalies: a spike of failed
// updates, a tampered slot, a signature failure, a version no release explains.
#include "CliRun.h"
#include "ServerTestBase.h"

#include <QDeadlineTimer>
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

    // One session of a device: its inventory, then `messages`, then a clean close.
    void session(const QString& deviceId, const QList<dpb::AgentMessage>& messages) {
        auto stub = deviceStub(deviceId);
        QVERIFY(stub);
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
        auto stream = stub->Session(&context);
        dpb::AgentMessage hello;
        *hello.mutable_inventory() = inventory(deviceId, QStringLiteral("1.0.0"));
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
};

QTEST_GUILESS_MAIN(TestServerTelemetry)
#include "tst_servertelemetry.moc"
