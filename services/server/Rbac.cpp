#include "server/Rbac.h"

namespace otafleet::server {

using store::Role;

namespace {

const QList<Role> kEveryone{Role::Viewer, Role::Technician, Role::ReleaseManager, Role::Approver,
                            Role::Admin};

}  // namespace

QString actionName(Action action) {
    switch (action) {
        case Action::WhoAmI:
            return QStringLiteral("whoami");
        case Action::UserAdd:
            return QStringLiteral("user.add");
        case Action::UserList:
            return QStringLiteral("user.list");
        case Action::UserSetRole:
            return QStringLiteral("user.set-role");
        case Action::UserDisable:
            return QStringLiteral("user.disable");
        case Action::AuditList:
            return QStringLiteral("audit.list");
        case Action::AuditVerify:
            return QStringLiteral("audit.verify");
        case Action::FleetDevices:
            return QStringLiteral("fleet.devices");
        case Action::FleetSummary:
            return QStringLiteral("fleet.summary");
        case Action::FleetTag:
            return QStringLiteral("fleet.tag");
        case Action::FleetUntag:
            return QStringLiteral("fleet.untag");
        case Action::FleetGroup:
            return QStringLiteral("fleet.group");
        case Action::FleetDecommission:
            return QStringLiteral("fleet.decommission");
        case Action::ReleaseUpload:
            return QStringLiteral("release.upload");
        case Action::ReleaseList:
            return QStringLiteral("release.list");
        case Action::ReleaseInspect:
            return QStringLiteral("release.inspect");
        case Action::ReleaseRevoke:
            return QStringLiteral("release.revoke");
        case Action::FleetTelemetry:
            return QStringLiteral("fleet.telemetry");
        case Action::FleetAnomalies:
            return QStringLiteral("fleet.anomalies");
        case Action::RolloutCreate:
            return QStringLiteral("rollout.create");
        case Action::RolloutApprove:
            return QStringLiteral("rollout.approve");
        case Action::RolloutStart:
            return QStringLiteral("rollout.start");
        case Action::RolloutPause:
            return QStringLiteral("rollout.pause");
        case Action::RolloutResume:
            return QStringLiteral("rollout.resume");
        case Action::RolloutAbort:
            return QStringLiteral("rollout.abort");
        case Action::RolloutRetryFailed:
            return QStringLiteral("rollout.retry-failed");
        case Action::RolloutStatus:
            return QStringLiteral("rollout.status");
        case Action::RolloutList:
            return QStringLiteral("rollout.list");
    }
    return QStringLiteral("unknown");
}

QList<Role> allowedRoles(Action action) {
    switch (action) {
        case Action::WhoAmI:
        case Action::FleetDevices:
        case Action::FleetSummary:
        case Action::ReleaseList:
        case Action::ReleaseInspect:
        case Action::FleetTelemetry:
        case Action::FleetAnomalies:
        case Action::RolloutStatus:
        case Action::RolloutList:
            return kEveryone;
        case Action::UserAdd:
        case Action::UserList:
        case Action::UserSetRole:
        case Action::UserDisable:
        case Action::FleetDecommission:
            return {Role::Admin};
        case Action::AuditList:
        case Action::AuditVerify:
            return {Role::Approver, Role::Admin};
        case Action::FleetTag:
        case Action::FleetUntag:
        case Action::FleetGroup:
            return {Role::Technician, Role::ReleaseManager, Role::Admin};
        case Action::ReleaseUpload:
        case Action::ReleaseRevoke:
        case Action::RolloutCreate:
        case Action::RolloutStart:
        case Action::RolloutResume:
        case Action::RolloutRetryFailed:
            return {Role::ReleaseManager, Role::Admin};
        // Who approves is not who releases; the engine also refuses a production rollout's
        // author as its approver.
        case Action::RolloutApprove:
            return {Role::Approver, Role::Admin};
        // Stopping a rollout is a brake anyone responsible for releases may pull.
        case Action::RolloutPause:
        case Action::RolloutAbort:
            return {Role::ReleaseManager, Role::Approver, Role::Admin};
    }
    return {};
}

bool allowed(Role role, Action action) {
    return allowedRoles(action).contains(role);
}

QList<Action> allActions() {
    QList<Action> all;
    for (int a = static_cast<int>(Action::WhoAmI); a <= static_cast<int>(Action::RolloutList);
         ++a) {
        all << static_cast<Action>(a);
    }
    return all;
}

}  // namespace otafleet::server
