// RFC 7512 `pkcs11:` URIs, the one way a key on a token is named (pki.json, --key, messages).
// Only the attributes otafleet uses are interpreted; a URI carrying a PIN is refused because
// PINs come from a PIN provider and must never sit in files, shell history or logs.
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QString>

namespace otafleet::crypto {

struct Pkcs11Uri {
    static constexpr qsizetype kMaxLength = 4096;

    QString token;       // token label
    QString object;      // key label
    QByteArray id;       // CKA_ID, raw bytes
    QString type;        // "private", ... (informational)
    QString modulePath;  // query attribute module-path

    // Errors: crypto.key-reference-invalid (not a pkcs11: URI, malformed, too long),
    // crypto.pin-in-uri (pin-value or pin-source present).
    [[nodiscard]] static Result<Pkcs11Uri> parse(const QString& uri);
    [[nodiscard]] static bool looksLikeUri(const QString& reference);

    // Canonical text, never with a PIN.
    [[nodiscard]] QString toString() const;
};

}  // namespace otafleet::crypto
