// A private key that can sign: a PKCS#11 object addressed by an RFC 7512 `pkcs11:` URI (the key
// never leaves the token), or a PEM file for quick trials (a warning is logged). Both give an
// OpenSSL EVP_PKEY that CMS and X.509 signing use, so there is one signing path.
#pragma once

#include "common/Error.h"
#include "crypto/SecretString.h"

#include <QString>

#include <functional>
#include <memory>

using EVP_PKEY = struct evp_pkey_st;

namespace otafleet::crypto {

struct KeyOpenOptions {
    // PKCS#11 module; when empty, `module-path` from the URI, then the OTAFLEET_PKCS11_MODULE
    // environment variable, then SoftHSM2's Debian path.
    QString pkcs11Module;
    // Asked only when the key needs a PIN. Not called for a PEM key.
    std::function<Result<SecretString>()> pinProvider;
};

class SigningKey {
public:
    virtual ~SigningKey() = default;
    SigningKey(const SigningKey&) = delete;
    SigningKey& operator=(const SigningKey&) = delete;

    // `reference` is a pkcs11: URI or a path to a PEM private key.
    // Errors: crypto.key-not-found, crypto.pkcs11-module, crypto.token-not-found,
    // crypto.pin-incorrect, crypto.pin-missing, crypto.key-unreadable.
    [[nodiscard]] static Result<std::unique_ptr<SigningKey>> open(const QString& reference,
                                                                  const KeyOpenOptions& options);

    // Valid while this object lives.
    [[nodiscard]] virtual EVP_PKEY* evpKey() const = 0;
    [[nodiscard]] virtual bool isHardware() const = 0;
    // The reference without secrets (URI without pin-value), for messages and audit.
    [[nodiscard]] virtual QString description() const = 0;

protected:
    SigningKey() = default;
};

}  // namespace otafleet::crypto
