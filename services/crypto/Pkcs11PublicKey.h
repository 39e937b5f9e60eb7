// Internal: the public half of a key a PKCS#11 token generated, from the attributes the token
// reports, as an OpenSSL key to put into the key's certificate.
#pragma once

#include "common/Error.h"
#include "crypto/KeyType.h"
#include "crypto/OpenSsl.h"

#include <QByteArray>

namespace otafleet::crypto::pkcs11 {

// From CKA_MODULUS and CKA_PUBLIC_EXPONENT (big-endian). Error pki.token.
[[nodiscard]] Result<ossl::EvpPkeyPtr> rsaPublicKey(const QByteArray& modulus,
                                                    const QByteArray& exponent);
// From CKA_EC_POINT of a P-256, P-384 or Ed25519 key. Error pki.token.
[[nodiscard]] Result<ossl::EvpPkeyPtr> ecPublicKey(const QByteArray& ecPoint, KeyType type);

}  // namespace otafleet::crypto::pkcs11
