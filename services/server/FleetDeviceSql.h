// The device filter as SQL lives with the console's fleet library, which pages the same table
// (fleet/FleetDeviceSql.h); otafleetd uses it under its own names.
#pragma once

#include "fleet/FleetDeviceSql.h"

namespace otafleet::server {

using fleet::DeviceSql;
using fleet::deviceSqlOf;

}  // namespace otafleet::server
