#include "store/RolloutRepository.h"

#include "store/SqlError.h"

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QVariant>

#include <algorithm>

namespace otafleet::store {

namespace {

Status checkSize(const QByteArray& engineJson) {
    if (engineJson.size() <= RolloutRepository::kMaxEngineBytes)
        return {};
    return fail(QStringLiteral("store.rollout-too-large"),
                QStringLiteral("The rollout's state is %1 bytes, more than the fleet database "
                               "keeps (%2); split the rollout into smaller ones.")
                    .arg(engineJson.size())
                    .arg(RolloutRepository::kMaxEngineBytes));
}

}  // namespace

RolloutRepository::RolloutRepository(QString connectionName)
    : m_connectionName(std::move(connectionName)) {}

Result<qint64> RolloutRepository::add(const QString& name, const QString& bundlePath,
                                      const QString& state, const QByteArray& engineJson,
                                      const QDateTime& now) {
    if (auto ok = checkSize(engineJson); !ok)
        return fail(ok.error());
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(
        QStringLiteral("INSERT INTO rollouts (name, bundle_path, state, engine, created_ms, "
                       "updated_ms) VALUES (?, ?, ?, ?, ?, ?)"));
    query.addBindValue(name.left(kMaxNameLength));
    query.addBindValue(bundlePath);
    query.addBindValue(state);
    query.addBindValue(QString::fromUtf8(engineJson));
    query.addBindValue(now.toMSecsSinceEpoch());
    query.addBindValue(now.toMSecsSinceEpoch());
    if (auto ok = exec(query, QStringLiteral("record a rollout")); !ok)
        return fail(ok.error());
    return query.lastInsertId().toLongLong();
}

Result<qint64> RolloutRepository::addForRelease(const RolloutRecord& record, const QDateTime& now) {
    if (auto ok = checkSize(record.engineJson); !ok)
        return fail(ok.error());
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral(
        "INSERT INTO rollouts (name, bundle_path, state, engine, created_ms, "
        "updated_ms, release_id, target) VALUES (?, '', ?, ?, ?, ?, ?, COALESCE(?, ''))"));
    query.addBindValue(record.name.left(kMaxNameLength));
    query.addBindValue(record.state);
    query.addBindValue(QString::fromUtf8(record.engineJson));
    query.addBindValue(now.toMSecsSinceEpoch());
    query.addBindValue(now.toMSecsSinceEpoch());
    query.addBindValue(record.releaseId);
    query.addBindValue(record.target);
    if (auto ok = exec(query, QStringLiteral("record a rollout")); !ok)
        return fail(ok.error());
    return query.lastInsertId().toLongLong();
}

Status RolloutRepository::save(qint64 id, const QString& state, const QByteArray& engineJson,
                               const QDateTime& now) {
    if (auto ok = checkSize(engineJson); !ok)
        return ok;
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(
        QStringLiteral("UPDATE rollouts SET state = ?, engine = ?, updated_ms = ? WHERE id = ?"));
    query.addBindValue(state);
    query.addBindValue(QString::fromUtf8(engineJson));
    query.addBindValue(now.toMSecsSinceEpoch());
    query.addBindValue(id);
    if (auto ok = exec(query, QStringLiteral("save a rollout")); !ok)
        return ok;
    if (query.numRowsAffected() != 1) {
        return fail(QStringLiteral("store.unknown-rollout"),
                    QStringLiteral("Rollout %1 is not in the fleet database; reload the "
                                   "rollout list.")
                        .arg(id));
    }
    return {};
}

Status RolloutRepository::writeDevices(qint64 id, const QList<RolloutDeviceRow>& rows) {
    if (rows.isEmpty())
        return {};
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral(
        "INSERT INTO rollout_devices (rollout_id, position, device_id, state, wave, attempts,"
        " offered_ms, reason, queue_seq) VALUES (?, ?, ?, ?, ?, ?, ?, COALESCE(?, ''), ?)"
        " ON CONFLICT (rollout_id, position) DO UPDATE SET device_id = excluded.device_id,"
        " state = excluded.state, wave = excluded.wave, attempts = excluded.attempts,"
        " offered_ms = excluded.offered_ms, reason = excluded.reason,"
        " queue_seq = excluded.queue_seq"));
    for (const RolloutDeviceRow& r : rows) {
        query.addBindValue(id);
        query.addBindValue(r.position);
        query.addBindValue(r.deviceId);
        query.addBindValue(r.state);
        query.addBindValue(r.wave);
        query.addBindValue(r.attempts);
        query.addBindValue(r.offeredAtMs);
        query.addBindValue(r.reason);
        query.addBindValue(r.queueSeq);
        if (auto ok = exec(query, QStringLiteral("save a rollout's devices")); !ok)
            return ok;
    }
    return {};
}

namespace {

// Runs `work` in a transaction: committed when it succeeds, rolled back otherwise.
template <typename T, typename Work>
Result<T> inTransaction(const QString& connectionName, const QString& what, Work&& work) {
    QSqlDatabase db = QSqlDatabase::database(connectionName);
    if (!db.transaction())
        return fail(sqlError(QStringLiteral("start to %1").arg(what), db.lastError()));
    Result<T> result = work();
    if (!result) {
        db.rollback();
        return result;
    }
    if (!db.commit()) {
        const Error error = sqlError(QStringLiteral("finish to %1").arg(what), db.lastError());
        db.rollback();
        return fail(error);
    }
    return result;
}

}  // namespace

Result<qint64> RolloutRepository::addForRelease(const RolloutRecord& record,
                                                const QList<RolloutDeviceRow>& devices,
                                                const QDateTime& now) {
    return inTransaction<qint64>(m_connectionName, QStringLiteral("record a rollout"),
                                 [&]() -> Result<qint64> {
                                     auto id = addForRelease(record, now);
                                     if (!id)
                                         return id;
                                     if (auto ok = writeDevices(*id, devices); !ok)
                                         return fail(ok.error());
                                     return id;
                                 });
}

Status RolloutRepository::saveWithDevices(qint64 id, const QString& state,
                                          const QByteArray& headerJson,
                                          const QList<RolloutDeviceRow>& changed,
                                          const QDateTime& now) {
    auto saved = inTransaction<bool>(m_connectionName, QStringLiteral("save a rollout"),
                                     [&]() -> Result<bool> {
                                         if (auto ok = save(id, state, headerJson, now); !ok)
                                             return fail(ok.error());
                                         if (auto ok = writeDevices(id, changed); !ok)
                                             return fail(ok.error());
                                         return true;
                                     });
    if (!saved)
        return fail(saved.error());
    return {};
}

Result<QList<RolloutDeviceRow>> RolloutRepository::devices(qint64 id) const {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.setForwardOnly(true);
    query.prepare(
        QStringLiteral("SELECT position, device_id, state, wave, attempts, offered_ms, reason,"
                       " queue_seq FROM rollout_devices WHERE rollout_id = ? ORDER BY position"));
    query.addBindValue(id);
    if (auto ok = exec(query, QStringLiteral("read a rollout's devices")); !ok)
        return fail(ok.error());
    QList<RolloutDeviceRow> rows;
    while (query.next()) {
        RolloutDeviceRow r;
        r.position = query.value(0).toLongLong();
        r.deviceId = query.value(1).toString();
        r.state = query.value(2).toString();
        r.wave = query.value(3).toInt();
        r.attempts = query.value(4).toInt();
        r.offeredAtMs = query.value(5).toLongLong();
        r.reason = query.value(6).toString();
        r.queueSeq = query.value(7).toLongLong();
        rows.append(std::move(r));
    }
    return rows;
}

namespace {

RolloutDeviceRow deviceRow(const QSqlQuery& query) {
    RolloutDeviceRow r;
    r.position = query.value(0).toLongLong();
    r.deviceId = query.value(1).toString();
    r.state = query.value(2).toString();
    r.wave = query.value(3).toInt();
    r.attempts = query.value(4).toInt();
    r.offeredAtMs = query.value(5).toLongLong();
    r.reason = query.value(6).toString();
    r.queueSeq = query.value(7).toLongLong();
    return r;
}

}  // namespace

Result<QList<RolloutDeviceRow>> RolloutRepository::devicesPage(qint64 id, qint64 offset,
                                                               int limit) const {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.setForwardOnly(true);
    query.prepare(QStringLiteral(
        "SELECT position, device_id, state, wave, attempts, offered_ms, reason, queue_seq"
        " FROM rollout_devices WHERE rollout_id = ? AND position >= ? ORDER BY position LIMIT ?"));
    query.addBindValue(id);
    query.addBindValue(std::max<qint64>(0, offset));
    query.addBindValue(std::clamp(limit, 0, kMaxDevicePage));
    if (auto ok = exec(query, QStringLiteral("read a page of a rollout's devices")); !ok)
        return fail(ok.error());
    QList<RolloutDeviceRow> rows;
    while (query.next())
        rows.append(deviceRow(query));
    return rows;
}

Result<qint64> RolloutRepository::deviceCount(qint64 id) const {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral("SELECT COUNT(*) FROM rollout_devices WHERE rollout_id = ?"));
    query.addBindValue(id);
    if (auto ok = exec(query, QStringLiteral("count a rollout's devices")); !ok)
        return fail(ok.error());
    return query.next() ? query.value(0).toLongLong() : 0;
}

Result<QList<std::pair<QString, qint64>>> RolloutRepository::failedReasons(qint64 id) const {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.setForwardOnly(true);
    query.prepare(
        QStringLiteral(
            "SELECT reason, COUNT(*) FROM rollout_devices WHERE rollout_id = ?"
            " AND state IN ('failed', 'reverted', 'timed_out') GROUP BY reason ORDER BY 2 DESC, 1"
            " LIMIT %1")
            .arg(kMaxReasonRows));
    query.addBindValue(id);
    if (auto ok = exec(query, QStringLiteral("count a rollout's failure reasons")); !ok)
        return fail(ok.error());
    QList<std::pair<QString, qint64>> rows;
    while (query.next())
        rows.append({query.value(0).toString(), query.value(1).toLongLong()});
    return rows;
}

Result<QList<RolloutRecord>> RolloutRepository::all() const {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.setForwardOnly(true);
    if (!query.exec(QStringLiteral("SELECT id, name, bundle_path, state, engine, created_ms, "
                                   "updated_ms, release_id, target FROM rollouts ORDER BY id")))
        return fail(sqlError(QStringLiteral("read the rollouts"), query.lastError()));
    QList<RolloutRecord> records;
    while (query.next()) {
        RolloutRecord r;
        r.id = query.value(0).toLongLong();
        r.name = query.value(1).toString();
        r.bundlePath = query.value(2).toString();
        r.state = query.value(3).toString();
        r.engineJson = query.value(4).toString().toUtf8();
        r.created = QDateTime::fromMSecsSinceEpoch(query.value(5).toLongLong(), Qt::UTC);
        r.updated = QDateTime::fromMSecsSinceEpoch(query.value(6).toLongLong(), Qt::UTC);
        r.releaseId = query.value(7).toString();
        r.target = query.value(8).toString();
        records.append(std::move(r));
    }
    return records;
}

}  // namespace otafleet::store
