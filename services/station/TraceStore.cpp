#include "station/TraceStore.h"

#include "station/RecordExport.h"

#include <QAtomicInteger>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

namespace otafleet::station {
namespace {

QAtomicInteger<int> g_connections;

Error dbError(const QString& what, const QSqlError& error) {
    return Error{QStringLiteral("station.db-failed"),
                 QStringLiteral("The station database failed while %1 (%2); check that the --db "
                                "file is writable and not a different kind of file.")
                     .arg(what, error.text())};
}

const char* const kColumns =
    "id, serial_number, port, image_hash, image_version, cert_fingerprint, station_id, "
    "operator, started_at, finished_at, result, failed_stage, failure_code, failure_reason";

Status insert(const QSqlDatabase& db, const UnitRecord& r, bool ignoreExisting, bool* added) {
    QSqlQuery q(db);
    q.prepare(QStringLiteral("INSERT %1 INTO station_units (%2) VALUES "
                             "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                  .arg(ignoreExisting ? QStringLiteral("OR IGNORE") : QString(),
                       QString::fromLatin1(kColumns)));
    for (const QString& value :
         {r.id, r.serialNumber, r.port, r.imageHash, r.imageVersion, r.certFingerprint, r.stationId,
          r.operatorName, timeText(r.startedAt), timeText(r.finishedAt), r.result, r.failedStage,
          r.failureCode, r.failureReason}) {
        q.addBindValue(value.isNull() ? QStringLiteral("") : value);  // NOT NULL columns
    }
    if (!q.exec()) {
        return fail(
            dbError(QStringLiteral("recording unit %1").arg(r.serialNumber), q.lastError()));
    }
    if (added != nullptr) {
        *added = q.numRowsAffected() > 0;
    }
    return {};
}

}  // namespace

TraceStore::TraceStore(QString connectionName) : m_connection(std::move(connectionName)) {}

TraceStore::TraceStore(TraceStore&& other) noexcept
    : m_connection(std::exchange(other.m_connection, QString())) {}

TraceStore::~TraceStore() {
    if (m_connection.isEmpty()) {
        return;
    }
    {
        QSqlDatabase db = QSqlDatabase::database(m_connection, false);
        db.close();
    }
    QSqlDatabase::removeDatabase(m_connection);
}

Result<TraceStore> TraceStore::open(const QString& path) {
    TraceStore store(
        QStringLiteral("otafleet-station-%1").arg(g_connections.fetchAndAddRelaxed(1)));
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), store.m_connection);
    db.setDatabaseName(path);
    if (!db.open()) {
        return fail(dbError(QStringLiteral("opening %1").arg(path), db.lastError()));
    }
    QSqlQuery q(db);
    if (!q.exec(QStringLiteral("PRAGMA journal_mode=WAL")) ||
        !q.exec(QStringLiteral("PRAGMA busy_timeout=5000")) ||
        !q.exec(QStringLiteral("PRAGMA user_version")) || !q.next()) {
        return fail(dbError(QStringLiteral("reading %1").arg(path), q.lastError()));
    }
    const int version = q.value(0).toInt();
    if (version > kTraceSchemaVersion) {
        return fail(QStringLiteral("station.db-failed"),
                    QStringLiteral("%1 was written by a newer otafleet (schema %2, this one knows "
                                   "%3); use that version.")
                        .arg(path)
                        .arg(version)
                        .arg(kTraceSchemaVersion));
    }
    if (version == 0) {
        const QString statements[] = {
            QStringLiteral("CREATE TABLE station_units ("
                           "id TEXT PRIMARY KEY, serial_number TEXT NOT NULL, port TEXT NOT NULL, "
                           "image_hash TEXT NOT NULL, image_version TEXT NOT NULL, "
                           "cert_fingerprint TEXT NOT NULL, station_id TEXT NOT NULL, "
                           "operator TEXT NOT NULL, started_at TEXT NOT NULL, "
                           "finished_at TEXT NOT NULL, "
                           "result TEXT NOT NULL CHECK (result IN ('pass', 'fail')), "
                           "failed_stage TEXT NOT NULL, failure_code TEXT NOT NULL, "
                           "failure_reason TEXT NOT NULL)"),
            QStringLiteral("CREATE INDEX station_units_serial ON station_units "
                           "(serial_number, started_at)"),
            QStringLiteral("PRAGMA user_version = %1").arg(kTraceSchemaVersion),
        };
        if (!db.transaction()) {
            return fail(dbError(QStringLiteral("creating the schema"), db.lastError()));
        }
        for (const QString& statement : statements) {
            if (!q.exec(statement)) {
                const QSqlError error = q.lastError();
                db.rollback();
                return fail(dbError(QStringLiteral("creating the schema"), error));
            }
        }
        if (!db.commit()) {
            return fail(dbError(QStringLiteral("creating the schema"), db.lastError()));
        }
    }
    return store;
}

Status TraceStore::add(const UnitRecord& record) {
    return insert(QSqlDatabase::database(m_connection), record, false, nullptr);
}

Result<int> TraceStore::merge(const QList<UnitRecord>& records) {
    QSqlDatabase db = QSqlDatabase::database(m_connection);
    if (!db.transaction()) {
        return fail(dbError(QStringLiteral("starting the import"), db.lastError()));
    }
    int added = 0;
    for (const UnitRecord& r : records) {
        bool isNew = false;
        if (const Status s = insert(db, r, true, &isNew); !s) {
            db.rollback();
            return fail(s.error());
        }
        added += isNew ? 1 : 0;
    }
    if (!db.commit()) {
        return fail(dbError(QStringLiteral("finishing the import"), db.lastError()));
    }
    return added;
}

Result<QList<UnitRecord>> TraceStore::records(const QString& stationId) const {
    QSqlQuery q(QSqlDatabase::database(m_connection));
    q.prepare(QStringLiteral("SELECT %1 FROM station_units %2 ORDER BY started_at, id")
                  .arg(QString::fromLatin1(kColumns),
                       stationId.isEmpty() ? QString() : QStringLiteral("WHERE station_id = ?")));
    if (!stationId.isEmpty()) {
        q.addBindValue(stationId);
    }
    if (!q.exec()) {
        return fail(dbError(QStringLiteral("reading the records"), q.lastError()));
    }
    QList<UnitRecord> out;
    while (q.next()) {
        UnitRecord r;
        int c = 0;
        for (QString* field : {&r.id, &r.serialNumber, &r.port, &r.imageHash, &r.imageVersion,
                               &r.certFingerprint, &r.stationId, &r.operatorName}) {
            *field = q.value(c++).toString();
        }
        r.startedAt = QDateTime::fromString(q.value(c++).toString(), Qt::ISODateWithMs).toUTC();
        r.finishedAt = QDateTime::fromString(q.value(c++).toString(), Qt::ISODateWithMs).toUTC();
        for (QString* field : {&r.result, &r.failedStage, &r.failureCode, &r.failureReason}) {
            *field = q.value(c++).toString();
        }
        out.append(std::move(r));
    }
    return out;
}

}  // namespace otafleet::station
