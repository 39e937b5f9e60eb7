// The rollouts of a fleet as every console view sees them: create one from a plan and a
// selection of devices, move it through its life (approve, start, pause, resume, abort, retry the
// failed) and watch it. EmbeddedRollouts runs the engines in the console; RemoteRollouts is a
// client of otafleetd. The UI holds only this interface, never the engine.
//
// Commands are asynchronous (a server may take its time; the GUI thread never waits): each
// returns a request number at once and ends with one requestFinished() carrying it. What the
// views show (rollouts(), rollout(), rolloutDevices()) is read at once from what the service
// holds, and rolloutAdded / rolloutChanged say when that moved.
//
// The approval rule lives here, not in a widget: a production rollout is approved by someone
// other than its author (approvalBlocker()).
#pragma once

#include "common/Error.h"
#include "fleet/FleetService.h"
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

enum class RolloutAction { Approve, Start, Pause, Resume, Abort, RetryFailed };
// "approve", "start", "pause", "resume", "abort", "retry-failed" (the server's action names).
[[nodiscard]] QString rolloutActionName(RolloutAction action);

// A new rollout as the wizard describes it: the plan parsed and as typed (otafleetd takes the
// text), the targets as the filter that chose them and as the fleet's ids it selected (the
// embedded fleet offers exactly those; otafleetd evaluates the filter over its own devices).
struct RolloutDraft {
    QString name;
    QString bundlePath;
    rollout::PlanOptions options;
    rollout::RolloutPlan plan;
    QString targetFilter;
    QList<qint64> deviceIds;  // in offer order
    QString author;
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

    // Creates a draft rollout (errors: fleet.bundle-missing, fleet.no-targets,
    // fleet.unknown-device, fleet.mcu-target, rollout.*, plan.*, store.*, and a server's
    // server.* refusals). requestFinished() carries the new rollout's id.
    virtual quint64 requestCreate(const RolloutDraft& draft) = 0;
    // The engine's refusal (rollout.transition, rollout.self-approval, ...), fleet.unknown-rollout,
    // or a server's refusal (server.permission-denied, ...); `user` is who the rollout records as
    // acting where the service cannot know it (a server takes its signed-in user).
    virtual quint64 requestAction(qint64 id, RolloutAction action, const QString& user) = 0;

    // Why the signed-in user may not create rollouts, or do `action`, at all (their role on a
    // server), as a sentence for a tooltip; none when they may. Embedded fleets allow everything.
    [[nodiscard]] virtual std::optional<QString> createBlocker() const;
    [[nodiscard]] virtual std::optional<QString> actionBlocker(RolloutAction action) const;
    // The user a server knows the console as (empty until known, and for embedded fleets): the
    // views act, and check approvals, as this user when it is set.
    [[nodiscard]] virtual QString signedInUser() const;

    [[nodiscard]] virtual QList<RolloutSummary> rollouts() const = 0;  // oldest first
    [[nodiscard]] virtual std::optional<RolloutSummary> rollout(qint64 id) const = 0;
    // Every target of the rollout, in offer order; empty for an unknown rollout.
    [[nodiscard]] virtual QList<RolloutDevice> rolloutDevices(qint64 id) const = 0;

Q_SIGNALS:
    // The end of requestCreate() / requestAction() number `request`: the rollout it concerns (the
    // new one for a create; 0 when a create failed) and the error, if any.
    void requestFinished(quint64 request, qint64 rolloutId,
                         const std::optional<otafleet::Error>& error);
    // createBlocker(), actionBlocker() or signedInUser() may say something else now.
    void permissionsChanged();
    void rolloutAdded(qint64 id);
    // State, counts, waves, devices or pause reason may have changed.
    void rolloutChanged(qint64 id);

protected:
    explicit RolloutService(QObject* parent = nullptr);
};

}  // namespace otafleet::fleet
