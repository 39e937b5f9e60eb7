// Internal: opening a key that lives in a PKCS#11 token through libp11 (the keys of a token that
// holds Ed25519 keys, which libp11 0.4.12 cannot list, through raw PKCS#11: Pkcs11Token). Kept
// apart from the rest of the crypto library because libp11's header needs OpenSSL's deprecated
// declarations.
#pragma once

#include "common/Error.h"
#include "crypto/SigningKey.h"

#include <QString>

#include <memory>

namespace otafleet::crypto {

// The module to load: the explicit one, else the URI's module-path, else
// OTAFLEET_PKCS11_MODULE, else SoftHSM2's Debian path.
[[nodiscard]] QString resolvePkcs11Module(const QString& explicitModule,
                                          const QString& uriModulePath);

// `uri` is a pkcs11: URI. Errors as SigningKey::open.
[[nodiscard]] Result<std::unique_ptr<SigningKey>> openPkcs11SigningKey(
    const QString& uri, const KeyOpenOptions& options);

}  // namespace otafleet::crypto
