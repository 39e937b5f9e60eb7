#include "fleet/FleetService.h"

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

}  // namespace otafleet::fleet
