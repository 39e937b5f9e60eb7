#include "fleet/ReleaseService.h"

namespace otafleet::fleet {

QString ReleaseInfo::stateText() const {
    if (!revoked)
        return QObject::tr("Active");
    return QObject::tr("Revoked %1")
        .arg(revokedAt.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'")));
}

ReleaseService::ReleaseService(QObject* parent) : QObject(parent) {}

ReleaseService::~ReleaseService() = default;

std::optional<ReleaseInfo> ReleaseService::release(const QString& id) const {
    for (const ReleaseInfo& r : releases()) {
        if (r.id == id)
            return r;
    }
    return std::nullopt;
}

std::optional<QString> ReleaseService::actionBlocker(ReleaseAction) const {
    return std::nullopt;
}

}  // namespace otafleet::fleet
