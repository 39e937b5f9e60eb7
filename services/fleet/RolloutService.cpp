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

RolloutService::RolloutService(QObject* parent) : QObject(parent) {}
RolloutService::~RolloutService() = default;

}  // namespace otafleet::fleet
