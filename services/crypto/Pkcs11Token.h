// Raw PKCS#11 (through dlopen and C_GetFunctionList) for the two jobs libp11 0.4.12 cannot do:
// initialising a token and generating key pairs inside it (ECDSA P-256/P-384, RSA 3072 for
// RSA-PSS; Ed25519 is refused, see generateKeyUnsupported). Signing goes through
// libp11 (Pkcs11SigningKey). One Pkcs11Token lives only for `pki init`; it finalises the module
// when it dies so that libp11 can initialise it afresh afterwards.
#pragma once

#include "common/Error.h"
#include "crypto/KeyType.h"
#include "crypto/OpenSsl.h"
#include "crypto/SecretString.h"

#include <QByteArray>
#include <QString>

#include <memory>

namespace otafleet::crypto {

class Pkcs11Token {
public:
    struct GeneratedKey {
        ossl::EvpPkeyPtr publicKey;  // to put into the key's certificate
        QByteArray id;               // CKA_ID shared by the private and public objects
    };

    ~Pkcs11Token();
    Pkcs11Token(const Pkcs11Token&) = delete;
    Pkcs11Token& operator=(const Pkcs11Token&) = delete;

    // dlopen + C_Initialize. Error crypto.pkcs11-module.
    [[nodiscard]] static Result<std::unique_ptr<Pkcs11Token>> load(const QString& modulePath);

    // Initialises (wipes) the token labelled `label`, or the first free slot when there is none
    // with that label, and sets the user PIN. Error pki.token (wrong SO PIN, no free slot, ...).
    [[nodiscard]] Status initialize(const QString& label, const SecretString& soPin,
                                    const SecretString& userPin);
    // Opens a read-write session on the token labelled `label` and logs the user in.
    // Errors crypto.token-not-found, crypto.pin-incorrect, pki.token.
    [[nodiscard]] Status open(const QString& label, const SecretString& userPin);
    // Generates a non-extractable signing key pair labelled `label` in the open token: EC
    // P-256 or P-384 (CKM_EC_KEY_PAIR_GEN) or RSA 3072 (CKM_RSA_PKCS_KEY_PAIR_GEN, used with PSS).
    // Errors pki.token (also when a private key with that label already exists),
    // crypto.key-type-unsupported-by-token for Ed25519: libp11 0.4.12 cannot sign with it.
    [[nodiscard]] Result<GeneratedKey> generateKey(const QString& label, KeyType type);
    // The crypto.key-type-unsupported-by-token error, or an empty code when `type` is fine.
    [[nodiscard]] static Error generateKeyUnsupported(KeyType type);
    [[nodiscard]] Result<GeneratedKey> generateP256(const QString& label) {
        return generateKey(label, KeyType::P256);
    }

private:
    struct Impl;
    explicit Pkcs11Token(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> d;
};

}  // namespace otafleet::crypto
