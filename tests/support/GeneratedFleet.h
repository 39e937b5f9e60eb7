// A fleet store file with many devices made in one statement (one transaction), for the paged
// device table's tests and the console benchmark: `count` devices in fleet_devices, each field
// a function of its number so that a test can say in SQL which devices a filter or an order
// must give. Device i:
//   device_id  dev-%07d            name     Unit %07d of (i * 7919) % count (another order)
//   model      gateway-x1 | sensor-s2 | meter-m3 (i % 3)      hardware  rev-a..rev-d (i % 4)
//   version    1.(i % 5).(i % 7)   tags     ["pilot"] when i % 10 == 0, else []
//   group      berlin (i % 6 == 0), lyon (i % 6 == 1), else none
//   online     i % 4 == 1          last seen  `now` - (i * 37 % 86,400,000) ms
#pragma once

#include "common/Error.h"

#include <QDateTime>
#include <QString>

namespace otafleet::testsupport {

// Creates (or migrates) the store at `path` and adds the devices. Errors store.*.
[[nodiscard]] Status generateFleetDevices(const QString& path, qint64 count, const QDateTime& now);

}  // namespace otafleet::testsupport
