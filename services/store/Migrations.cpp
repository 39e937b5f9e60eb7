#include "store/Migrations.h"

#include "store/SqlDialect.h"
#include "store/SqlError.h"

#include <QSqlQuery>
#include <QStringList>

namespace otafleet::store {

namespace {

// Index i holds migration i + 1.
const QList<QStringList>& migrations() {
    static const QList<QStringList> all = {
        {
            QStringLiteral("CREATE TABLE devices ("
                           " id INTEGER PRIMARY KEY AUTOINCREMENT,"
                           " uri TEXT NOT NULL UNIQUE,"
                           " display_name TEXT NOT NULL,"
                           " snapshot TEXT,"
                           " last_seen_ms INTEGER,"
                           " last_error_code TEXT NOT NULL DEFAULT '',"
                           " last_error_message TEXT NOT NULL DEFAULT '',"
                           " added_ms INTEGER NOT NULL)"),
            QStringLiteral("CREATE TABLE events ("
                           " id INTEGER PRIMARY KEY AUTOINCREMENT,"
                           " device_id INTEGER NOT NULL,"
                           " time_ms INTEGER NOT NULL,"
                           " kind TEXT NOT NULL,"
                           " detail TEXT NOT NULL)"),
            QStringLiteral("CREATE INDEX events_by_device ON events (device_id, id)"),
        },
        // 2: telemetry pulled from the devices' agents (TelemetryRepository).
        {
            QStringLiteral("CREATE TABLE telemetry ("
                           " device_id INTEGER NOT NULL,"
                           " seq INTEGER NOT NULL,"
                           " time_ms INTEGER NOT NULL,"
                           " type TEXT NOT NULL,"
                           " data TEXT NOT NULL,"
                           " PRIMARY KEY (device_id, seq))"),
        },
        // 3: otafleetd: users, the hash-chained audit log, devices that dial in, releases.
        {
            QStringLiteral("CREATE TABLE users ("
                           " name TEXT PRIMARY KEY,"
                           " role TEXT NOT NULL,"
                           " password_hash TEXT NOT NULL DEFAULT '',"
                           " cert_sha256 TEXT NOT NULL DEFAULT '',"
                           " disabled INTEGER NOT NULL DEFAULT 0,"
                           " created_ms INTEGER NOT NULL)"),
            QStringLiteral("CREATE TABLE audit ("
                           " id INTEGER PRIMARY KEY AUTOINCREMENT,"
                           " time_ms INTEGER NOT NULL,"
                           " actor TEXT NOT NULL,"
                           " subject TEXT NOT NULL,"
                           " action TEXT NOT NULL,"
                           " detail TEXT NOT NULL,"
                           " prev_hash TEXT NOT NULL,"
                           " entry_hash TEXT NOT NULL)"),
            QStringLiteral("CREATE TABLE fleet_devices ("
                           " device_id TEXT PRIMARY KEY,"
                           " name TEXT NOT NULL DEFAULT '',"
                           " model TEXT NOT NULL DEFAULT '',"
                           " hardware TEXT NOT NULL DEFAULT '',"
                           " serial TEXT NOT NULL DEFAULT '',"
                           " version TEXT NOT NULL DEFAULT '',"
                           " agent_version TEXT NOT NULL DEFAULT '',"
                           " health_ok INTEGER NOT NULL DEFAULT 0,"
                           " slots TEXT NOT NULL DEFAULT '[]',"
                           " tags TEXT NOT NULL DEFAULT '[]',"
                           " group_name TEXT NOT NULL DEFAULT '',"
                           " online INTEGER NOT NULL DEFAULT 0,"
                           " first_seen_ms INTEGER NOT NULL,"
                           " last_seen_ms INTEGER NOT NULL,"
                           " decommissioned INTEGER NOT NULL DEFAULT 0)"),
            QStringLiteral("CREATE INDEX fleet_devices_by_version"
                           " ON fleet_devices (model, hardware, version)"),
            QStringLiteral("CREATE TABLE releases ("
                           " id TEXT PRIMARY KEY,"
                           " product TEXT NOT NULL,"
                           " version TEXT NOT NULL,"
                           " security_version INTEGER NOT NULL,"
                           " hardware TEXT NOT NULL,"
                           " size INTEGER NOT NULL,"
                           " file_name TEXT NOT NULL,"
                           " blob_path TEXT NOT NULL,"
                           " manifest TEXT NOT NULL,"
                           " signers TEXT NOT NULL,"
                           " uploaded_by TEXT NOT NULL,"
                           " uploaded_ms INTEGER NOT NULL,"
                           " revoked INTEGER NOT NULL DEFAULT 0,"
                           " revoked_ms INTEGER NOT NULL DEFAULT 0)"),
        },
        // 4: rollouts run by the console itself (embedded mode, RolloutRepository): the engine's
        // whole state as JSON, rewritten after every change; `state` repeats the engine's state
        // name so a list needs no JSON parsing.
        {
            QStringLiteral("CREATE TABLE rollouts ("
                           " id INTEGER PRIMARY KEY AUTOINCREMENT,"
                           " name TEXT NOT NULL,"
                           " bundle_path TEXT NOT NULL,"
                           " state TEXT NOT NULL,"
                           " engine TEXT NOT NULL,"
                           " created_ms INTEGER NOT NULL,"
                           " updated_ms INTEGER NOT NULL)"),
        },
        // 5: telemetry of the devices that dial in to otafleetd (DeviceTelemetryRepository),
        // flattened into the columns its reports group by.
        {
            QStringLiteral("CREATE TABLE device_telemetry ("
                           " device_id TEXT NOT NULL,"
                           " seq INTEGER NOT NULL,"
                           " time_ms INTEGER NOT NULL,"
                           " model TEXT NOT NULL,"
                           " hardware TEXT NOT NULL,"
                           " version TEXT NOT NULL,"
                           " event TEXT NOT NULL,"
                           " error_code TEXT NOT NULL,"
                           " duration_ms INTEGER NOT NULL,"
                           " bytes INTEGER NOT NULL,"
                           " throughput REAL NOT NULL,"
                           " PRIMARY KEY (device_id, seq))"),
            QStringLiteral("CREATE INDEX device_telemetry_by_time ON device_telemetry (time_ms)"),
        },
        // 6: otafleetd's rollouts share the table: the release (id) they roll out and the target
        // filter expression they were created with ('' for the console's embedded rollouts,
        // which name a bundle file instead).
        {
            QStringLiteral("ALTER TABLE rollouts ADD COLUMN release_id TEXT NOT NULL DEFAULT ''"),
            QStringLiteral("ALTER TABLE rollouts ADD COLUMN target TEXT NOT NULL DEFAULT ''"),
        },
        // 7: otafleetd's rollouts keep their devices one row each (RolloutRepository::
        // saveWithDevices), so an event rewrites the device it changed and the rollout's few
        // hundred bytes of header (rollouts.engine), not the state of every device.
        {
            QStringLiteral("CREATE TABLE rollout_devices ("
                           " rollout_id INTEGER NOT NULL,"
                           " position INTEGER NOT NULL,"
                           " device_id TEXT NOT NULL,"
                           " state TEXT NOT NULL,"
                           " wave INTEGER NOT NULL,"
                           " attempts INTEGER NOT NULL,"
                           " offered_ms INTEGER NOT NULL,"
                           " reason TEXT NOT NULL,"
                           " queue_seq INTEGER NOT NULL,"
                           " PRIMARY KEY (rollout_id, position))"),
        },
        // 8: a page of the devices of one model (and hardware revision) in id order, the commonest
        // filter, is found in the index alone instead of sorting every matching device.
        {
            QStringLiteral("CREATE INDEX fleet_devices_by_model_id"
                           " ON fleet_devices (model, hardware, device_id)"),
        },
        // 9: the history of every rollout device's state (RolloutEventLog), which the telemetry
        // charts replay (rollout progress over time, failure reasons); and telemetry by type,
        // which they read across devices (throughput, install durations, versions booted).
        {
            QStringLiteral("CREATE TABLE rollout_events ("
                           " id INTEGER PRIMARY KEY AUTOINCREMENT,"
                           " rollout_id INTEGER NOT NULL,"
                           " device_id INTEGER NOT NULL,"
                           " time_ms INTEGER NOT NULL,"
                           " state TEXT NOT NULL,"
                           " wave INTEGER NOT NULL,"
                           " reason TEXT NOT NULL)"),
            QStringLiteral(
                "CREATE INDEX rollout_events_by_rollout ON rollout_events (rollout_id, id)"),
            QStringLiteral("CREATE INDEX telemetry_by_type ON telemetry (type, time_ms)"),
        },
        // 10: the console's device table sorts a million devices by any of these columns and
        // pages through them (FleetDeviceRepository::page): each order walks its index instead
        // of sorting the table for every page. Online has two values and no index of its own.
        {
            QStringLiteral("CREATE INDEX fleet_devices_by_name ON fleet_devices (name, device_id)"),
            QStringLiteral(
                "CREATE INDEX fleet_devices_by_hardware ON fleet_devices (hardware, device_id)"),
            QStringLiteral(
                "CREATE INDEX fleet_devices_by_version_id ON fleet_devices (version, device_id)"),
            QStringLiteral(
                "CREATE INDEX fleet_devices_by_group ON fleet_devices (group_name, device_id)"),
            QStringLiteral("CREATE INDEX fleet_devices_by_last_seen"
                           " ON fleet_devices (last_seen_ms, device_id)"),
        },
        // 11: a release's notes as people keep them after it is signed (what changed, known
        // issues); the notes inside the signed manifest cannot change without a new signature.
        {
            QStringLiteral("ALTER TABLE releases ADD COLUMN notes TEXT NOT NULL DEFAULT ''"),
        },
    };
    return all;
}

// SQLite keeps the schema version in the file header (PRAGMA user_version); PostgreSQL has no
// such slot, so it lives in a one-row table created on first use.
const QString kPostgresVersionTable = QStringLiteral("otafleet_schema");

QStringList setVersion(SqlBackend backend, int version) {
    if (backend == SqlBackend::Sqlite)
        return {QStringLiteral("PRAGMA user_version = %1").arg(version)};
    return {QStringLiteral("DELETE FROM %1").arg(kPostgresVersionTable),
            QStringLiteral("INSERT INTO %1 (version) VALUES (%2)")
                .arg(kPostgresVersionTable)
                .arg(version)};
}

}  // namespace

Result<int> schemaVersionOf(QSqlDatabase& db) {
    QSqlQuery query(db);
    if (backendOf(db) == SqlBackend::Postgres) {
        // to_regclass() rather than CREATE ... IF NOT EXISTS, which logs a notice every open.
        if (!query.exec(
                QStringLiteral("SELECT to_regclass('%1') IS NULL").arg(kPostgresVersionTable)) ||
            !query.next() ||
            (query.value(0).toBool() &&
             !query.exec(QStringLiteral("CREATE TABLE %1 (version INTEGER NOT NULL)")
                             .arg(kPostgresVersionTable))) ||
            !query.exec(QStringLiteral("SELECT MAX(version) FROM %1").arg(kPostgresVersionTable)) ||
            !query.next()) {
            return fail(sqlError(QStringLiteral("read its schema version"), query.lastError()));
        }
        return query.value(0).isNull() ? 0 : query.value(0).toInt();
    }
    if (!query.exec(QStringLiteral("PRAGMA user_version")) || !query.next())
        return fail(sqlError(QStringLiteral("read its schema version"), query.lastError()));
    return query.value(0).toInt();
}

int latestMigration() {
    return static_cast<int>(migrations().size());
}

Status migrate(QSqlDatabase& db) {
    const SqlBackend backend = backendOf(db);
    auto current = schemaVersionOf(db);
    if (!current)
        return fail(current.error());
    if (*current > latestMigration()) {
        return fail(QStringLiteral("store.too-new"),
                    QStringLiteral("The fleet database %1 was written by a newer otafleet (schema "
                                   "%2, this one knows %3); update otafleet.")
                        .arg(db.databaseName())
                        .arg(*current)
                        .arg(latestMigration()));
    }
    for (int version = *current + 1; version <= latestMigration(); ++version) {
        if (!db.transaction())
            return fail(sqlError(QStringLiteral("start a migration"), db.lastError()));
        QSqlQuery query(db);
        QStringList statements;
        for (const QString& statement : migrations().at(version - 1))
            statements.append(ddlFor(statement, backend));
        statements.append(setVersion(backend, version));
        for (const QString& statement : statements) {
            if (!query.exec(statement)) {
                const QSqlError error = query.lastError();
                db.rollback();
                return fail(QStringLiteral("store.migration-failed"),
                            QStringLiteral("The fleet database %1 could not be upgraded to schema "
                                           "%2 (%3); it was left unchanged.")
                                .arg(db.databaseName())
                                .arg(version)
                                .arg(error.text()));
            }
        }
        if (!db.commit())
            return fail(sqlError(QStringLiteral("finish a migration"), db.lastError()));
        qCInfo(lcStore) << "migrated" << db.databaseName() << "to schema" << version;
    }
    return {};
}

}  // namespace otafleet::store
