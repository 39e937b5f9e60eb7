#include "store/SqlError.h"

Q_LOGGING_CATEGORY(lcStore, "otafleet.store")

namespace otafleet::store {

Error sqlError(const QString& what, const QSqlError& error) {
    return Error{QStringLiteral("store.query-failed"),
                 QStringLiteral("The fleet database could not %1 (%2). Check that the disk is not "
                                "full and the data directory is writable.")
                     .arg(what, error.text())};
}

Status exec(QSqlQuery& query, const QString& what) {
    if (!query.exec()) {
        qCWarning(lcStore) << "query failed:" << what << query.lastError().text();
        return fail(sqlError(what, query.lastError()));
    }
    return {};
}

}  // namespace otafleet::store
