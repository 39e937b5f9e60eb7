// What the console's telemetry charts show, as plain values: a rollout's progress over time
// (devices per state group after every recorded change), its waves' success and failure against
// the plan's thresholds, why its devices failed, firmware version adoption over the days, and the
// distributions of upload throughput and install duration. TelemetryService fills a report from
// the fleet's stored history; the pure functions below are the arithmetic it uses (tested on
// their own), so every figure on a chart is traceable to stored events.
#pragma once

#include "rollout/RolloutTypes.h"

#include <QDateTime>
#include <QList>
#include <QMetaType>
#include <QString>

#include <array>
#include <optional>

namespace otafleet::fleet {

// The states a rollout's devices are stacked by on the progress chart.
enum class ProgressGroup { Pending, InProgress, Succeeded, Failed, Skipped };
inline constexpr std::size_t kProgressGroupCount = 5;
inline constexpr std::array kAllProgressGroups{ProgressGroup::Pending, ProgressGroup::InProgress,
                                               ProgressGroup::Succeeded, ProgressGroup::Failed,
                                               ProgressGroup::Skipped};

// "pending", "in_progress", "succeeded", "failed", "skipped" (CSV headers; stable).
[[nodiscard]] QString progressGroupName(ProgressGroup group);
// offered .. verifying are in progress; failed, reverted and timed_out are failed.
[[nodiscard]] ProgressGroup progressGroupOf(rollout::DeviceState state);

struct ProgressPoint {
    QDateTime time;
    std::array<qint64, kProgressGroupCount> devices{};

    [[nodiscard]] qint64 count(ProgressGroup g) const {
        return devices[static_cast<std::size_t>(g)];
    }
};

// One recorded move of a rollout device (store::RolloutEventLog, in recording order).
struct DeviceStateChange {
    qint64 deviceId = 0;
    QDateTime time;
    rollout::DeviceState state = rollout::DeviceState::Pending;
    QString reason;
};

struct WaveOutcome {
    int number = 0;  // 1-based
    qint64 size = 0;
    qint64 succeeded = 0;
    qint64 failed = 0;  // failed + reverted + timed out
    qint64 skipped = 0;
    qint64 inProgress = 0;  // not finished: offered .. verifying, and not offered yet

    [[nodiscard]] qint64 executed() const { return succeeded + failed; }
    // succeeded / size, the share the success threshold is checked against (0 for an empty wave).
    [[nodiscard]] double successPercent() const;
    // failed / executed, the share the failure threshold is checked against.
    [[nodiscard]] double failurePercent() const;
};

struct ReasonCount {
    QString code;  // the error code before the reason's ':' ("link.timeout")
    qint64 count = 0;

    friend bool operator==(const ReasonCount&, const ReasonCount&) = default;
};

struct RolloutTelemetry {
    qint64 id = 0;
    QString name;
    QString state;                // rollout::rolloutStateName
    double successThreshold = 0;  // percent, from the plan
    double failureThreshold = 0;
    qint64 minExecuted = 0;
    qint64 total = 0;
    QList<ProgressPoint> progress;      // oldest first; empty before any device moved
    QList<WaveOutcome> waves;           // started waves only
    QList<ReasonCount> failureReasons;  // failed attempts per error code, most frequent first
};

struct RolloutChoice {
    qint64 id = 0;
    QString name;
    QString state;
};

// A device was seen running `version` at `time` (a boot, a commit, a report).
struct VersionSighting {
    qint64 deviceId = 0;
    QDateTime time;
    QString version;
};

struct AdoptionSeries {
    QString version;
    QList<qint64> devices;  // per day of VersionAdoption::days
};

struct VersionAdoption {
    QList<QDateTime> days;         // the end of each day (UTC midnight after it), oldest first
    QList<AdoptionSeries> series;  // in version order (SemVer where it parses)
};

// Equal-width bins from `lower`: bin i holds lower + i * width <= value < lower + (i+1) * width.
struct Histogram {
    double lower = 0;
    double binWidth = 0;
    QList<qint64> counts;
    qint64 samples = 0;

    [[nodiscard]] double binStart(qsizetype i) const { return lower + double(i) * binWidth; }
};

struct TelemetryReport {
    QList<RolloutChoice> rollouts;            // oldest first
    std::optional<RolloutTelemetry> rollout;  // the one asked for, if it exists
    VersionAdoption adoption;
    Histogram throughputMBps;  // completed uploads, megabytes (10^6 bytes) per second
    Histogram installSeconds;  // finished installs
    QDateTime generated;
    // Charts the source cannot fill, each with the sentence shown instead of the chart (empty
    // where it can): otafleetd keeps no history of a rollout's device moves (progress), and an
    // otafleetd that predates chart data gives no adoption, distributions or rollout reasons.
    QString progressUnavailable;
    QString fleetChartsUnavailable;  // adoption, throughput, install duration
    QString reasonsUnavailable;
};

// Replays `changes` from `start`, when all `total` devices were pending: one point at `start`
// (kept also when changes share its time), then one after the changes of each distinct time. More
// than `maxPoints` points are thinned to evenly spaced ones; the last point (the present) is always
// kept.
[[nodiscard]] QList<ProgressPoint> replayProgress(qint64 total, const QDateTime& start,
                                                  const QList<DeviceStateChange>& changes,
                                                  int maxPoints = 2000);
// Failures (failed, reverted, timed out) among `changes`, counted by the code their reason
// starts with ("(no reason)" without one), most frequent first, then by code.
[[nodiscard]] QList<ReasonCount> failureReasons(const QList<DeviceStateChange>& changes);
// Devices running each version at the end of each day from the day of the first sighting to the
// day of `until` (at most `maxDays` days, the latest ones); a device counts for the version it
// was last seen running.
[[nodiscard]] VersionAdoption versionAdoption(QList<VersionSighting> sightings,
                                              const QDateTime& until, int maxDays = 60);
// About `targetBins` bins of a round width (1, 2 or 5 times a power of ten) from 0 to past the
// largest value; negative and non-finite values are left out.
[[nodiscard]] Histogram histogram(const QList<double>& values, int targetBins = 20);
// SemVer precedence where both parse, else text order (after the ones that parse).
[[nodiscard]] bool versionPrecedes(const QString& a, const QString& b);

}  // namespace otafleet::fleet

Q_DECLARE_METATYPE(otafleet::fleet::TelemetryReport)
