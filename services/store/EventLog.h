// Append-only history per device (added, refreshed, update started/finished, errors), shown to
// technicians and kept when a device is removed so the record of what was done survives.
#pragma once

#include "common/Error.h"

#include <QDateTime>
#include <QList>
#include <QString>

namespace otafleet::store {

struct DeviceEvent {
    qint64 id = 0;
    qint64 deviceId = 0;
    QDateTime time;
    QString kind;    // dotted, stable: "device.added", "update.finished", "update.failed"
    QString detail;  // a sentence or a short value
};

class EventLog {
public:
    static constexpr qsizetype kMaxDetailLength = 4096;
    static constexpr int kMaxListed = 1000;

    explicit EventLog(QString connectionName);

    [[nodiscard]] Status append(qint64 deviceId, const QString& kind, const QString& detail,
                                const QDateTime& time = QDateTime::currentDateTimeUtc());
    // Newest first, at most `limit` (capped at kMaxListed).
    [[nodiscard]] Result<QList<DeviceEvent>> forDevice(qint64 deviceId, int limit = 100) const;

private:
    QString m_connectionName;
};

}  // namespace otafleet::store
