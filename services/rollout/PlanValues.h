// Small bounded parsers for the values of `rollout create` options: durations ("90s", "15m",
// "1h30m", "2d"), percentages ("95", "95%", "12.5%"), wave lists ("1%,10%,50%,100%" or
// "10,100,1000") and rates ("20/min"). Each failure has its own plan.* code.
#pragma once

#include "common/Error.h"

#include <QList>
#include <QString>

#include <chrono>

namespace otafleet::rollout {

using Seconds = std::chrono::seconds;

// One wave's size: a count of devices, or a percentage of the targets not yet in any wave.
struct WaveSize {
    enum class Kind { Count, Percent };
    Kind kind = Kind::Percent;
    double percent = 100.0;  // (0, 100], at most two decimals; Kind::Percent
    qint64 count = 0;        // >= 1; Kind::Count

    friend bool operator==(const WaveSize&, const WaveSize&) = default;
    [[nodiscard]] QString toString() const;  // "10%" or "250"
    // Devices this wave takes when `remaining` targets are in no wave yet: a count is capped at
    // `remaining`, a percentage rounds up (so 1% of 50 is 1, never 0).
    [[nodiscard]] qint64 sizeFor(qint64 remaining) const;
};

namespace plan_values {

constexpr qsizetype kMaxOptionLength = 256;
constexpr int kMaxWaves = 64;
constexpr qint64 kMaxWaveCount = 10'000'000;
constexpr Seconds kMaxDuration{std::chrono::days(365)};
constexpr qint64 kMaxRatePerMinute = 1'000'000;

// plan.duration: "45s", "15m", "2h", "1d", or combinations in descending order ("1h30m"). A
// bare number is seconds. At most one year.
[[nodiscard]] Result<Seconds> parseDuration(QStringView text, const QString& option);
[[nodiscard]] QString formatDuration(Seconds duration);  // "1h30m", "0s"

// plan.percent: "95", "95%", "12.5%"; 0..100 with at most two decimals.
[[nodiscard]] Result<double> parsePercent(QStringView text, const QString& option);
[[nodiscard]] QString formatPercent(double percent);  // "12.5%"

// plan.waves: comma-separated wave sizes, 1..kMaxWaves of them.
[[nodiscard]] Result<QList<WaveSize>> parseWaves(QStringView text);

// plan.rate: "N/min" (also "N/h" and "N/s", converted to per minute; must come to >= 1/min).
[[nodiscard]] Result<double> parseRate(QStringView text);

// plan.ramp: a factor in [1, 10] by which the rate grows (see RolloutPlan).
[[nodiscard]] Result<double> parseRamp(QStringView text);

// plan.count: a whole number in [min, max].
[[nodiscard]] Result<qint64> parseCount(QStringView text, const QString& option, qint64 min,
                                        qint64 max);

}  // namespace plan_values
}  // namespace otafleet::rollout
