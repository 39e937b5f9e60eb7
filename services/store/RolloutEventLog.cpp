#include "store/RolloutEventLog.h"

#include "store/SqlError.h"

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QVariant>

#include <algorithm>

namespace otafleet::store {

RolloutEventLog::RolloutEventLog(QString connectionName)
    : m_connectionName(std::move(connectionName)) {}

Status RolloutEventLog::append(const QList<RolloutEventRecord>& records) {
    if (records.isEmpty())
        return {};
    if (records.size() > kMaxBatch) {
        return fail(QStringLiteral("store.invalid-input"),
                    QStringLiteral("%1 rollout events at once are more than the %2 one batch may "
                                   "hold; record them in smaller batches.")
                        .arg(records.size())
                        .arg(kMaxBatch));
    }
    QSqlDatabase db = QSqlDatabase::database(m_connectionName);
    if (!db.transaction())
        return fail(sqlError(QStringLiteral("start recording rollout events"), db.lastError()));
    QSqlQuery query(db);
    query.prepare(
        QStringLiteral("INSERT INTO rollout_events (rollout_id, device_id, time_ms, state, wave, "
                       "reason) VALUES (?, ?, ?, ?, ?, ?)"));
    for (const RolloutEventRecord& r : records) {
        query.addBindValue(r.rolloutId);
        query.addBindValue(r.deviceId);
        query.addBindValue(r.time.toMSecsSinceEpoch());
        // A null QString binds as NULL; the columns hold "" for "none".
        query.addBindValue(r.state.isNull() ? QStringLiteral("") : r.state.left(32));
        query.addBindValue(r.wave);
        query.addBindValue(r.reason.isNull() ? QStringLiteral("")
                                             : r.reason.left(kMaxReasonLength));
        if (auto ok = exec(query, QStringLiteral("record a rollout event")); !ok) {
            db.rollback();
            return ok;
        }
    }
    if (!db.commit())
        return fail(sqlError(QStringLiteral("record rollout events"), db.lastError()));
    return {};
}

Result<QList<RolloutEventRecord>> RolloutEventLog::forRollout(qint64 rolloutId, int limit) const {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.setForwardOnly(true);
    query.prepare(
        QStringLiteral("SELECT device_id, time_ms, state, wave, reason FROM rollout_events "
                       "WHERE rollout_id = ? ORDER BY id LIMIT ?"));
    query.addBindValue(rolloutId);
    query.addBindValue(std::clamp(limit, 0, kMaxListed));
    if (auto ok = exec(query, QStringLiteral("read the rollout's history")); !ok)
        return fail(ok.error());
    QList<RolloutEventRecord> out;
    while (query.next()) {
        out.append(RolloutEventRecord{
            rolloutId, query.value(0).toLongLong(),
            QDateTime::fromMSecsSinceEpoch(query.value(1).toLongLong(), Qt::UTC),
            query.value(2).toString(), query.value(3).toInt(), query.value(4).toString()});
    }
    return out;
}

}  // namespace otafleet::store
