#include "store/UserRepository.h"

#include "store/SqlError.h"

#include <QRegularExpression>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QVariant>

namespace otafleet::store {
namespace {

const QString kColumns =
    QStringLiteral("name, role, password_hash, cert_sha256, disabled, created_ms");

UserRecord readUser(const QSqlQuery& q) {
    UserRecord u;
    u.name = q.value(0).toString();
    u.role = parseRole(q.value(1).toString()).value_or(Role::Viewer);
    u.passwordHash = q.value(2).toString();
    u.certSha256 = q.value(3).toString();
    u.disabled = q.value(4).toInt() != 0;
    u.created = QDateTime::fromMSecsSinceEpoch(q.value(5).toLongLong(), Qt::UTC);
    return u;
}

std::unexpected<Error> notFound(const QString& name) {
    return fail(
        QStringLiteral("store.not-found"),
        QStringLiteral("There is no user named %1; 'otafleetctl user list' shows them.").arg(name));
}

}  // namespace

QString roleName(Role role) {
    switch (role) {
        case Role::Viewer:
            return QStringLiteral("viewer");
        case Role::Technician:
            return QStringLiteral("technician");
        case Role::ReleaseManager:
            return QStringLiteral("release-manager");
        case Role::Approver:
            return QStringLiteral("approver");
        case Role::Admin:
            return QStringLiteral("admin");
    }
    return QStringLiteral("viewer");
}

std::optional<Role> parseRole(const QString& text) {
    for (Role r :
         {Role::Viewer, Role::Technician, Role::ReleaseManager, Role::Approver, Role::Admin}) {
        if (roleName(r) == text)
            return r;
    }
    return std::nullopt;
}

UserRepository::UserRepository(QString connectionName)
    : m_connectionName(std::move(connectionName)) {}

bool UserRepository::validName(const QString& name) {
    static const QRegularExpression pattern(QStringLiteral("^[A-Za-z0-9._-]{1,64}$"));
    return pattern.match(name).hasMatch();
}

Status UserRepository::add(const UserRecord& user) {
    if (!validName(user.name)) {
        return fail(QStringLiteral("store.invalid-input"),
                    QStringLiteral("A user name has 1 to %1 letters, digits, '.', '_' or '-'.")
                        .arg(kMaxNameLength));
    }
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral("SELECT 1 FROM users WHERE name = ?"));
    query.addBindValue(user.name);
    if (auto ok = exec(query, QStringLiteral("look up a user")); !ok)
        return ok;
    if (query.next()) {
        return fail(QStringLiteral("store.duplicate"),
                    QStringLiteral("A user named %1 exists already; choose another name or change "
                                   "that user's role.")
                        .arg(user.name));
    }
    query.prepare(
        QStringLiteral(
            "INSERT INTO users (%1) VALUES (?, ?, COALESCE(?, ''), COALESCE(?, ''), ?, ?)")
            .arg(kColumns));
    query.addBindValue(user.name);
    query.addBindValue(roleName(user.role));
    query.addBindValue(user.passwordHash);
    query.addBindValue(user.certSha256.toLower());
    query.addBindValue(user.disabled ? 1 : 0);
    query.addBindValue((user.created.isValid() ? user.created : QDateTime::currentDateTimeUtc())
                           .toMSecsSinceEpoch());
    return exec(query, QStringLiteral("add a user"));
}

Result<UserRecord> UserRepository::get(const QString& name) const {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral("SELECT %1 FROM users WHERE name = ?").arg(kColumns));
    query.addBindValue(name);
    if (auto ok = exec(query, QStringLiteral("read a user")); !ok)
        return fail(ok.error());
    if (!query.next())
        return notFound(name);
    return readUser(query);
}

Result<std::optional<UserRecord>> UserRepository::findByCertificate(
    const QString& certSha256) const {
    if (certSha256.isEmpty())
        return std::optional<UserRecord>();
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral("SELECT %1 FROM users WHERE cert_sha256 = ?").arg(kColumns));
    query.addBindValue(certSha256.toLower());
    if (auto ok = exec(query, QStringLiteral("look up a certificate's user")); !ok)
        return fail(ok.error());
    if (!query.next())
        return std::optional<UserRecord>();
    return std::optional<UserRecord>(readUser(query));
}

Result<QList<UserRecord>> UserRepository::all() const {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT %1 FROM users ORDER BY name").arg(kColumns));
    if (auto ok = exec(query, QStringLiteral("list the users")); !ok)
        return fail(ok.error());
    QList<UserRecord> users;
    while (query.next())
        users.append(readUser(query));
    return users;
}

Status UserRepository::setRole(const QString& name, Role role) {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral("UPDATE users SET role = ? WHERE name = ?"));
    query.addBindValue(roleName(role));
    query.addBindValue(name);
    if (auto ok = exec(query, QStringLiteral("change a user's role")); !ok)
        return ok;
    if (query.numRowsAffected() != 1)
        return notFound(name);
    return {};
}

Status UserRepository::setDisabled(const QString& name, bool disabled) {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral("UPDATE users SET disabled = ? WHERE name = ?"));
    query.addBindValue(disabled ? 1 : 0);
    query.addBindValue(name);
    if (auto ok = exec(query, QStringLiteral("disable a user")); !ok)
        return ok;
    if (query.numRowsAffected() != 1)
        return notFound(name);
    return {};
}

}  // namespace otafleet::store
