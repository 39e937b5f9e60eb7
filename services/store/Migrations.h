// Schema migrations: migration N brings a database from user_version N-1 to N. Never edit a
// released migration; add the next one.
#pragma once

#include "common/Error.h"

#include <QSqlDatabase>

namespace otafleet::store {

[[nodiscard]] int latestMigration();
// Applies every missing migration, each in its own transaction with its user_version bump.
[[nodiscard]] Status migrate(QSqlDatabase& db);

}  // namespace otafleet::store
