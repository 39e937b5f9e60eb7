// ConsoleService: the fleet's telemetry report and its anomalies (FleetTelemetry.h).
#include "server/ConsoleService.h"
#include "server/FleetTelemetry.h"
#include "server/RequestCheck.h"

namespace otafleet::server {

grpc::ServerUnaryReactor* ConsoleService::TelemetryReport(grpc::CallbackServerContext* c,
                                                          const cpb::TelemetryReportRequest* r,
                                                          cpb::TelemetryReportReply* reply) {
    auto caller = authorize(c, Action::FleetTelemetry, QStringLiteral("fleet"));
    if (!caller)
        return finishUnary(c, fail(caller.error()));
    auto query = telemetryQuery(*r, QDateTime::currentDateTimeUtc());
    if (!query)
        return finishUnary(c, fail(query.error()));
    if (r->rollout_id() < 0 || r->rollout_id() > kMaxRolloutId) {
        return finishUnary(c, fail(QStringLiteral("server.invalid-rollout"),
                                   QStringLiteral("A rollout id is a positive number (got %1); "
                                                  "'otafleetctl rollout list' shows them.")
                                       .arg(r->rollout_id())));
    }
    return finishUnary(c, m_store.run([&](store::FleetStore& s) -> Status {
        if (auto filled = fillTelemetryReport(s, *query, reply); !filled)
            return filled;
        if (!r->charts())
            return {};
        return fillTelemetryCharts(s, *query, r->rollout_id(), reply);
    }));
}

grpc::ServerUnaryReactor* ConsoleService::ListAnomalies(grpc::CallbackServerContext* c,
                                                        const cpb::ListAnomaliesRequest*,
                                                        cpb::AnomalyList* reply) {
    auto caller = authorize(c, Action::FleetAnomalies, QStringLiteral("fleet"));
    if (!caller)
        return finishUnary(c, fail(caller.error()));
    return finishUnary(c, m_store.run([&](store::FleetStore& s) {
        return fillAnomalies(s, QDateTime::currentDateTimeUtc(), reply);
    }));
}

}  // namespace otafleet::server
