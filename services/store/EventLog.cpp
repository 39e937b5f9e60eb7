#include "store/EventLog.h"

#include "store/SqlError.h"

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QVariant>

#include <algorithm>

namespace otafleet::store {

EventLog::EventLog(QString connectionName) : m_connectionName(std::move(connectionName)) {}

Status EventLog::append(qint64 deviceId, const QString& kind, const QString& detail,
                        const QDateTime& time) {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral(
        "INSERT INTO events (device_id, time_ms, kind, detail) VALUES (?, ?, ?, ?)"));
    query.addBindValue(deviceId);
    query.addBindValue(time.toMSecsSinceEpoch());
    query.addBindValue(kind.left(64));
    query.addBindValue(detail.left(kMaxDetailLength));
    return exec(query, QStringLiteral("record an event"));
}

Result<QList<DeviceEvent>> EventLog::forDevice(qint64 deviceId, int limit) const {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.setForwardOnly(true);
    query.prepare(
        QStringLiteral("SELECT id, device_id, time_ms, kind, detail FROM events "
                       "WHERE device_id = ? ORDER BY id DESC LIMIT ?"));
    query.addBindValue(deviceId);
    query.addBindValue(std::clamp(limit, 0, kMaxListed));
    if (auto ok = exec(query, QStringLiteral("read the event log")); !ok)
        return fail(ok.error());
    QList<DeviceEvent> events;
    while (query.next()) {
        events.append(
            DeviceEvent{query.value(0).toLongLong(), query.value(1).toLongLong(),
                        QDateTime::fromMSecsSinceEpoch(query.value(2).toLongLong(), Qt::UTC),
                        query.value(3).toString(), query.value(4).toString()});
    }
    return events;
}

}  // namespace otafleet::store
