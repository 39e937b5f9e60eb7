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

bool FleetDevice::isMcu() const {
    if (snapshot && snapshot->model == QLatin1String("mcuboot"))
        return true;
    static const QStringList smpSchemes{QStringLiteral("serial"), QStringLiteral("udp"),
                                        QStringLiteral("ble")};
    return smpSchemes.contains(uri.section(QLatin1Char(':'), 0, 0));
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

Result<qint64> FleetService::attachDevice(const QString& uri, const QString& name) {
    Q_UNUSED(name);
    return fail(QStringLiteral("fleet.unsupported"),
                QStringLiteral("This fleet cannot take devices plugged into this workstation "
                               "(%1); add it by address instead.")
                    .arg(uri.left(80)));
}

void FleetService::detachDevice(const QString& uri) {
    Q_UNUSED(uri);
}

}  // namespace otafleet::fleet
