// Password hashes for otafleetd's users: scrypt through OpenSSL's EVP_KDF "SCRYPT", stored as
// "scrypt$N$r$p$SALT$HASH" (base64) so the cost can be raised later without breaking old hashes.
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QString>

namespace otafleet::store {

struct PasswordHash {
    static constexpr qsizetype kMinLength = 8;
    static constexpr qsizetype kMaxLength = 1024;

    // Errors store.password-invalid (length outside kMinLength..kMaxLength), store.kdf-failed.
    [[nodiscard]] static Result<QString> make(const QByteArray& password);
    // False for a wrong password and for a malformed or empty stored hash (no user may sign in
    // with a password then); the comparison takes constant time.
    [[nodiscard]] static bool matches(const QByteArray& password, const QString& stored);
};

}  // namespace otafleet::store
