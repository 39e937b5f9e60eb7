// otafleetd's users: a name, one role, a scrypt password hash and/or the SHA-256 fingerprint of
// the operator certificate the user signs in with, and a disabled flag (users are never deleted,
// so the audit log's actors stay meaningful).
#pragma once

#include "common/Error.h"

#include <QDateTime>
#include <QList>
#include <QString>

#include <optional>

namespace otafleet::store {

enum class Role { Viewer, Technician, ReleaseManager, Approver, Admin };
[[nodiscard]] QString roleName(Role role);  // "viewer", "technician", "release-manager", ...
[[nodiscard]] std::optional<Role> parseRole(const QString& text);

struct UserRecord {
    QString name;
    Role role = Role::Viewer;
    QString passwordHash;  // PasswordHash format; empty: no password sign-in
    QString certSha256;    // hex; empty: no certificate sign-in
    bool disabled = false;
    QDateTime created;
};

class UserRepository {
public:
    static constexpr qsizetype kMaxNameLength = 64;

    explicit UserRepository(QString connectionName);

    // [A-Za-z0-9._-], 1..kMaxNameLength.
    [[nodiscard]] static bool validName(const QString& name);

    // Errors: store.invalid-input (name), store.duplicate.
    [[nodiscard]] Status add(const UserRecord& user);
    // Errors: store.not-found.
    [[nodiscard]] Result<UserRecord> get(const QString& name) const;
    [[nodiscard]] Result<std::optional<UserRecord>> findByCertificate(
        const QString& certSha256) const;
    [[nodiscard]] Result<QList<UserRecord>> all() const;
    [[nodiscard]] Status setRole(const QString& name, Role role);
    [[nodiscard]] Status setDisabled(const QString& name, bool disabled);

private:
    QString m_connectionName;
};

}  // namespace otafleet::store
