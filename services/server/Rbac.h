// Who may do what on otafleetd: one row per ConsoleService action, naming the roles allowed.
// The roles are not a ladder (an approver may read the audit log, a technician may not; a
// technician may tag devices, an approver may not), so this is a table, not a rank.
#pragma once

#include "store/UserRepository.h"

#include <QList>
#include <QString>

namespace otafleet::server {

enum class Action {
    WhoAmI,
    UserAdd,
    UserList,
    UserSetRole,
    UserDisable,
    AuditList,
    AuditVerify,
    FleetDevices,
    FleetSummary,
    FleetTag,
    FleetUntag,
    FleetGroup,
    FleetDecommission,
    ReleaseUpload,
    ReleaseList,
    ReleaseInspect,
    ReleaseRevoke,
    FleetTelemetry,
    FleetAnomalies,
    RolloutCreate,
    RolloutApprove,
    RolloutStart,
    RolloutPause,
    RolloutResume,
    RolloutAbort,
    RolloutRetryFailed,
    RolloutStatus,
    RolloutList,
};

// "user.add", "fleet.tag", ...: the audit log's action names (refusals: "denied:user.add").
[[nodiscard]] QString actionName(Action action);
[[nodiscard]] QList<store::Role> allowedRoles(Action action);
[[nodiscard]] bool allowed(store::Role role, Action action);
[[nodiscard]] QList<Action> allActions();

}  // namespace otafleet::server
