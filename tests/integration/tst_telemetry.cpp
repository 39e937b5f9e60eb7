// Telemetry end to end: a real agent records the phases of a real push (bytes, durations,
// throughput), its boots, health checks and metrics; `otafleetctl device events` shows them;
// unacknowledged events survive kill -9 and are delivered after the restart; --ack removes them.
#include "AgentTestBase.h"
#include "ProcessRun.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace {

struct EventsRun {
    int exitCode = -1;
    QByteArray err;
    QJsonObject reply;
    QJsonArray events;
};

QStringList typesOf(const QJsonArray& events, bool phasesOnly = false) {
    QStringList out;
    for (const QJsonValue& v : events) {
        const QJsonObject e = v.toObject();
        const QString type = e.value(QStringLiteral("type")).toString();
        if (type == u"phase")
            out << e.value(QStringLiteral("phase")).toString();
        else if (!phasesOnly)
            out << type;
    }
    return out;
}

QList<QJsonObject> ofType(const QJsonArray& events, const QString& type) {
    QList<QJsonObject> out;
    for (const QJsonValue& v : events) {
        const QJsonObject e = v.toObject();
        if (e.value(QStringLiteral("type")).toString() == type ||
            e.value(QStringLiteral("phase")).toString() == type) {
            out << e;
        }
    }
    return out;
}

double num(const QJsonObject& o, const char* key) {
    return o.value(QLatin1String(key)).toDouble();
}

}  // namespace

class TestTelemetry : public agenttest::AgentTestBase {
    Q_OBJECT

    EventsRun events(const AgentProcess& agent, const QStringList& extra = {}) {
        QStringList args{QStringLiteral("device"),   QStringLiteral("events"),
                         QStringLiteral("--target"), agent.target(),
                         QStringLiteral("--pki"),    m_pki->pkiDir,
                         QStringLiteral("--json")};
        args += extra;
        const test::ProcessRun run =
            test::runProcess(QStringLiteral(OTAFLEET_BIN_DIR "/otafleetctl"), args);
        EventsRun out;
        out.exitCode = run.exitCode;
        out.err = run.err;
        out.reply = QJsonDocument::fromJson(run.out).object();
        out.events = out.reply.value(QStringLiteral("events")).toArray();
        return out;
    }

private Q_SLOTS:
    void initTestCase() { setUpFleets(); }

    void pushIsRecordedAndSurvivesKill() {
        auto agent = newAgent({}, {{QStringLiteral("# command = /usr/local/bin/check-health"),
                                    QStringLiteral("command = /bin/true")}});
        QVERIFY(agent);
        auto client = clientFor(*agent);
        QVERIFY(client);
        auto bundle = makeBundle(agenttest::BundleSpec{}, *m_pki);
        VERIFY_OK(bundle);
        VERIFY_OK(client->push(*bundle, PushOptions{}, {}));

        const EventsRun first = events(*agent);
        QVERIFY2(first.exitCode == 0, first.err.constData());
        // The update's path, in order, as phase events.
        const QStringList phases = typesOf(first.events, true);
        QCOMPARE(
            phases,
            QStringList({QStringLiteral("upload-started"), QStringLiteral("upload-completed"),
                         QStringLiteral("install-verifying"), QStringLiteral("install-writing"),
                         QStringLiteral("install-finalizing"), QStringLiteral("install-done"),
                         QStringLiteral("reboot"), QStringLiteral("trial-boot"),
                         QStringLiteral("commit")}));
        const QJsonObject upload = ofType(first.events, QStringLiteral("upload-completed")).first();
        QCOMPARE(qint64(num(upload, "bytes")), QFileInfo(*bundle).size());
        QCOMPARE(qint64(num(upload, "total_bytes")), QFileInfo(*bundle).size());
        QVERIFY(num(upload, "throughput_bytes_per_s") > 0);
        const QJsonObject writing = ofType(first.events, QStringLiteral("install-writing")).first();
        QCOMPARE(qint64(num(writing, "bytes")), agenttest::BundleSpec{}.payloadSize);
        QCOMPARE(writing.value(QStringLiteral("slot")).toString(), QStringLiteral("B"));
        QCOMPARE(writing.value(QStringLiteral("version")).toString(), QStringLiteral("1.1.0"));
        const QJsonObject done = ofType(first.events, QStringLiteral("install-done")).first();
        QVERIFY(num(done, "duration_ms") >= num(writing, "duration_ms"));

        // Two boots (setup's firmware, then the trial), each health-checked and measured.
        const QList<QJsonObject> boots = ofType(first.events, QStringLiteral("boot"));
        QCOMPARE(boots.size(), 2);
        QCOMPARE(boots[1].value(QStringLiteral("slot")).toString(), QStringLiteral("B"));
        QVERIFY(boots[1].value(QStringLiteral("trial")).toBool());
        QCOMPARE(num(boots[1], "boot_count"), num(boots[0], "boot_count") + 1);
        QVERIFY(num(boots[1], "start_to_serving_ms") < 60000);
        const QList<QJsonObject> health = ofType(first.events, QStringLiteral("health"));
        QCOMPARE(health.size(), 2);
        for (const QJsonObject& h : health) {
            QVERIFY(h.value(QStringLiteral("ok")).toBool());
            QCOMPARE(num(h, "exit_code"), 0.0);
        }
        const QList<QJsonObject> metrics = ofType(first.events, QStringLiteral("metrics"));
        QVERIFY(metrics.size() >= 3);  // at each boot and after the install
        QVERIFY(num(metrics[0], "data_free_bytes") > 0);
        QVERIFY(num(metrics[0], "slot_total_bytes") > 0);
        QVERIFY(num(metrics[0], "mem_available_bytes") > 0);
        QVERIFY(num(metrics[0], "uptime_s") > 0);
        double previous = 0;
        for (const QJsonValue& v : first.events) {
            const QJsonObject e = v.toObject();
            QVERIFY(num(e, "seq") > previous);
            previous = num(e, "seq");
            const QDateTime time = QDateTime::fromString(e.value(QStringLiteral("time")).toString(),
                                                         Qt::ISODateWithMs);
            QVERIFY(time.isValid());
            QCOMPARE(time.timeSpec(), Qt::UTC);
            QVERIFY(qAbs(time.secsTo(QDateTime::currentDateTimeUtc())) < 300);
        }
        QCOMPARE(num(first.reply, "last_seq"), previous);
        QCOMPARE(num(first.reply, "acked_seq"), 0.0);

        // Text for people.
        const test::ProcessRun text = test::runProcess(
            QStringLiteral(OTAFLEET_BIN_DIR "/otafleetctl"),
            {QStringLiteral("device"), QStringLiteral("events"), QStringLiteral("--target"),
             agent->target(), QStringLiteral("--pki"), m_pki->pkiDir});
        QCOMPARE(text.exitCode, 0);
        QVERIFY(text.out.contains("upload-completed"));
        QVERIFY(text.out.contains("throughput_bytes_per_s="));

        // kill -9: nothing unacknowledged is lost; the restart adds its own boot.
        agent->kill();
        VERIFY_OK(agent->start());
        const EventsRun afterKill = events(*agent);
        QVERIFY2(afterKill.exitCode == 0, afterKill.err.constData());
        QVERIFY(afterKill.events.size() > first.events.size());
        for (qsizetype i = 0; i < first.events.size(); ++i)
            QCOMPARE(afterKill.events[i].toObject(), first.events[i].toObject());
        QCOMPARE(typesOf(afterKill.events).mid(first.events.size()).count(QStringLiteral("boot")),
                 1);

        // --ack delivers and removes; the next fetch has nothing, also after another kill -9
        // except the new boot's own events.
        const EventsRun acked = events(*agent, {QStringLiteral("--ack")});
        QVERIFY2(acked.exitCode == 0, acked.err.constData());
        QCOMPARE(acked.events.size(), afterKill.events.size());
        const double ackedSeq = num(acked.reply, "acked_seq");
        QCOMPARE(ackedSeq, num(afterKill.reply, "last_seq"));
        const EventsRun empty = events(*agent);
        QCOMPARE(empty.events.size(), 0);
        QCOMPARE(num(empty.reply, "acked_seq"), ackedSeq);
        agent->kill();
        VERIFY_OK(agent->start());
        const EventsRun fresh = events(*agent);
        QVERIFY(!fresh.events.isEmpty());
        QVERIFY(num(fresh.events.first().toObject(), "seq") > ackedSeq);
        QVERIFY(!typesOf(fresh.events).contains(QStringLiteral("upload-completed")));

        // A sequence number the agent never assigned cannot be acknowledged.
        auto again = clientFor(*agent);
        QVERIFY(again);
        auto ahead = again->ackEvents(quint64(num(fresh.reply, "last_seq")) + 10);
        QVERIFY(!ahead);
        QCOMPARE(ahead.error().code, QStringLiteral("telemetry.ack-ahead"));
    }

    // [telemetry] metrics_interval: snapshots keep coming while nothing else happens.
    void metricsArePeriodic() {
        auto agent = newAgent(QStringLiteral("\n[telemetry]\nmetrics_interval = 1\n"));
        QVERIFY(agent);
        QTest::qWait(2600);
        const EventsRun run = events(*agent);
        QVERIFY2(run.exitCode == 0, run.err.constData());
        // One at the boot, then one a second.
        const auto metrics = ofType(run.events, QStringLiteral("metrics"));
        QVERIFY2(metrics.size() >= 3, qPrintable(QString::number(metrics.size())));
        QVERIFY(num(metrics.last(), "data_free_bytes") > 0);
    }

    void badOptionsAreUsageErrors() {
        const test::ProcessRun run = test::runProcess(
            QStringLiteral(OTAFLEET_BIN_DIR "/otafleetctl"),
            {QStringLiteral("device"), QStringLiteral("events"), QStringLiteral("--target"),
             QStringLiteral("127.0.0.1:1"), QStringLiteral("--pki"), m_pki->pkiDir,
             QStringLiteral("--max"), QStringLiteral("0")});
        QCOMPARE(run.exitCode, 2);
        QVERIFY(run.err.contains("cli.usage"));
        const test::ProcessRun help = test::runProcess(
            QStringLiteral(OTAFLEET_BIN_DIR "/otafleetctl"),
            {QStringLiteral("device"), QStringLiteral("events"), QStringLiteral("--help")});
        QCOMPARE(help.exitCode, 0);
        QVERIFY(help.out.contains("--ack"));
    }
};

QTEST_GUILESS_MAIN(TestTelemetry)
#include "tst_telemetry.moc"
