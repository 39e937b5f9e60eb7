#include "GeneratedFleet.h"

#include "store/FleetStore.h"

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStringList>
#include <QUuid>

namespace otafleet::testsupport {

Status generateFleetDevices(const QString& path, qint64 count, const QDateTime& now) {
    {
        auto store = store::FleetStore::open(path);  // the schema, migrated
        if (!store)
            return fail(store.error());
    }
    const QString name = QStringLiteral("generate-%1").arg(QUuid::createUuid().toString());
    Status result;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(path);
        const auto failed = [&](const QString& what, const QSqlError& error) {
            return fail(QStringLiteral("store.generate-failed"),
                        QStringLiteral("%1: %2").arg(what, error.text()));
        };
        if (!db.open()) {
            result = failed(QStringLiteral("open"), db.lastError());
        } else {
            QSqlQuery q(db);
            const QString insert =
                QStringLiteral(
                    "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < "
                    "{last})"
                    " INSERT INTO fleet_devices (device_id, name, model, hardware, serial, version,"
                    " agent_version, health_ok, slots, tags, group_name, online, first_seen_ms,"
                    " last_seen_ms, decommissioned)"
                    " SELECT printf('dev-%07d', i), printf('Unit %07d', (i * 7919) % {count}),"
                    " CASE i % 3 WHEN 0 THEN 'gateway-x1' WHEN 1 THEN 'sensor-s2' ELSE 'meter-m3' "
                    "END,"
                    " 'rev-' || char(97 + i % 4), printf('SN%08d', i * 13),"
                    " '1.' || (i % 5) || '.' || (i % 7), '0.9.0', 1, '[]',"
                    " CASE WHEN i % 10 = 0 THEN '[\"pilot\"]' ELSE '[]' END,"
                    " CASE i % 6 WHEN 0 THEN 'berlin' WHEN 1 THEN 'lyon' ELSE '' END,"
                    " CASE WHEN i % 4 = 1 THEN 1 ELSE 0 END, {now}, {now} - (i * 37 % 86400000), 0"
                    " FROM n")
                    .replace(QStringLiteral("{last}"), QString::number(count - 1))
                    .replace(QStringLiteral("{count}"), QString::number(count))
                    .replace(QStringLiteral("{now}"), QString::number(now.toMSecsSinceEpoch()));
            // Test data: a large cache, no fsync, and the table's indexes built once after the
            // rows instead of row by row (several times faster at a million).
            QStringList names;
            QStringList indexes;
            (void)q.exec(QStringLiteral("PRAGMA cache_size = -262144"));
            (void)q.exec(QStringLiteral("PRAGMA synchronous = OFF"));
            if (q.exec(QStringLiteral("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                      "AND tbl_name = 'fleet_devices' AND sql IS NOT NULL"))) {
                while (q.next()) {
                    names << q.value(0).toString();
                    indexes << q.value(1).toString();
                }
            }
            q.finish();
            if (!db.transaction())
                result = failed(QStringLiteral("begin"), db.lastError());
            for (const QString& index : std::as_const(names)) {
                if (result && !q.exec(QStringLiteral("DROP INDEX %1").arg(index)))
                    result = failed(QStringLiteral("drop index"), q.lastError());
            }
            if (result && !q.exec(insert))
                result = failed(QStringLiteral("insert"), q.lastError());
            for (const QString& index : std::as_const(indexes)) {
                if (result && !q.exec(index))
                    result = failed(QStringLiteral("index"), q.lastError());
            }
            if (result && !db.commit())
                result = failed(QStringLiteral("commit"), db.lastError());
            if (!result)
                db.rollback();
            db.close();
        }
    }
    QSqlDatabase::removeDatabase(name);
    return result;
}

}  // namespace otafleet::testsupport
