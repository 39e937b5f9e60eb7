// Rollouts run inside the console (embedded mode): RolloutEngine instances, their JSON state in
// the fleet's SQLite store (store::RolloutRepository), ticked by a QTimer while any of them is
// scheduled or running, and wired to the EmbeddedFleet: an offer becomes startUpdate() with the
// rollout's bundle, and the device's update operation becomes the engine's events (progress ->
// downloading, success -> succeeded, an error -> failed with the error code as reason).
//
// Devices are the fleet's ids, given to the engine as decimal strings. A device works for one
// rollout at a time: an offer to a device that is busy (another rollout, a technician's update)
// is reported to its engine as failed with reason link.busy, so retries and thresholds apply.
// After a restart, offers that were in flight are not resumed (their transfer died with the
// process); the engine times them out after the plan's device timeout and retries if allowed.
//
// Every move of a device the engine makes on the fleet's behalf (offered, its progress, its
// outcome, back to pending for a retry) is appended to the rollout's history in the store
// (store::RolloutEventLog) with the clock's time; the telemetry charts replay it.
//
// Error codes: fleet.unknown-rollout, fleet.no-targets, fleet.bundle-missing, the engine's
// rollout.* codes and the store's store.* codes.
#pragma once

#include "common/Error.h"
#include "fleet/FleetService.h"
#include "fleet/RolloutService.h"
#include "rollout/Clock.h"
#include "rollout/RolloutEngine.h"

#include <QHash>
#include <QObject>
#include <QTimer>

#include <map>
#include <vector>

namespace otafleet::fleet {

class EmbeddedFleet;

class EmbeddedRollouts : public RolloutService {
    Q_OBJECT
public:
    static constexpr int kDefaultTickMs = 1000;  // the engine needs a tick at least every second

    // Loads the rollouts saved in the fleet's store and resumes the running ones. `clock`
    // must outlive this object. Errors: store.*, rollout.state / plan.* for a damaged row.
    [[nodiscard]] static Result<std::unique_ptr<EmbeddedRollouts>> create(
        EmbeddedFleet& fleet, const rollout::Clock& clock, QObject* parent = nullptr);
    ~EmbeddedRollouts() override;

    // The commands run at once in the console (the store is local); requestCreate() and
    // requestAction() run them too and answer on the next turn of the event loop.
    // A draft rollout of `bundlePath` to `deviceIds` (offered in that order) with `plan`.
    [[nodiscard]] Result<qint64> createRollout(const QString& name, const QString& bundlePath,
                                               const rollout::RolloutPlan& plan,
                                               const QList<qint64>& deviceIds,
                                               const QString& author);
    [[nodiscard]] Status approve(qint64 id, const QString& user);
    [[nodiscard]] Status start(qint64 id, const QString& user);
    [[nodiscard]] Status pause(qint64 id, const QString& user);
    [[nodiscard]] Status resume(qint64 id, const QString& user);
    [[nodiscard]] Status abort(qint64 id, const QString& user);
    [[nodiscard]] Status retryFailed(qint64 id, const QString& user);
    [[nodiscard]] Status act(qint64 id, RolloutAction action, const QString& user);

    quint64 requestCreate(const RolloutDraft& draft) override;
    quint64 requestAction(qint64 id, RolloutAction action, const QString& user) override;

    [[nodiscard]] QList<RolloutSummary> rollouts() const override;
    [[nodiscard]] std::optional<RolloutSummary> rollout(qint64 id) const override;
    [[nodiscard]] QList<RolloutDevice> rolloutDevices(qint64 id) const override;
    [[nodiscard]] const rollout::RolloutEngine* engine(qint64 id) const;

    // How often the engines are ticked while one is scheduled or running (tests go faster).
    void setTickInterval(int ms) { m_timer.setInterval(ms); }
    // Ticks every active engine now (what the timer does).
    void tick();

private:
    struct Entry {
        QString name;
        QString bundlePath;
        rollout::RolloutEngine engine;
    };

    EmbeddedRollouts(EmbeddedFleet& fleet, const rollout::Clock& clock, QObject* parent);
    [[nodiscard]] Status load();
    [[nodiscard]] Result<Entry*> entry(qint64 id);
    // Runs `action` on the engine, then persists and announces the change.
    [[nodiscard]] Status command(qint64 id,
                                 const std::function<Status(rollout::RolloutEngine&)>& action);
    [[nodiscard]] Status persist(qint64 id, const Entry& e);
    // Notes where the engine has put `deviceId` now, for the rollout's history (written with the
    // next persist()).
    void record(qint64 rolloutId, const Entry& e, const QString& deviceId);
    void offer(qint64 rolloutId, Entry& e, const QString& deviceId);
    void report(qint64 deviceId, const rollout::DeviceEvent& event);
    void onProgress(qint64 deviceId);
    void onFinished(qint64 deviceId, link::LinkOperation operation,
                    const std::optional<Error>& error);
    void updateTimer();
    // Answers request `request` on the next turn of the event loop.
    void answer(quint64 request, qint64 rolloutId, const std::optional<Error>& error);

    EmbeddedFleet& m_fleet;
    const rollout::Clock& m_clock;
    std::map<qint64, Entry> m_entries;
    QHash<qint64, qint64> m_inFlight;  // device id -> rollout id, while its update runs
    struct Move {
        qint64 rolloutId = 0;
        qint64 deviceId = 0;
        QDateTime time;
        rollout::DeviceProgress progress;
    };
    std::vector<Move> m_history;  // recorded moves not yet in the store
    QTimer m_timer;
    quint64 m_lastRequest = 0;
};

}  // namespace otafleet::fleet
