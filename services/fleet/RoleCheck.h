// What a signed-in user's role on otafleetd lets them do, as the console's views ask it: the
// sentence for a disabled action's tooltip. otafleetd's RBAC (server/Rbac.cpp) decides anyway;
// this only says beforehand what the server would refuse.
#pragma once

#include "fleet/FleetService.h"

#include <QString>
#include <QStringList>

#include <optional>

namespace otafleet::fleet {

// "release-manager" -> "release manager"; other roles as they are.
[[nodiscard]] QString roleTitle(const QString& role);

// Why the user `connection` signed in may not `what` ("read the audit log"), or none when their
// role is among `allowed`. While the role is not known yet, the sentence says so.
[[nodiscard]] std::optional<QString> roleBlocker(const FleetConnection& connection,
                                                 const QStringList& allowed, const QString& what);

}  // namespace otafleet::fleet
