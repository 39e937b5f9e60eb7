// otafleetd's side of fleet telemetry: what an agent's TelemetryEvent becomes in the store, the
// report a console asks for (TelemetryReport), and the anomalies worth a person's attention
// (ListAnomalies): a spike of failed updates, slots found tampered with, signature failures, and
// devices running a version that no release on the server explains.
#pragma once

#include "common/Error.h"
#include "store/DeviceTelemetryRepository.h"
#include "store/FleetStore.h"

#include "otafleet/console/v1/console.pb.h"
#include "otafleet/device/v1/device.pb.h"

#include <QDateTime>

#include <optional>

namespace otafleet::server {

// What the session knows about its device, stamped on each event for the report's grouping.
struct TelemetryOrigin {
    QString deviceId;
    QString model;
    QString hardware;
    QString version;  // running firmware, for events that name none
};

// The longest range one report covers.
inline constexpr qint64 kMaxTelemetryRangeMs = 31LL * 24 * 3600 * 1000;

// Nothing for an event without a sequence number or body (there is nothing to keep it by).
[[nodiscard]] std::optional<store::DeviceTelemetryRecord> telemetryRecord(
    const TelemetryOrigin& origin, const device::v1::TelemetryEvent& event);

// Error server.invalid-range: until before since, or more than 31 days apart; model or version
// too long.
[[nodiscard]] Result<store::TelemetryQuery> telemetryQuery(
    const console::v1::TelemetryReportRequest& r, const QDateTime& now);

[[nodiscard]] Status fillTelemetryReport(store::FleetStore& store,
                                         const store::TelemetryQuery& query,
                                         console::v1::TelemetryReportReply* reply);

// The most events and devices one report's charts read (the newest ones).
inline constexpr int kMaxChartSamples = store::DeviceTelemetryRepository::kMaxSamples;

// The console's charts over the query's range, with the arithmetic the console's embedded fleet
// uses (fleet/TelemetryReport.h): upload throughput and install duration histograms, and the
// versions devices ran at the end of each day (their boots, commits and health checks, and each
// device's running version when it was last seen); with `rolloutId` > 0, that rollout's failure
// reasons from its device rows. Sets reply->charts().
[[nodiscard]] Status fillTelemetryCharts(store::FleetStore& store,
                                         const store::TelemetryQuery& query, qint64 rolloutId,
                                         console::v1::TelemetryReportReply* reply);

// Thresholds of the failure-spike rule: at least kSpikeMinFailures failed updates in the last
// hour, at a rate above kSpikeMinRate and above kSpikeFactor times the rate of the day before.
inline constexpr qint64 kSpikeMinFailures = 3;
inline constexpr double kSpikeMinRate = 0.2;
inline constexpr double kSpikeFactor = 2.0;

[[nodiscard]] Status fillAnomalies(store::FleetStore& store, const QDateTime& now,
                                   console::v1::AnomalyList* reply);

}  // namespace otafleet::server
