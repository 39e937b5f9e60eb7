#include "fleet/UserService.h"

namespace otafleet::fleet {

QStringList userRoles() {
    return {QStringLiteral("viewer"), QStringLiteral("technician"),
            QStringLiteral("release-manager"), QStringLiteral("approver"), QStringLiteral("admin")};
}

UserService::UserService(QObject* parent) : QObject(parent) {}

UserService::~UserService() = default;

}  // namespace otafleet::fleet
