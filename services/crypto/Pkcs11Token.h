// Raw PKCS#11 (through dlopen and C_GetFunctionList) for the jobs libp11 0.4.12 cannot do:
// initialising a token, generating key pairs inside it (ECDSA P-256/P-384, Ed25519, RSA 3072 for
// RSA-PSS), and finding and signing with keys of a token that holds Ed25519 keys (libp11 has no
// EdDSA and cannot list such a token's keys). Other signing goes through libp11
// (Pkcs11SigningKey). A Pkcs11Token that initialised the module (`pki init`,
// `pki issue`) finalises it when it dies so that libp11 can initialise it afresh afterwards; one
// loaded while libp11 holds the module shares libp11's initialisation and login.
#pragma once

#include "common/Error.h"
#include "crypto/KeyType.h"
#include "crypto/OpenSsl.h"
#include "crypto/SecretString.h"

#include <QByteArray>
#include <QByteArrayView>
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
    // P-256 or P-384 (CKM_EC_KEY_PAIR_GEN), Ed25519 (CKM_EC_EDWARDS_KEY_PAIR_GEN) or RSA 3072
    // (CKM_RSA_PKCS_KEY_PAIR_GEN, used with PSS). Error pki.token (also when a private key with
    // that label already exists).
    [[nodiscard]] Result<GeneratedKey> generateKey(const QString& label, KeyType type);

    // For a module libp11 has initialised and logged in to in this process: opens a session on
    // the token labelled `tokenLabel` (the user is logged in already) and finds the private key
    // (ECDSA P-256/P-384, Ed25519 or RSA) with label `object` and CKA_ID `id` (empty: any).
    // libp11 0.4.12 cannot use Ed25519 keys, and cannot list any key of a token that holds one,
    // so such keys are used through here. Errors crypto.key-not-found, crypto.token-not-found,
    // pki.token.
    struct OpenedKey {
        KeyType type;
        ossl::EvpPkeyPtr publicKey;
    };
    [[nodiscard]] Result<OpenedKey> openKey(const QString& tokenLabel, const QString& object,
                                            const QByteArray& id);
    // Signs `message` with the key openKey found, as its type signs (crypto/KeyType.h): Ed25519
    // with CKM_EDDSA over the message itself; ECDSA (CKM_ECDSA, returned as a DER
    // Ecdsa-Sig-Value) and RSA-PSS (CKM_RSA_PKCS_PSS: MGF1-SHA-256, 32-byte salt) over its
    // SHA-256/SHA-384 digest. Error crypto.sign-failed.
    [[nodiscard]] Result<QByteArray> sign(QByteArrayView message) const;
    [[nodiscard]] Result<GeneratedKey> generateP256(const QString& label) {
        return generateKey(label, KeyType::P256);
    }

    // Opaque; defined in Pkcs11TokenImpl.h for this class's own source files.
    struct Impl;

private:
    explicit Pkcs11Token(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> d;
};

}  // namespace otafleet::crypto
