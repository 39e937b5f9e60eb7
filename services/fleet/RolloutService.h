// The rollouts of a fleet as every console view sees them: create one from a plan and a list of
// devices, move it through its life (approve, start, pause, resume, abort, retry the failed) and
// watch it. EmbeddedRollouts runs the engines in the console; a client of otafleetd will be the
// second implementation. The UI holds only this interface, never the engine.
//
// The approval rule lives here, not in a widget: a production rollout is approved by someone
// other than its author (approvalBlocker()).
#pragma once

#include "common/Error.h"
#include "rollout/RolloutPlan.h"
#include "rollout/RolloutStatus.h"

#include <QList>
#include <QObject>
#include <QString>

#include <optional>

namespace otafleet::fleet {

struct RolloutSummary {
    qint64 id = 0;
    QString name;
    QString bundlePath;
    rollout::RolloutPlan plan;
    rollout::RolloutStatus status;
};

// One target device of a rollout as the monitor lists it.
struct RolloutDevice {
    qint64 deviceId = 0;  // the fleet's id (FleetService::device())
    rollout::DeviceState state = rollout::DeviceState::Pending;
    int wave = 0;  // 1-based; 0 while in no wave yet
    int attempts = 0;
    QString reason;  // last failure, timeout or skip reason

    friend bool operator==(const RolloutDevice&, const RolloutDevice&) = default;
};

// Whether `rollout` waits for an approval: production, not approved yet, not finished.
[[nodiscard]] bool awaitsApproval(const RolloutSummary& rollout);
// Why `user` may not approve `rollout` (a sentence for a tooltip), or none when they may.
[[nodiscard]] std::optional<QString> approvalBlocker(const RolloutSummary& rollout,
                                                     const QString& user);

class RolloutService : public QObject {
    Q_OBJECT
public:
    ~RolloutService() override;

    // A draft rollout of `bundlePath` to `deviceIds` (offered in that order) with `plan`.
    // Errors: fleet.bundle-missing, fleet.no-targets, fleet.unknown-device, fleet.mcu-target (a
    // microcontroller among the targets), rollout.*, store.*.
    [[nodiscard]] virtual Result<qint64> createRollout(const QString& name,
                                                       const QString& bundlePath,
                                                       const rollout::RolloutPlan& plan,
                                                       const QList<qint64>& deviceIds,
                                                       const QString& author) = 0;
    // Each returns the engine's refusal (rollout.transition, rollout.self-approval, ...) or
    // fleet.unknown-rollout; `user` is who the rollout records as acting.
    [[nodiscard]] virtual Status approve(qint64 id, const QString& user) = 0;
    [[nodiscard]] virtual Status start(qint64 id, const QString& user) = 0;
    [[nodiscard]] virtual Status pause(qint64 id, const QString& user) = 0;
    [[nodiscard]] virtual Status resume(qint64 id, const QString& user) = 0;
    [[nodiscard]] virtual Status abort(qint64 id, const QString& user) = 0;
    [[nodiscard]] virtual Status retryFailed(qint64 id, const QString& user) = 0;

    [[nodiscard]] virtual QList<RolloutSummary> rollouts() const = 0;  // oldest first
    [[nodiscard]] virtual std::optional<RolloutSummary> rollout(qint64 id) const = 0;
    // Every target of the rollout, in offer order; empty for an unknown rollout.
    [[nodiscard]] virtual QList<RolloutDevice> rolloutDevices(qint64 id) const = 0;

Q_SIGNALS:
    void rolloutAdded(qint64 id);
    // State, counts, waves, devices or pause reason may have changed.
    void rolloutChanged(qint64 id);

protected:
    explicit RolloutService(QObject* parent = nullptr);
};

}  // namespace otafleet::fleet
