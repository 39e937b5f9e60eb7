// What the rollout filter language sees of a device that dialled in: one translation for the
// device list's --filter, the rollouts' targets and the console's device table
// (fleet/FleetDeviceSql.h).
#pragma once

#include "fleet/FleetDeviceSql.h"

namespace otafleet::server {

using fleet::factsOf;

}  // namespace otafleet::server
