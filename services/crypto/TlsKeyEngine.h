// TLS with a private key that never leaves its PKCS#11 token, for gRPC 1.51. gRPC takes a TLS
// key either as PEM text or, its one other route, as "engine:<engine id>:<key id>", which it
// resolves with OpenSSL's ENGINE_by_id + ENGINE_load_private_key (ssl_transport_security.cc).
// Instead of a separately installed engine module (libengine-pkcs11-openssl is not part of
// Debian 12's default install here), this registers a small in-process ENGINE whose only job is
// to hand gRPC the libp11-backed EVP_PKEY of a key this process already opened; every signature
// of the TLS handshake then happens inside the token.
#pragma once

#include "common/Error.h"
#include "crypto/SigningKey.h"

#include <memory>
#include <string>

namespace otafleet::crypto {

// Keeps `key` alive for the rest of the process and returns the text to put where gRPC expects
// the PEM private key. Error crypto.tls-engine (OpenSSL refused to register the engine).
[[nodiscard]] Result<std::string> tlsKeyReference(std::shared_ptr<SigningKey> key);

}  // namespace otafleet::crypto
