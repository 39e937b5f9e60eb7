// A private key that can sign: a PKCS#11 object addressed by an RFC 7512 `pkcs11:` URI (the key
// never leaves the token), or a PEM file for quick trials (a warning is logged). Both give an
// OpenSSL EVP_PKEY that CMS and X.509 signing use, so there is one signing path. A token key
// OpenSSL cannot drive through libp11 0.4.12 (Ed25519, and any key of a token that holds an
// Ed25519 key: libp11 cannot list such a token) signs bytes itself through sign().
#pragma once

#include "common/Error.h"
#include "crypto/SecretString.h"

#include <QByteArrayView>
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

    // A key OpenSSL can sign with that is already in memory (pki init's fresh key files, a
    // caller's EVP_PKEY), sharing a reference to `key`.
    [[nodiscard]] static std::unique_ptr<SigningKey> fromEvpKey(EVP_PKEY* key,
                                                                const QString& description);

    // Valid while this object lives. When openSslCanSign() is false it holds only the public
    // half: type checks and comparisons work, signing must go through sign().
    [[nodiscard]] virtual EVP_PKEY* evpKey() const = 0;
    [[nodiscard]] virtual bool openSslCanSign() const { return true; }
    // Signs `message` the way the key's type signs (crypto/KeyType.h): ECDSA and RSA-PSS hash it
    // with their digest, Ed25519 signs the message itself (pure EdDSA). The result is what X.509
    // and CMS carry (ECDSA: a DER Ecdsa-Sig-Value). Error crypto.sign-failed.
    [[nodiscard]] virtual Result<QByteArray> sign(QByteArrayView message) const;
    [[nodiscard]] virtual bool isHardware() const = 0;
    // The reference without secrets (URI without pin-value), for messages and audit.
    [[nodiscard]] virtual QString description() const = 0;

protected:
    SigningKey() = default;
};

// crypto.sign-failed for the key `keyDescription`, with the OpenSSL or token reason.
[[nodiscard]] Error signingFailed(const QString& keyDescription, const QString& detail);

}  // namespace otafleet::crypto
