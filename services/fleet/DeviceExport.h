// The device list as CSV (File > Export devices… in the console): one row per device in the
// order given, the columns below (stable, snake_case: scripts and spreadsheets rely on them).
//   name, address, device_id, model, hardware, version, other_version, active_slot, state,
//   online, last_seen, last_error
// `version` is what the device runs, `other_version` what its other slot holds; `state` is the
// device's own (idle, trial, ...; empty before it answered); `online` is yes/no by
// FleetSummary's rule at `now`; `last_seen` is ISO 8601 UTC; `last_error` is the code of the
// last failed operation. Device names come from outside: common/Csv.h guards them.
#pragma once

#include "fleet/DevicePages.h"
#include "fleet/FleetService.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QStringList>

namespace otafleet::fleet {

[[nodiscard]] QStringList deviceCsvHeader();
[[nodiscard]] QByteArray devicesCsv(const QList<FleetDevice>& devices, const QDateTime& now);
// devicesCsv() written to `path` atomically (a crash leaves the old file or the new one).
// Error: io.write-failed with the path and the reason.
[[nodiscard]] Status writeDevicesCsv(const QString& path, const QList<FleetDevice>& devices,
                                     const QDateTime& now);

// The devices a paged list shows (`request`'s filter, text and order; its page is ignored) in
// the same columns, read page after page from `source` (address otafleetd:ID, version the
// running one, state "decommissioned" or empty, online from the server). Waits on the source:
// run it on a worker thread. Stops (nothing written, error fleet.cancelled) when *stop is set.
[[nodiscard]] Status writeDevicePagesCsv(const QString& path, DevicePageSource& source,
                                         DevicePageRequest request, const std::atomic<bool>& stop);

}  // namespace otafleet::fleet
