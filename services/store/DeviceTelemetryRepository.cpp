#include "store/DeviceTelemetryRepository.h"

#include "store/SqlError.h"

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QVariant>

#include <limits>

namespace otafleet::store {
namespace {

constexpr qint64 kHourMs = 3600 * 1000;
constexpr qsizetype kMaxText = 128;

// A range's bounds as milliseconds; an unset end is open.
std::pair<qint64, qint64> rangeOf(const TelemetryQuery& q) {
    return {q.since.isValid() ? q.since.toMSecsSinceEpoch() : 0,
            q.until.isValid() ? q.until.toMSecsSinceEpoch() : std::numeric_limits<qint64>::max()};
}

// " AND model = ? AND version = ?" for what the query names, with its bind values.
QString narrowing(const TelemetryQuery& q, QVariantList& binds) {
    QString where;
    if (!q.model.isEmpty()) {
        where += QStringLiteral(" AND model = ?");
        binds << q.model;
    }
    if (!q.version.isEmpty()) {
        where += QStringLiteral(" AND version = ?");
        binds << q.version;
    }
    return where;
}

}  // namespace

DeviceTelemetryRepository::DeviceTelemetryRepository(QString connectionName)
    : m_connectionName(std::move(connectionName)) {}

Status DeviceTelemetryRepository::append(const QList<DeviceTelemetryRecord>& records) {
    if (records.size() > kMaxBatch) {
        return fail(
            QStringLiteral("store.invalid-input"),
            QStringLiteral("At most %1 telemetry events are stored at once.").arg(kMaxBatch));
    }
    for (const DeviceTelemetryRecord& r : records) {
        if (r.deviceId.isEmpty() || r.seq == 0 || !r.time.isValid()) {
            return fail(QStringLiteral("store.invalid-input"),
                        QStringLiteral("A telemetry event needs its device, sequence number and "
                                       "time."));
        }
    }
    if (records.isEmpty())
        return {};
    QSqlDatabase db = QSqlDatabase::database(m_connectionName);
    if (!db.transaction())
        return fail(sqlError(QStringLiteral("start storing telemetry"), db.lastError()));
    QSqlQuery query(db);
    query.prepare(QStringLiteral(
        "INSERT INTO device_telemetry (device_id, seq, time_ms, model, hardware, version, event,"
        " error_code, duration_ms, bytes, throughput) VALUES (?, ?, ?, COALESCE(?, ''),"
        " COALESCE(?, ''), COALESCE(?, ''), COALESCE(?, ''), COALESCE(?, ''), ?, ?, ?)"
        " ON CONFLICT (device_id, seq) DO NOTHING"));
    for (const DeviceTelemetryRecord& r : records) {
        query.addBindValue(r.deviceId.left(kMaxText));
        query.addBindValue(qint64(std::min<quint64>(r.seq, std::numeric_limits<qint64>::max())));
        query.addBindValue(r.time.toMSecsSinceEpoch());
        query.addBindValue(r.model.left(kMaxText));
        query.addBindValue(r.hardware.left(kMaxText));
        query.addBindValue(r.version.left(kMaxText));
        query.addBindValue(r.event.left(kMaxText));
        query.addBindValue(r.errorCode.left(kMaxText));
        query.addBindValue(
            qint64(std::min<quint64>(r.durationMs, std::numeric_limits<qint64>::max())));
        query.addBindValue(qint64(std::min<quint64>(r.bytes, std::numeric_limits<qint64>::max())));
        query.addBindValue(r.throughput >= 0 && r.throughput < 1e15 ? r.throughput : 0.0);
        if (auto ok = exec(query, QStringLiteral("store a telemetry event")); !ok) {
            db.rollback();
            return ok;
        }
    }
    if (!db.commit())
        return fail(sqlError(QStringLiteral("finish storing telemetry"), db.lastError()));
    return {};
}

Result<QList<TelemetryBucketRow>> DeviceTelemetryRepository::hourly(const TelemetryQuery& q) const {
    const auto [from, to] = rangeOf(q);
    QVariantList binds{from, to};
    const QString where = narrowing(q, binds);
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(
        QStringLiteral("SELECT (time_ms / %1) * %1, model, hardware, version, event, COUNT(*),"
                       " COUNT(DISTINCT device_id),"
                       " AVG(CASE WHEN duration_ms > 0 THEN duration_ms END), SUM(bytes),"
                       " AVG(CASE WHEN throughput > 0 THEN throughput END)"
                       " FROM device_telemetry WHERE time_ms >= ? AND time_ms < ?%2"
                       " GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5 LIMIT %3")
            .arg(kHourMs)
            .arg(where)
            .arg(kMaxBuckets));
    for (const QVariant& v : binds)
        query.addBindValue(v);
    if (auto ok = exec(query, QStringLiteral("aggregate telemetry")); !ok)
        return fail(ok.error());
    QList<TelemetryBucketRow> rows;
    while (query.next()) {
        TelemetryBucketRow r;
        r.hour = QDateTime::fromMSecsSinceEpoch(query.value(0).toLongLong(), Qt::UTC);
        r.model = query.value(1).toString();
        r.hardware = query.value(2).toString();
        r.version = query.value(3).toString();
        r.event = query.value(4).toString();
        r.count = query.value(5).toLongLong();
        r.devices = query.value(6).toLongLong();
        r.avgDurationMs = query.value(7).toDouble();
        r.bytes = query.value(8).toLongLong();
        r.avgThroughput = query.value(9).toDouble();
        rows.append(std::move(r));
    }
    return rows;
}

Result<QList<ReasonRow>> DeviceTelemetryRepository::failureReasons(const TelemetryQuery& q) const {
    const auto [from, to] = rangeOf(q);
    QVariantList binds{from, to};
    const QString where = narrowing(q, binds);
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral("SELECT error_code, COUNT(*), COUNT(DISTINCT device_id)"
                                 " FROM device_telemetry WHERE time_ms >= ? AND time_ms < ?%1"
                                 " AND error_code <> '' GROUP BY error_code"
                                 " ORDER BY 2 DESC, 1 LIMIT %2")
                      .arg(where)
                      .arg(kMaxReasons));
    for (const QVariant& v : binds)
        query.addBindValue(v);
    if (auto ok = exec(query, QStringLiteral("count failure reasons")); !ok)
        return fail(ok.error());
    QList<ReasonRow> rows;
    while (query.next())
        rows.append(ReasonRow{query.value(0).toString(), query.value(1).toLongLong(),
                              query.value(2).toLongLong()});
    return rows;
}

Result<QList<DeviceTelemetryRecord>> DeviceTelemetryRepository::samples(const TelemetryQuery& q,
                                                                        const QStringList& events,
                                                                        int limit) const {
    QList<DeviceTelemetryRecord> rows;
    if (events.isEmpty() || limit <= 0)
        return rows;
    const auto [from, to] = rangeOf(q);
    QVariantList binds{from, to};
    QStringList marks;
    for (const QString& e : events) {
        marks << QStringLiteral("?");
        binds << e;
    }
    const QString where = narrowing(q, binds);
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT device_id, seq, time_ms, model, hardware, version, event,"
                                 " error_code, duration_ms, bytes, throughput FROM device_telemetry"
                                 " WHERE time_ms >= ? AND time_ms < ? AND event IN (%1)%2"
                                 " ORDER BY time_ms DESC LIMIT %3")
                      .arg(marks.join(u','), where)
                      .arg(std::min(limit, kMaxSamples)));
    for (const QVariant& v : binds)
        query.addBindValue(v);
    if (auto ok = exec(query, QStringLiteral("read telemetry samples")); !ok)
        return fail(ok.error());
    while (query.next()) {
        DeviceTelemetryRecord r;
        r.deviceId = query.value(0).toString();
        r.seq = query.value(1).toULongLong();
        r.time = QDateTime::fromMSecsSinceEpoch(query.value(2).toLongLong(), Qt::UTC);
        r.model = query.value(3).toString();
        r.hardware = query.value(4).toString();
        r.version = query.value(5).toString();
        r.event = query.value(6).toString();
        r.errorCode = query.value(7).toString();
        r.durationMs = query.value(8).toULongLong();
        r.bytes = query.value(9).toULongLong();
        r.throughput = query.value(10).toDouble();
        rows.append(std::move(r));
    }
    return rows;
}

Result<DeviceTelemetryRepository::Outcomes> DeviceTelemetryRepository::outcomes(
    const QDateTime& since, const QDateTime& until) const {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral(
        "SELECT COALESCE(SUM(CASE WHEN event <> 'install-done' THEN 1 ELSE 0 END), 0), COUNT(*)"
        " FROM device_telemetry WHERE event IN ('install-done', 'install-failed', 'revert')"
        " AND time_ms >= ? AND time_ms < ?"));
    query.addBindValue(since.toMSecsSinceEpoch());
    query.addBindValue(until.toMSecsSinceEpoch());
    if (auto ok = exec(query, QStringLiteral("count update outcomes")); !ok)
        return fail(ok.error());
    if (!query.next())
        return Outcomes{};
    return Outcomes{query.value(0).toLongLong(), query.value(1).toLongLong()};
}

Result<QList<DeviceEventRow>> DeviceTelemetryRepository::latestWithError(
    const QStringList& codes, const QStringList& prefixes) const {
    QStringList conditions;
    QVariantList binds;
    for (const QString& code : codes) {
        conditions << QStringLiteral("error_code = ?");
        binds << code;
    }
    for (const QString& prefix : prefixes) {
        // Only our own constant prefixes come here; LIKE's wildcards are refused all the same.
        if (prefix.contains(u'%') || prefix.contains(u'_'))
            continue;
        conditions << QStringLiteral("error_code LIKE ?");
        binds << prefix + u'%';
    }
    if (conditions.isEmpty())
        return QList<DeviceEventRow>{};
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    // Newest first within each device; the first row of a device is its newest match.
    query.prepare(QStringLiteral("SELECT device_id, model, version, event, error_code, time_ms"
                                 " FROM device_telemetry WHERE %1"
                                 " ORDER BY device_id, seq DESC LIMIT %2")
                      .arg(conditions.join(QStringLiteral(" OR ")))
                      .arg(kMaxDeviceRows * 10));
    for (const QVariant& v : binds)
        query.addBindValue(v);
    if (auto ok = exec(query, QStringLiteral("find devices reporting errors")); !ok)
        return fail(ok.error());
    QList<DeviceEventRow> rows;
    while (query.next() && rows.size() < kMaxDeviceRows) {
        const QString device = query.value(0).toString();
        if (!rows.isEmpty() && rows.last().deviceId == device)
            continue;
        rows.append(
            DeviceEventRow{device, query.value(1).toString(), query.value(2).toString(),
                           query.value(3).toString(), query.value(4).toString(),
                           QDateTime::fromMSecsSinceEpoch(query.value(5).toLongLong(), Qt::UTC)});
    }
    return rows;
}

Result<qint64> DeviceTelemetryRepository::count() const {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    if (!query.exec(QStringLiteral("SELECT COUNT(*) FROM device_telemetry")) || !query.next())
        return fail(sqlError(QStringLiteral("count telemetry"), query.lastError()));
    return query.value(0).toLongLong();
}

}  // namespace otafleet::store
