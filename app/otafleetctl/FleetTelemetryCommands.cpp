// otafleetctl fleet telemetry and fleet anomalies: what the fleet's agents reported to otafleetd,
// aggregated by the server (FleetTelemetry.h), and what in it needs a person's attention.
#include "Cli.h"
#include "ServerConnection.h"

#include "rollout/PlanValues.h"

#include <QDateTime>
#include <QJsonArray>

namespace otafleet::cli {
namespace {

const QCommandLineOption kSince(QStringLiteral("since"),
                                QStringLiteral("Report the last DURATION (\"24h\", \"7d\"; at "
                                               "most 31 days). Default 24h."),
                                QStringLiteral("DURATION"), QStringLiteral("24h"));
const QCommandLineOption kModel(QStringLiteral("model"), QStringLiteral("Only this model."),
                                QStringLiteral("M"));
const QCommandLineOption kVersion(QStringLiteral("version"),
                                  QStringLiteral("Only events about this version."),
                                  QStringLiteral("V"));

QString qs(const std::string& s) {
    return QString::fromStdString(s);
}

int runTelemetry(const QCommandLineParser& p, ServerConnection& c, bool json) {
    auto since = rollout::plan_values::parseDuration(p.value(kSince), QStringLiteral("--since"));
    if (!since)
        return failWith(since.error(), json);
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    cpb::TelemetryReportRequest request;
    request.set_until_unix_ms(now);
    request.set_since_unix_ms(now - qint64(since->count()) * 1000);
    request.set_model(p.value(kModel).toStdString());
    request.set_version(p.value(kVersion).toStdString());
    auto reply = c.call(&cpb::ConsoleService::Stub::TelemetryReport, request);
    if (!reply)
        return failWith(reply.error(), json);
    if (json) {
        QJsonArray buckets;
        for (const cpb::TelemetryBucket& b : reply->buckets()) {
            buckets.append(QJsonObject{
                {QStringLiteral("hour"), isoTime(b.hour_unix_ms())},
                {QStringLiteral("model"), qs(b.model())},
                {QStringLiteral("hardware"), qs(b.hardware())},
                {QStringLiteral("version"), qs(b.version())},
                {QStringLiteral("event"), qs(b.event())},
                {QStringLiteral("count"), double(b.count())},
                {QStringLiteral("devices"), double(b.devices())},
                {QStringLiteral("avg_duration_ms"), b.avg_duration_ms()},
                {QStringLiteral("bytes"), double(b.bytes())},
                {QStringLiteral("avg_throughput_bytes_per_s"), b.avg_throughput_bytes_per_s()}});
        }
        QJsonArray reasons;
        for (const cpb::ReasonCount& r : reply->failure_reasons()) {
            reasons.append(QJsonObject{{QStringLiteral("error_code"), qs(r.error_code())},
                                       {QStringLiteral("count"), double(r.count())},
                                       {QStringLiteral("devices"), double(r.devices())}});
        }
        printJson(QJsonObject{{QStringLiteral("since"), isoTime(request.since_unix_ms())},
                              {QStringLiteral("until"), isoTime(request.until_unix_ms())},
                              {QStringLiteral("events"), double(reply->events())},
                              {QStringLiteral("buckets"), buckets},
                              {QStringLiteral("failure_reasons"), reasons}});
        return kSuccess;
    }
    printText(QStringLiteral("%1 event(s) from %2 to %3")
                  .arg(reply->events())
                  .arg(isoTime(request.since_unix_ms()), isoTime(request.until_unix_ms())));
    for (const cpb::TelemetryBucket& b : reply->buckets()) {
        QString line = QStringLiteral("%1  %2 %3 %4  %5 x%6 (%7 devices)")
                           .arg(isoTime(b.hour_unix_ms()).left(13), qs(b.model()), qs(b.hardware()),
                                qs(b.version()), qs(b.event()))
                           .arg(b.count())
                           .arg(b.devices());
        if (b.avg_duration_ms() > 0)
            line += QStringLiteral("  avg %1 s").arg(b.avg_duration_ms() / 1000.0, 0, 'f', 1);
        if (b.avg_throughput_bytes_per_s() > 0) {
            line +=
                QStringLiteral("  %1/s").arg(formatBytes(qint64(b.avg_throughput_bytes_per_s())));
        }
        printText(line);
    }
    if (reply->failure_reasons_size() > 0) {
        printText(QStringLiteral("failure reasons:"));
        for (const cpb::ReasonCount& r : reply->failure_reasons()) {
            printText(QStringLiteral("  %1  x%2 on %3 device(s)")
                          .arg(qs(r.error_code()))
                          .arg(r.count())
                          .arg(r.devices()));
        }
    }
    return kSuccess;
}

int runAnomalies(const QCommandLineParser&, ServerConnection& c, bool json) {
    auto reply = c.call(&cpb::ConsoleService::Stub::ListAnomalies, cpb::ListAnomaliesRequest());
    if (!reply)
        return failWith(reply.error(), json);
    if (json) {
        QJsonArray anomalies;
        for (const cpb::Anomaly& a : reply->anomalies()) {
            anomalies.append(QJsonObject{
                {QStringLiteral("kind"), qs(a.kind())},
                {QStringLiteral("device_id"), qs(a.device_id())},
                {QStringLiteral("model"), qs(a.model())},
                {QStringLiteral("version"), qs(a.version())},
                {QStringLiteral("devices"), double(a.devices())},
                {QStringLiteral("time"), a.time_unix_ms() ? isoTime(a.time_unix_ms()) : QString()},
                {QStringLiteral("detail"), qs(a.detail())}});
        }
        printJson(QJsonObject{{QStringLiteral("anomalies"), anomalies}});
        return kSuccess;
    }
    if (reply->anomalies_size() == 0)
        printText(QStringLiteral("No anomalies."));
    for (const cpb::Anomaly& a : reply->anomalies())
        printText(QStringLiteral("%1: %2").arg(qs(a.kind()), qs(a.detail())));
    return kSuccess;
}

}  // namespace

QList<Command> fleetTelemetryCommands() {
    const QString fleet = QStringLiteral("fleet");
    return {
        serverCommandFor(fleet, QStringLiteral("telemetry"),
                         QStringLiteral("Update telemetry by hour, model, hardware, version and "
                                        "event, with the failure reasons."),
                         {}, {kSince, kModel, kVersion}, runTelemetry),
        serverCommandFor(fleet, QStringLiteral("anomalies"),
                         QStringLiteral("Failure spikes, tampered slots, signature failures and "
                                        "versions no release explains."),
                         {}, {}, runAnomalies),
    };
}

}  // namespace otafleet::cli
