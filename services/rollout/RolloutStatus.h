// A snapshot of a rollout for `rollout status --json`, `rollout watch` and the console. The JSON
// keys are a contract:
// {
//   "state": "running",                 // rolloutStateName
//   "current_wave": 2,                  // 1-based; 0 before the first wave starts
//   "waves": [ { "number": 1, "planned": "1%", "state": "passed", "size": 100,
//                "succeeded": 99, "failed": 1, "skipped": 0, "in_progress": 0,
//                "started_at": "2026-...Z", "passed_at": "2026-...Z" }, ... ],
//               // wave "state": waiting | running | soaking | passed; size 0 and no times
//               // for waiting waves; soaking = passed but the soak time is not over
//   "counts": { "pending": 9000, "offered": 3, "downloading": 5, "installing": 0,
//               "rebooting": 0, "verifying": 0, "succeeded": 990, "failed": 2,
//               "reverted": 0, "timed_out": 0, "skipped": 0 },   // every key always present;
//               // the values add up to "total"
//   "total": 10000,
//   "pause_reason": "",                 // a sentence when paused, else ""
//   "author": "alice", "approved_by": "",  // "" when not approved (yet)
//   "soak_until": "2026-...Z"           // present while soaking
// }
#pragma once

#include "common/Error.h"
#include "rollout/RolloutTypes.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>

namespace otafleet::rollout {

struct WaveStatus {
    enum class Phase { Waiting, Running, Soaking, Passed };
    int number = 0;   // 1-based
    QString planned;  // "10%" or "250"
    Phase phase = Phase::Waiting;
    qint64 size = 0;
    qint64 succeeded = 0;
    qint64 failed = 0;  // failed + reverted + timed_out
    qint64 skipped = 0;
    qint64 inProgress = 0;  // offered .. verifying
    qint64 pending = 0;     // not offered yet, or waiting to be offered again
    QDateTime startedAt;
    QDateTime passedAt;
};

struct RolloutStatus {
    RolloutState state = RolloutState::Draft;
    int currentWave = 0;
    QList<WaveStatus> waves;
    std::array<qint64, kDeviceStateCount> counts{};  // indexed by DeviceState
    qint64 total = 0;
    QString pauseReason;
    QString author;
    QString approvedBy;
    QDateTime soakUntil;  // valid while soaking

    [[nodiscard]] qint64 count(DeviceState s) const { return counts[static_cast<std::size_t>(s)]; }
    [[nodiscard]] QJsonObject toJson() const;
    // Back from toJson()'s bytes (what otafleetd sends a console as status_json): at most
    // kMaxJsonSize bytes and kMaxWaves waves, every state named as toJson() names it, counts not
    // negative. Error rollout.status-json with what is wrong.
    static constexpr qsizetype kMaxJsonSize = 256 * 1024;
    static constexpr qsizetype kMaxWaves = 1000;
    [[nodiscard]] static Result<RolloutStatus> fromJsonBytes(QByteArrayView json);
};

}  // namespace otafleet::rollout
