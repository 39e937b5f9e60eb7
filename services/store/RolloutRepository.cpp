#include "store/RolloutRepository.h"

#include "store/SqlError.h"

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QVariant>

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
    query.prepare(
        QStringLiteral("INSERT INTO rollouts (name, bundle_path, state, engine, created_ms, "
                       "updated_ms, release_id, target) VALUES (?, '', ?, ?, ?, ?, ?, ?)"));
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
