#include "fleet/FleetService.h"

#include "fleet/FleetSummary.h"

namespace otafleet::fleet {

QString FleetDevice::displayName() const {
    if (!name.isEmpty())
        return name;
    if (snapshot && !snapshot->name.isEmpty())
        return snapshot->name;
    return uri;
}

FleetService::FleetService(QObject* parent) : QObject(parent) {}
FleetService::~FleetService() = default;

FleetSummary FleetService::summary(const QDateTime& now) const {
    return summarize(devices(), now);
}

}  // namespace otafleet::fleet
