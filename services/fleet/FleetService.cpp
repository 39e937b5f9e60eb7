#include "fleet/FleetService.h"

#include "fleet/DeviceQuery.h"
#include "fleet/FleetSummary.h"

#include <QtConcurrentRun>

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

QFuture<Result<QList<qint64>>> FleetService::devicesMatching(const QString& expression,
                                                             const QDateTime& now) const {
    return QtConcurrent::run([expression, now, devices = devices()]() -> Result<QList<qint64>> {
        auto query = DeviceQuery::parse(expression);
        if (!query)
            return fail(query.error());
        QList<qint64> ids;
        for (const FleetDevice& device : devices)
            if (query->matches(device, now))
                ids.append(device.id);
        return ids;
    });
}

}  // namespace otafleet::fleet
