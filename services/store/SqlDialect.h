// The two databases the store runs on, and the few places their SQL differs. Everything else the
// repositories write is SQL both accept (ON CONFLICT upserts, COALESCE, LIMIT/OFFSET); what is
// not lives here, so a repository never tests which database it is talking to.
//
// A store location is either a SQLite file path or a PostgreSQL URL:
//   postgresql://USER@HOST:PORT/DBNAME[?sslmode=...]   (HOST may be a socket directory, given
//   postgresql://USER@/DBNAME?host=/run/postgresql       as ?host=, as libpq allows)
// The password is never written into the URL: libpq reads PGPASSWORD or ~/.pgpass.
#pragma once

#include "common/Error.h"

#include <QSqlDatabase>
#include <QString>

namespace otafleet::store {

enum class SqlBackend { Sqlite, Postgres };

[[nodiscard]] SqlBackend backendOf(const QSqlDatabase& db);
[[nodiscard]] bool isPostgresLocation(const QString& location);

// Configures (does not open) a QPSQL connection from a postgresql:// URL. Code
// store.location-invalid for a URL it cannot use, store.driver-missing when Qt's PostgreSQL
// driver (Debian: libqt6sql6-psql) is not installed.
[[nodiscard]] Status configurePostgres(QSqlDatabase& db, const QString& location);

// A migration's CREATE statement, written for SQLite, for the given database: integer columns
// hold milliseconds since 1970 and 64-bit ids, so they are BIGINT on PostgreSQL, and an
// AUTOINCREMENT key is a BIGSERIAL there; REAL (a double in SQLite) is DOUBLE PRECISION.
[[nodiscard]] QString ddlFor(const QString& statement, SqlBackend backend);

// Starts a transaction that holds the write lock on `table` before anything is read, so a
// read-then-append (the audit chain's tail) cannot interleave with another writer.
[[nodiscard]] QStringList beginWriteLocked(SqlBackend backend, const QString& table);

// The largest id an AUTOINCREMENT/BIGSERIAL key of `table` has handed out or been set to, even
// when the rows holding it were deleted since (SELECT yielding one value, NULL when none).
[[nodiscard]] QString highWaterQuery(SqlBackend backend, const QString& table);
// After inserting an explicit id: what moves that high-water mark on PostgreSQL, where an
// explicit id does not touch the sequence (empty on SQLite, which moves it by itself).
[[nodiscard]] QString raiseHighWater(SqlBackend backend, const QString& table);

}  // namespace otafleet::store
