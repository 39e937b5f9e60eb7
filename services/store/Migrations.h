// Schema migrations: migration N brings a database from schema version N-1 to N (SQLite's
// user_version; a one-row table on PostgreSQL). Statements are written for SQLite and adapted by
// ddlFor(). Never edit a released migration; add the next one.
#pragma once

#include "common/Error.h"

#include <QSqlDatabase>

namespace otafleet::store {

[[nodiscard]] int latestMigration();
// The schema version a database is at (0 for a new one).
[[nodiscard]] Result<int> schemaVersionOf(QSqlDatabase& db);
// Applies every missing migration, each in its own transaction with its user_version bump.
[[nodiscard]] Status migrate(QSqlDatabase& db);

}  // namespace otafleet::store
