#include "store/TelemetryRepository.h"

#include "store/SqlError.h"

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QVariant>

#include <algorithm>

namespace otafleet::store {

TelemetryRepository::TelemetryRepository(QString connectionName)
    : m_connectionName(std::move(connectionName)) {}

Status TelemetryRepository::append(const QList<TelemetryRecord>& records) {
    for (const TelemetryRecord& r : records) {
        if (r.json.size() > kMaxJsonBytes) {
            return fail(QStringLiteral("store.invalid-input"),
                        QStringLiteral("A telemetry event of device %1 has %2 bytes, more than "
                                       "the %3 a stored event may have.")
                            .arg(r.deviceId)
                            .arg(r.json.size())
                            .arg(kMaxJsonBytes));
        }
    }
    QSqlDatabase db = QSqlDatabase::database(m_connectionName);
    if (!db.transaction())
        return fail(sqlError(QStringLiteral("start storing telemetry"), db.lastError()));
    QSqlQuery query(db);
    query.prepare(
        QStringLiteral("INSERT INTO telemetry (device_id, seq, time_ms, type, data)"
                       " VALUES (?, ?, ?, ?, ?) ON CONFLICT (device_id, seq) DO NOTHING"));
    for (const TelemetryRecord& r : records) {
        query.addBindValue(r.deviceId);
        query.addBindValue(qint64(r.seq));
        query.addBindValue(r.time.toMSecsSinceEpoch());
        query.addBindValue(r.type.left(64));
        query.addBindValue(QString::fromUtf8(r.json));
        if (auto ok = exec(query, QStringLiteral("store a telemetry event")); !ok) {
            db.rollback();
            return ok;
        }
    }
    if (!db.commit())
        return fail(sqlError(QStringLiteral("store telemetry"), db.lastError()));
    return {};
}

Result<quint64> TelemetryRepository::lastSeq(qint64 deviceId) const {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral("SELECT MAX(seq) FROM telemetry WHERE device_id = ?"));
    query.addBindValue(deviceId);
    if (auto ok = exec(query, QStringLiteral("read the last telemetry event")); !ok)
        return fail(ok.error());
    return query.next() ? quint64(query.value(0).toLongLong()) : 0;
}

Result<QList<TelemetryRecord>> TelemetryRepository::forDevice(qint64 deviceId, const QString& type,
                                                              int limit) const {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.setForwardOnly(true);
    query.prepare(type.isEmpty()
                      ? QStringLiteral("SELECT seq, time_ms, type, data FROM telemetry WHERE "
                                       "device_id = ? ORDER BY seq LIMIT ?")
                      : QStringLiteral("SELECT seq, time_ms, type, data FROM telemetry WHERE "
                                       "device_id = ? AND type = ? ORDER BY seq LIMIT ?"));
    query.addBindValue(deviceId);
    if (!type.isEmpty())
        query.addBindValue(type);
    query.addBindValue(std::clamp(limit, 0, kMaxListed));
    if (auto ok = exec(query, QStringLiteral("read telemetry")); !ok)
        return fail(ok.error());
    QList<TelemetryRecord> out;
    while (query.next()) {
        out.append(
            TelemetryRecord{deviceId, quint64(query.value(0).toLongLong()),
                            QDateTime::fromMSecsSinceEpoch(query.value(1).toLongLong(), Qt::UTC),
                            query.value(2).toString(), query.value(3).toString().toUtf8()});
    }
    return out;
}

Result<QList<TelemetryRecord>> TelemetryRepository::ofTypes(const QStringList& types,
                                                            int limit) const {
    QList<TelemetryRecord> out;
    if (types.isEmpty())
        return out;
    QStringList marks;
    for (qsizetype i = 0; i < types.size(); ++i)
        marks.append(QStringLiteral("?"));
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT device_id, seq, time_ms, type, data FROM telemetry WHERE "
                                 "type IN (%1) ORDER BY time_ms, device_id, seq LIMIT ?")
                      .arg(marks.join(u',')));
    for (const QString& type : types)
        query.addBindValue(type);
    query.addBindValue(std::clamp(limit, 0, kMaxAcrossDevices));
    if (auto ok = exec(query, QStringLiteral("read telemetry")); !ok)
        return fail(ok.error());
    while (query.next()) {
        out.append(
            TelemetryRecord{query.value(0).toLongLong(), quint64(query.value(1).toLongLong()),
                            QDateTime::fromMSecsSinceEpoch(query.value(2).toLongLong(), Qt::UTC),
                            query.value(3).toString(), query.value(4).toString().toUtf8()});
    }
    return out;
}

}  // namespace otafleet::store
