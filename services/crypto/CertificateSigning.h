// Internal: signs an X.509 certificate or CRL with a SigningKey. OpenSSL signs directly when it
// can drive the key. A key only its own sign() can use (Ed25519 in a token: libp11 0.4.12 has no
// EdDSA) signs the to-be-signed bytes itself; the structure is then assembled around that
// signature, parsed back and checked against the key's public half before it is returned.
#pragma once

#include "common/Error.h"
#include "crypto/OpenSsl.h"
#include "crypto/SigningKey.h"

namespace otafleet::crypto {

// Replaces `cert` (or `crl`) by its signed form. Error crypto.sign-failed.
[[nodiscard]] Status signWithKey(ossl::X509Ptr& cert, const SigningKey& key);
[[nodiscard]] Status signWithKey(ossl::X509CrlPtr& crl, const SigningKey& key);

}  // namespace otafleet::crypto
