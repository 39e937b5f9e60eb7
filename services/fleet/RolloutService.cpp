#include "fleet/RolloutService.h"

namespace otafleet::fleet {

using rollout::RolloutState;

bool awaitsApproval(const RolloutSummary& rollout) {
    const RolloutState state = rollout.status.state;
    return rollout.plan.production && rollout.status.approvedBy.isEmpty() &&
           (state == RolloutState::Draft || state == RolloutState::AwaitingApproval);
}

std::optional<QString> approvalBlocker(const RolloutSummary& rollout, const QString& user) {
    if (!rollout.plan.production)
        return QStringLiteral("Only production rollouts need an approval; start this one.");
    if (!rollout.status.approvedBy.isEmpty())
        return QStringLiteral("%1 approved this rollout already.").arg(rollout.status.approvedBy);
    if (!awaitsApproval(rollout))
        return QStringLiteral("A %1 rollout can no longer be approved.")
            .arg(rollout::rolloutStateName(rollout.status.state));
    if (rollout.status.author == user)
        return QStringLiteral(
            "You created this production rollout; someone else must approve "
            "it.");
    return std::nullopt;
}

QString rolloutActionName(RolloutAction action) {
    switch (action) {
        case RolloutAction::Approve:
            return QStringLiteral("approve");
        case RolloutAction::Start:
            return QStringLiteral("start");
        case RolloutAction::Pause:
            return QStringLiteral("pause");
        case RolloutAction::Resume:
            return QStringLiteral("resume");
        case RolloutAction::Abort:
            return QStringLiteral("abort");
        case RolloutAction::RetryFailed:
            return QStringLiteral("retry-failed");
    }
    return QStringLiteral("unknown");
}

std::optional<QString> RolloutService::createBlocker() const {
    return std::nullopt;
}

std::optional<QString> RolloutService::actionBlocker(RolloutAction action) const {
    Q_UNUSED(action);
    return std::nullopt;
}

QString RolloutService::signedInUser() const {
    return {};
}

RolloutService::RolloutService(QObject* parent) : QObject(parent) {}
RolloutService::~RolloutService() = default;

}  // namespace otafleet::fleet
