// A device filter (rollout::DeviceFilter) as a condition on the store's fleet_devices table, so
// the database selects the devices and a page reads only its own rows.
//
// Exact where the columns hold what the filter tests: model, hardware, name, id, group and
// online. Tags (a JSON list in one column) and versions (SemVer precedence, which text comparison
// gets wrong) are not translated: there the condition selects a superset and `exact` is false,
// so the caller keeps only what DeviceFilter::matches() accepts. A `not` flips which way an
// untranslated comparison must err, so the result stays a superset.
#pragma once

#include "rollout/DeviceFilter.h"
#include "store/FleetDeviceRepository.h"

namespace otafleet::server {

struct DeviceSql {
    store::DeviceWhere where;
    bool exact = true;  // `where` selects exactly the devices the filter matches
};

[[nodiscard]] DeviceSql deviceSqlOf(const rollout::DeviceFilter& filter);

}  // namespace otafleet::server
