#include "fleet/FleetService.h"

#include "fleet/DevicePages.h"

#include "fleet/DeviceQuery.h"
#include "fleet/FleetSummary.h"

#include <QStringList>
#include <QtConcurrentRun>

#include <algorithm>

namespace otafleet::fleet {

QString FleetDevice::displayName() const {
    if (!name.isEmpty())
        return name;
    if (snapshot && !snapshot->name.isEmpty())
        return snapshot->name;
    return uri;
}

QString FleetConnection::text() const {
    QStringList parts{where};
    if (!user.isEmpty())
        parts << QStringLiteral("%1 (%2)").arg(user, role);
    switch (state) {
        case State::Local:
            break;
        case State::Connecting:
            parts << QStringLiteral("connecting…");
            break;
        case State::Online:
            parts << QStringLiteral("online");
            break;
        case State::Reconnecting: {
            QString line =
                error ? QStringLiteral("offline (%1)").arg(error->code) : QStringLiteral("offline");
            if (nextAttempt.isValid()) {
                const qint64 seconds =
                    std::max<qint64>(0, QDateTime::currentDateTimeUtc().secsTo(nextAttempt));
                line += QStringLiteral(", retrying in %1 s").arg(seconds);
            }
            parts << line;
            break;
        }
        case State::Refused:
            parts << (error ? QStringLiteral("not signed in (%1)").arg(error->code)
                            : QStringLiteral("not signed in"));
            break;
    }
    return parts.join(QStringLiteral(" · "));
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

std::shared_ptr<DevicePageSource> FleetService::devicePages() {
    return nullptr;
}

FleetConnection FleetService::connection() const {
    return FleetConnection{FleetConnection::State::Local,
                           QStringLiteral("This workstation"),
                           {},
                           {},
                           std::nullopt,
                           {}};
}

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
