// What the rollout filter language sees of a device that dialled in (rollout::DeviceFacts from a
// stored fleet device): one translation for the device list's --filter and the rollouts' targets.
#pragma once

#include "rollout/DeviceFilter.h"
#include "store/FleetDeviceRepository.h"

namespace otafleet::server {

[[nodiscard]] inline rollout::DeviceFacts factsOf(const store::FleetDeviceRecord& d) {
    rollout::DeviceFacts facts;
    facts.id = d.deviceId;
    facts.name = d.name;
    facts.model = d.model;
    facts.hardware = d.hardware;
    facts.version = d.version;
    facts.tags = d.tags;
    if (!d.group.isEmpty())
        facts.groups = QStringList{d.group};
    facts.online = d.online;
    return facts;
}

}  // namespace otafleet::server
