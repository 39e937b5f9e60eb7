// ConsoleService: the fleet's telemetry report and its anomalies (FleetTelemetry.h).
#include "server/ConsoleService.h"
#include "server/FleetTelemetry.h"

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
    return finishUnary(c, m_store.run([&](store::FleetStore& s) {
        return fillTelemetryReport(s, *query, reply);
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
