// Pre-update checks a device runs before it accepts an offer, from `--precheck`:
//   "battery>=30,free>=2x,health,link>=40"
//   battery>=N  battery level at least N percent (only where the device reports a battery)
//   free>=Nx    free space at least N times the update's download size (N may be 1.5)
//   free>=SIZE  free space at least SIZE bytes; SIZE takes K/M/G (KiB/MiB/GiB, powers of 1024)
//   health      the device's health checks pass
//   link>=N     link quality at least N percent
// A refused check is reported by the device as skipped(reason); the engine never evaluates them.
#pragma once

#include "common/Error.h"

#include <QString>

#include <optional>

namespace otafleet::rollout {

struct Prechecks {
    static constexpr qsizetype kMaxLength = 256;
    static constexpr qint64 kMaxFreeBytes = qint64{1} << 50;  // 1 PiB: beyond any device

    std::optional<int> minBatteryPercent;
    std::optional<double> minFreeFactor;  // times the download size
    std::optional<qint64> minFreeBytes;
    bool health = false;
    std::optional<int> minLinkPercent;

    // Code plan.precheck for anything else; an empty text is no checks.
    [[nodiscard]] static Result<Prechecks> parse(QStringView text);
    [[nodiscard]] QString toString() const;  // canonical, parses back to the same checks
    [[nodiscard]] bool isEmpty() const { return toString().isEmpty(); }
    friend bool operator==(const Prechecks&, const Prechecks&) = default;
};

}  // namespace otafleet::rollout
