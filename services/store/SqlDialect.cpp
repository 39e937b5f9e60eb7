#include "store/SqlDialect.h"

#include <QRegularExpression>
#include <QSqlDriver>
#include <QUrl>
#include <QUrlQuery>

namespace otafleet::store {
namespace {

Error badLocation(const QString& location, const QString& why) {
    // The URL is shown without any password that was put into it against the advice.
    const QString shown = QUrl(location).toDisplayString(QUrl::RemovePassword);
    return Error{QStringLiteral("store.location-invalid"),
                 QStringLiteral("The database location %1 cannot be used (%2); write it as "
                                "postgresql://USER@HOST:PORT/DBNAME or a SQLite file path.")
                     .arg(shown, why)};
}

}  // namespace

SqlBackend backendOf(const QSqlDatabase& db) {
    return db.driverName() == QLatin1String("QPSQL") ? SqlBackend::Postgres : SqlBackend::Sqlite;
}

bool isPostgresLocation(const QString& location) {
    return location.startsWith(QLatin1String("postgresql://")) ||
           location.startsWith(QLatin1String("postgres://"));
}

Status configurePostgres(QSqlDatabase& db, const QString& location) {
    if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QPSQL"))) {
        return fail(QStringLiteral("store.driver-missing"),
                    QStringLiteral("This installation has no PostgreSQL driver for Qt; install "
                                   "libqt6sql6-psql or use a SQLite file."));
    }
    const QUrl url(location, QUrl::StrictMode);
    if (!url.isValid())
        return fail(badLocation(location, url.errorString()));
    if (!url.password().isEmpty()) {
        return fail(badLocation(location, QStringLiteral("it holds a password; put the password "
                                                         "into PGPASSWORD or ~/.pgpass instead")));
    }
    const QString name = url.path().mid(1);
    static const QRegularExpression validName(QStringLiteral("^[A-Za-z0-9_.-]{1,63}$"));
    if (!validName.match(name).hasMatch())
        return fail(badLocation(location, QStringLiteral("it names no database")));
    QUrlQuery query(url);
    QString host = url.host();
    if (query.hasQueryItem(QStringLiteral("host")))
        host = query.queryItemValue(QStringLiteral("host"), QUrl::FullyDecoded);
    query.removeQueryItem(QStringLiteral("host"));
    QStringList options;
    for (const auto& [key, value] : query.queryItems(QUrl::FullyDecoded)) {
        static const QRegularExpression validKey(QStringLiteral("^[a-z_]{1,32}$"));
        if (!validKey.match(key).hasMatch() || value.contains(u';'))
            return fail(badLocation(location, QStringLiteral("option %1 is not valid").arg(key)));
        options << QStringLiteral("%1=%2").arg(key, value);
    }
    db.setDatabaseName(name);
    db.setHostName(host);
    if (url.port() > 0)
        db.setPort(url.port());
    db.setUserName(url.userName());
    db.setConnectOptions(options.join(u';'));
    return {};
}

QString ddlFor(const QString& statement, SqlBackend backend) {
    if (backend == SqlBackend::Sqlite)
        return statement;
    static const QRegularExpression integer(QStringLiteral("\\bINTEGER\\b"));
    QString s = statement;
    s.replace(QStringLiteral("INTEGER PRIMARY KEY AUTOINCREMENT"),
              QStringLiteral("BIGSERIAL PRIMARY KEY"));
    s.replace(integer, QStringLiteral("BIGINT"));
    // PostgreSQL's REAL is single precision; SQLite's is a double.
    static const QRegularExpression real(QStringLiteral("\\bREAL\\b"));
    s.replace(real, QStringLiteral("DOUBLE PRECISION"));
    return s;
}

QStringList beginWriteLocked(SqlBackend backend, const QString& table) {
    if (backend == SqlBackend::Sqlite)
        return {QStringLiteral("BEGIN IMMEDIATE")};
    // SHARE ROW EXCLUSIVE conflicts with itself: one appender at a time, readers unaffected.
    return {QStringLiteral("BEGIN"),
            QStringLiteral("LOCK TABLE %1 IN SHARE ROW EXCLUSIVE MODE").arg(table)};
}

QString highWaterQuery(SqlBackend backend, const QString& table) {
    if (backend == SqlBackend::Sqlite)
        return QStringLiteral("SELECT seq FROM sqlite_sequence WHERE name = '%1'").arg(table);
    return QStringLiteral("SELECT CASE WHEN is_called THEN last_value END FROM %1_id_seq")
        .arg(table);
}

QString raiseHighWater(SqlBackend backend, const QString& table) {
    if (backend == SqlBackend::Sqlite)
        return {};
    return QStringLiteral(
               "SELECT setval('%1_id_seq', GREATEST(?, (SELECT CASE WHEN is_called "
               "THEN last_value ELSE 0 END FROM %1_id_seq)))")
        .arg(table);
}

}  // namespace otafleet::store
