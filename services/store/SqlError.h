// Turns Qt SQL failures into otafleet errors (store.*), and names the store's logging category.
#pragma once

#include "common/Error.h"

#include <QLoggingCategory>
#include <QSqlError>
#include <QSqlQuery>

Q_DECLARE_LOGGING_CATEGORY(lcStore)

namespace otafleet::store {

// "store.query-failed": the statement's purpose and the driver's text.
[[nodiscard]] Error sqlError(const QString& what, const QSqlError& error);
// Runs a prepared query; on failure returns the error with `what` in it.
[[nodiscard]] Status exec(QSqlQuery& query, const QString& what);

}  // namespace otafleet::store
