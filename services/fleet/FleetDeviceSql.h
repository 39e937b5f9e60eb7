// A device filter (rollout::DeviceFilter) as a condition on the store's fleet_devices table, so
// the database selects the devices and a page reads only its own rows: otafleetd's device list
// and rollout targets, and the console's paged device table (fleet/StoreDevicePages.h).
//
// Exact where the columns hold what the filter tests: model, hardware, name, id, group and
// online. Tags (a JSON list in one column) and versions (SemVer precedence, which text comparison
// gets wrong) are not translated: there the condition selects a superset and `exact` is false,
// so the caller keeps only what DeviceFilter::matches() accepts. A `not` flips which way an
// untranslated comparison must err, so the result stays a superset.
#pragma once

#include "fleet/DevicePages.h"
#include "rollout/DeviceFilter.h"
#include "store/FleetDeviceRepository.h"

#include <QDeadlineTimer>

#include <chrono>
#include <optional>

namespace otafleet::fleet {

struct DeviceSql {
    store::DeviceWhere where;
    bool exact = true;  // `where` selects exactly the devices the filter matches
};

[[nodiscard]] DeviceSql deviceSqlOf(const rollout::DeviceFilter& filter);

// What the filter language sees of a stored fleet device: one translation for the device list's
// --filter, the rollouts' targets and the console's device table.
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

[[nodiscard]] store::DeviceOrder orderOf(DeviceSortKey key);
// The wire names of the sort keys (ListDevicesRequest.sort): id, name, model, hardware, version,
// group, state, last_seen. Errors filter.sort for any other.
[[nodiscard]] Result<DeviceSortKey> sortKeyNamed(const QString& name);
[[nodiscard]] QString sortKeyName(DeviceSortKey key);

// Pages of fleet_devices for a request (filter, free text, order): where the filter translates
// exactly, the database selects and pages; where it selects a superset, the keys that match are
// worked out once by a scan in the requested order and kept for kMatchesMaxAge (or until
// forget()), and a page is read by key. The count of an exact filter is kept as long. Used on the
// one thread that owns the repository's connection: otafleetd's store worker, the console's
// StoreDevicePages.
class DevicePager {
public:
    static constexpr std::chrono::seconds kMatchesMaxAge{5};

    // Errors filter.* (expression, text), store.*.
    [[nodiscard]] Result<store::FleetDevicePage> page(store::FleetDeviceRepository& devices,
                                                      const DevicePageRequest& request);
    // Devices changed (tags, groups): what a filter matched is worked out again.
    void forget() {
        m_matches.reset();
        m_count.reset();
    }

private:
    // The count of an exact filter, kept as long as the matches of an inexact one: scrolling
    // reads pages, not the count again.
    struct Count {
        QString filter;
        QString text;
        qint64 total = 0;
        QDeadlineTimer fresh;
    };
    std::optional<Count> m_count;
    struct Matches {
        QString filter;
        QString text;
        store::DeviceSort sort;
        QStringList keys;
        QDeadlineTimer fresh;
    };
    std::optional<Matches> m_matches;
};

}  // namespace otafleet::fleet
