#include "fleet/RoleCheck.h"

namespace otafleet::fleet {

QString roleTitle(const QString& role) {
    return role == u"release-manager" ? QStringLiteral("release manager") : role;
}

std::optional<QString> roleBlocker(const FleetConnection& connection, const QStringList& allowed,
                                   const QString& what) {
    if (connection.role.isEmpty())
        return QStringLiteral("Waiting for otafleetd to say what your role allows.");
    if (allowed.contains(connection.role))
        return std::nullopt;
    QStringList titles;
    for (const QString& role : allowed)
        titles << roleTitle(role);
    return QStringLiteral("As %1 (%2) you may not %3 on this server; ask someone with the role %4.")
        .arg(connection.user, roleTitle(connection.role), what,
             titles.join(QStringLiteral(" or ")));
}

}  // namespace otafleet::fleet
