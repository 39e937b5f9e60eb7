// The process-wide TLS policy: TLS 1.3 only, for every SSL_CTX this process creates afterwards,
// including the ones gRPC creates inside its credentials (gRPC 1.51's C++ API has no setting for
// the protocol version, and its OpenSSL transport sets a TLS 1.2 minimum on every context).
#pragma once

#include "common/Error.h"

namespace otafleet::crypto {

// Loads an OpenSSL configuration into this process whose ssl_conf "system_default" section
// allows TLS 1.3 only; OpenSSL applies it inside every SSL_CTX_new. It disables the older
// protocols with option bits (Protocol = -ALL, TLSv1.3) as well as with MinProtocol, because
// gRPC calls SSL_CTX_set_min_proto_version(TLS1_2_VERSION) right after SSL_CTX_new, which
// overrides MinProtocol but leaves the option bits alone. Then it creates a context the way
// gRPC does and checks that TLS 1.2 stays off.
// Call it first thing in main, before anything creates gRPC credentials. Idempotent.
// Error crypto.tls-policy (OpenSSL refused the configuration, or it does not hold).
[[nodiscard]] Status requireTls13();

// The sentence the --help of every program that calls requireTls13() prints.
[[nodiscard]] const char* tls13PolicyHelp();

}  // namespace otafleet::crypto
