// Everything `rollout create` takes about how a release spreads: waves, thresholds, soak, rate,
// device timeout and retries, maintenance window, pre-update checks, production and emergency.
// Built from the command line's option strings (fromOptions), stored as JSON (toJson/fromJson,
// also what the server persists and what fuzz_rollout_plan feeds), summarised in one sentence
// for the UI (describe). The engine (RolloutEngine) interprets it.
#pragma once

#include "common/Error.h"
#include "rollout/MaintenanceWindow.h"
#include "rollout/PlanValues.h"
#include "rollout/Prechecks.h"

#include <QByteArray>
#include <QJsonObject>
#include <QList>

#include <optional>

namespace otafleet::rollout {

// The option strings exactly as typed; an unset optional takes the default below.
struct PlanOptions {
    QString waves;                            // --waves (required)
    std::optional<QString> successThreshold;  // --success-threshold
    std::optional<QString> failureThreshold;  // --failure-threshold
    std::optional<QString> minExecuted;       // --min-executed
    std::optional<QString> soak;              // --soak
    std::optional<QString> rate;              // --rate
    std::optional<QString> ramp;              // --ramp (needs --rate)
    std::optional<QString> deviceTimeout;     // --device-timeout
    std::optional<QString> retries;           // --retries
    std::optional<QString> window;            // --window
    std::optional<QString> precheck;          // --precheck
    bool production = false;                  // --production
    bool emergency = false;                   // --emergency
    bool includeLateJoiners = false;          // devices that match the target later join
};

struct RolloutPlan {
    static constexpr int kFormatVersion = 1;
    static constexpr qsizetype kMaxJsonSize = 64 * 1024;
    static constexpr qint64 kMaxRetries = 10;
    static constexpr qint64 kMaxMinExecuted = 1'000'000;

    QList<WaveSize> waves;           // at least one
    double successThreshold = 95.0;  // a wave passes when succeeded / size >= this percent
    double failureThreshold = 10.0;  // pause when failed / executed > this percent ...
    qint64 minExecuted = 5;          // ... once at least this many of the wave have executed
    Seconds soak{0};                 // wait after a wave passes before the next starts
    double ratePerMinute = 0.0;      // offers per minute; 0 = no limit
    double rampFactor = 1.0;         // rate *= factor after each `rate` successes; 1 = no ramp
    Seconds deviceTimeout{3600};     // an offered device must finish within this
    int retries = 0;                 // offers again after a failure or timeout, per device
    std::optional<MaintenanceWindow> window;  // offers only while open
    Prechecks prechecks;
    bool production = false;  // needs approval by a user other than the author
    bool emergency = false;   // skips soak (never approval)
    bool includeLateJoiners = false;

    // Codes: plan.waves, plan.percent, plan.duration, plan.rate, plan.ramp, plan.count,
    // plan.window, plan.timezone, plan.precheck, plan.conflict (options that contradict).
    [[nodiscard]] static Result<RolloutPlan> fromOptions(const PlanOptions& options);

    // JSON object with keys: format (1), waves (array of "10%" / "250" strings),
    // success_threshold, failure_threshold (numbers, percent), min_executed, soak_seconds,
    // rate_per_minute, ramp_factor, device_timeout_seconds, retries (numbers), window
    // (MaintenanceWindow text or null), prechecks (Prechecks text, "" for none), production,
    // emergency, include_late_joiners (booleans).
    [[nodiscard]] QJsonObject toJson() const;
    [[nodiscard]] QByteArray toJsonBytes() const;
    // Bounded (kMaxJsonSize); every value re-validated. Code plan.json plus the codes above.
    [[nodiscard]] static Result<RolloutPlan> fromJson(const QJsonObject& object);
    [[nodiscard]] static Result<RolloutPlan> fromJsonBytes(QByteArrayView json);

    // One sentence for the UI summary, e.g. "Production rollout in 4 waves (1%, 10%, 50%, 100%
    // of the remaining targets), ...".
    [[nodiscard]] QString describe() const;

    friend bool operator==(const RolloutPlan&, const RolloutPlan&) = default;
};

}  // namespace otafleet::rollout
