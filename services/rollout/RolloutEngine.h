// The rollout engine: pure logic that decides which devices are offered a release and when, and
// stops a rollout by itself when a wave fails. It owns no timers, threads or I/O: the host
// (otafleetd, or the console's embedded fleet) calls tick() at least once a second while a
// rollout runs, reports what devices do through onDeviceEvent(), delivers the offers tick()
// returns, and persists toJson() after every call that changed something (fromJson() resumes
// exactly, also after kill -9). All time comes from the injected Clock.
//
// Life cycle (RolloutState):
//   create()                  -> draft
//   approve(user)             production only, user != author; draft stays draft (approved),
//                             awaiting_approval -> scheduled
//   start(user[, notBefore])  draft -> scheduled, or -> awaiting_approval when production and
//                             not approved yet
//   tick()                    scheduled -> running once notBefore has come
//   pause(user)               scheduled|running -> paused ("Paused by USER.")
//   resume(user)              paused -> running; accepts the current wave's results so far: the
//                             failure threshold counts again from here, and a wave whose devices
//                             have all finished passes
//   abort(user)               any but completed|aborted -> aborted (no more offers)
//   retryFailed(user)         running|paused|completed: every failed, reverted or timed-out
//                             device is offered again (attempts reset) -> running
//   the engine itself         running -> paused when the current wave crosses its failure
//                             threshold (failed / executed > y% with executed >= min_executed;
//                             executed = succeeded + failed + reverted + timed_out) or finishes
//                             below its success threshold; running -> completed when no wave is
//                             left and every device in a wave has finished
//
// Waves: wave k takes plan.waves[k].sizeFor(devices in no wave yet) devices, in target order.
// It passes as soon as succeeded / size >= success threshold (an empty wave passes at once);
// the next wave starts after the soak time (none for emergency plans or after an empty wave).
// Devices of passed waves that are still running keep going and are counted.
// Offers go only to devices of started waves, only while the maintenance window is open, at
// most plan.ratePerMinute per minute, evenly spaced (bursts of at most one second's worth, so
// one tick a second keeps the rate); with a ramp the rate is multiplied by the factor each time as
// many devices have succeeded as the current rate. Without a rate the engine still paces a wave
// (a wave of thousands offered at one instant makes thousands of devices download and reboot
// at once, and their reconnects swamp the server): at most kUnratedOffersPerTick offers per
// tick and at most kUnratedMaxInFlight devices offered and not finished at a time; with the
// host's 250 ms tick that is up to 128 offers a second, far above what the in-flight bound lets
// through unless devices finish in under two seconds. An offered device must finish within
// plan.deviceTimeout; a failure or timeout with retries left puts it back in line (pending). Late
// joiners (plan.includeLateJoiners): addTarget() puts a device in the pool of the next wave, or
// straight into the last wave when that one has started.
//
// Error codes: rollout.targets, rollout.transition, rollout.approval-not-needed,
// rollout.self-approval, rollout.already-approved, rollout.needs-approval,
// rollout.nothing-to-retry, rollout.target-closed, rollout.finished, rollout.unknown-device,
// rollout.unexpected-event, rollout.state (restore).
#pragma once

#include "common/Error.h"
#include "rollout/Clock.h"
#include "rollout/RolloutPlan.h"
#include "rollout/RolloutStatus.h"
#include "rollout/RolloutTypes.h"

#include <QHash>
#include <QJsonObject>
#include <QStringList>

#include <deque>
#include <optional>
#include <vector>

namespace otafleet::rollout {

// What the host must do after a tick.
struct TickResult {
    QStringList offers;    // send these devices the offer now, in this order
    QStringList timedOut;  // stop waiting for these (they may be offered again later)
    bool changed = false;  // anything changed: persist toJson()
};

// One device as the engine sees it.
struct DeviceProgress {
    QString id;
    DeviceState state = DeviceState::Pending;
    int wave = -1;           // 0-based wave index; -1 = in no wave yet
    int attempts = 0;        // offers made so far (reset by retryFailed)
    qint64 offeredAtMs = 0;  // UTC ms since the epoch of the latest offer; 0 = never
    QString reason;          // last failure, timeout or skip reason
    qint64 queueSeq = 0;     // while queued: its place in the offer order (larger = later)
};

class RolloutEngine {
public:
    static constexpr qsizetype kMaxDevices = 1'000'000;
    static constexpr qsizetype kMaxIdLength = 256;
    static constexpr qsizetype kMaxReasonLength = 512;
    // Pacing without a rate limit (see above).
    static constexpr qsizetype kUnratedOffersPerTick = 32;
    static constexpr qint64 kUnratedMaxInFlight = 256;
    static constexpr qsizetype kMaxUserLength = 256;
    static constexpr int kFormatVersion = 1;

    // A new draft rollout of `targets` (device ids, offered in this order; duplicates count
    // once). Code rollout.targets for empty or oversized ids or too many devices.
    [[nodiscard]] static Result<RolloutEngine> create(RolloutPlan plan, QString author,
                                                      const QStringList& targets,
                                                      const Clock& clock);

    [[nodiscard]] Status approve(const QString& user);
    [[nodiscard]] Status start(const QString& user, std::optional<QDateTime> notBefore = {});
    [[nodiscard]] Status pause(const QString& user);
    [[nodiscard]] Status resume(const QString& user);
    [[nodiscard]] Status abort(const QString& user);
    [[nodiscard]] Status retryFailed(const QString& user);
    // Ok(true) when the device joined, Ok(false) when it already was a target.
    [[nodiscard]] Result<bool> addTarget(const QString& deviceId);

    // Late and repeated events are tolerated where they cannot double-count: an "offered"
    // acknowledgement of an offered device is a no-op, and a device that timed out may still
    // report succeeded, failed or reverted (its final state then replaces timed_out).
    [[nodiscard]] Status onDeviceEvent(const QString& deviceId, const DeviceEvent& event);
    [[nodiscard]] TickResult tick();

    [[nodiscard]] RolloutStatus status() const;
    [[nodiscard]] RolloutState state() const { return m_state; }
    [[nodiscard]] const RolloutPlan& plan() const { return m_plan; }
    [[nodiscard]] const QString& author() const { return m_author; }
    [[nodiscard]] const QString& approvedBy() const { return m_approver; }
    [[nodiscard]] const QString& pauseReason() const { return m_pauseReason; }
    [[nodiscard]] std::optional<DeviceProgress> device(const QString& deviceId) const;
    [[nodiscard]] const std::vector<DeviceProgress>& devices() const { return m_devices; }

    // Everything, including the plan; fromJson(toJson()) decides exactly as this engine would.
    [[nodiscard]] QJsonObject toJson() const;
    [[nodiscard]] QByteArray toJsonBytes() const;
    // Validated (code rollout.state, or plan.* for the plan inside). Bounded by kMaxDevices.
    [[nodiscard]] static Result<RolloutEngine> fromJson(const QJsonObject& object,
                                                        const Clock& clock);
    [[nodiscard]] static Result<RolloutEngine> fromJsonBytes(QByteArrayView json,
                                                             const Clock& clock);

    // Persistence proportional to the change (otafleetd): the state without its devices (a few
    // hundred bytes, whatever the number of devices), and the positions in devices() of the
    // devices that changed since clearChangedDevices() (every device of a new engine; none of a
    // restored one). Storing both in one transaction after every call that changed something,
    // and the changed devices by position, keeps the stored devices and header in step, and
    // fromParts() restores exactly what toJson()/fromJson() would.
    [[nodiscard]] QJsonObject headerJson() const;
    [[nodiscard]] const std::vector<std::size_t>& changedDevices() const { return m_changed; }
    void clearChangedDevices();
    void markAllDevicesChanged();
    // `devices` in position order, as stored; validated as fromJson() validates (rollout.state).
    [[nodiscard]] static Result<RolloutEngine> fromParts(const QJsonObject& header,
                                                         std::vector<DeviceProgress> devices,
                                                         const Clock& clock);

private:
    struct Wave {
        qint64 size = 0;
        qint64 startedAtMs = 0;
        bool passed = false;
        qint64 passedAtMs = 0;
        qint64 baseFailed = 0;  // failure threshold counts from here (set by resume)
        qint64 baseExecuted = 0;
        // Derived from the devices; rebuilt on restore.
        qint64 succeeded = 0;
        qint64 failed = 0;
        qint64 skipped = 0;
        qint64 pending = 0;  // members not offered yet (or waiting to be offered again)
    };

    RolloutEngine(RolloutPlan plan, QString author, const Clock& clock);

    [[nodiscard]] qint64 nowMs() const;
    void setDeviceState(DeviceProgress& device, DeviceState next);
    void markChanged(std::size_t position);
    void enqueue(std::size_t position);  // at the back of the offer queue
    void finishAttempt(DeviceProgress& device, DeviceState outcome, const QString& reason);
    void evaluateWaves(qint64 now);
    [[nodiscard]] bool startNextWave(qint64 now);
    void checkFailureThreshold(int wave);
    [[nodiscard]] bool mayOffer(qint64 now, qsizetype offeredThisTick) const;
    [[nodiscard]] qint64 inFlight() const;
    void noteOffer(qint64 now);
    void noteSuccess();
    void pauseWith(QString reason);
    // Recomputes counts, wave tallies and m_unassigned from the devices; false when a wave's
    // stored size disagrees with the devices in it.
    [[nodiscard]] bool rebuildDerived();
    [[nodiscard]] Status requireState(std::initializer_list<RolloutState> allowed,
                                      const char* action) const;

    const Clock* m_clock;
    RolloutPlan m_plan;
    QString m_author;
    QString m_approver;
    RolloutState m_state = RolloutState::Draft;
    QString m_pauseReason;
    qint64 m_notBeforeMs = 0;
    std::vector<DeviceProgress> m_devices;  // target order
    QHash<QString, std::size_t> m_index;    // id -> position in m_devices
    std::vector<Wave> m_waves;              // started waves
    std::deque<std::size_t> m_queue;        // pending devices of started waves, offer order
    qint64 m_unassigned = 0;                // devices in no wave yet
    qint64 m_soakUntilMs = 0;
    qint64 m_nextOfferUs = 0;    // rate limit: theoretical time of the next offer (GCRA)
    double m_currentRate = 0.0;  // offers per minute, grown by the ramp; 0 = no limit
    qint64 m_successesSinceRamp = 0;
    std::array<qint64, kDeviceStateCount> m_counts{};
    qint64 m_queueSeq = 0;               // the last DeviceProgress::queueSeq handed out
    std::vector<std::size_t> m_changed;  // positions changed since clearChangedDevices()
    std::vector<bool> m_changedMark;     // by position: in m_changed
};

}  // namespace otafleet::rollout
