#include "crypto/KeyType.h"

#include "crypto/OpenSsl.h"

#include <openssl/rsa.h>

namespace otafleet::crypto {

namespace {

constexpr int kPssSaltLength = 32;
constexpr int kP384Bits = 384;

}  // namespace

QString keyTypeName(KeyType type) {
    switch (type) {
        case KeyType::P256:
            return QStringLiteral("p256");
        case KeyType::P384:
            return QStringLiteral("p384");
        case KeyType::Ed25519:
            return QStringLiteral("ed25519");
        case KeyType::RsaPss:
            return QStringLiteral("rsa-pss");
    }
    return QStringLiteral("p256");
}

QStringList keyTypeNames() {
    return {keyTypeName(KeyType::P256), keyTypeName(KeyType::P384), keyTypeName(KeyType::Ed25519),
            keyTypeName(KeyType::RsaPss)};
}

std::optional<KeyType> parseKeyType(const QString& text) {
    for (KeyType type : {KeyType::P256, KeyType::P384, KeyType::Ed25519, KeyType::RsaPss}) {
        if (text == keyTypeName(type)) {
            return type;
        }
    }
    return std::nullopt;
}

Result<KeyType> parseKeyTypeOrFail(const QString& text) {
    if (auto type = parseKeyType(text)) {
        return *type;
    }
    return fail(QStringLiteral("crypto.key-type-unknown"),
                QStringLiteral("\"%1\" is not a key type. Use one of: %2.")
                    .arg(text, keyTypeNames().join(QStringLiteral(", "))));
}

std::optional<KeyType> keyTypeOf(EVP_PKEY* key) {
    if (key == nullptr) {
        return std::nullopt;
    }
    if (EVP_PKEY_is_a(key, "ED25519") == 1) {
        return KeyType::Ed25519;
    }
    if (EVP_PKEY_is_a(key, "RSA") == 1 || EVP_PKEY_is_a(key, "RSA-PSS") == 1) {
        return KeyType::RsaPss;
    }
    if (EVP_PKEY_is_a(key, "EC") == 1) {
        return EVP_PKEY_get_bits(key) >= kP384Bits ? KeyType::P384 : KeyType::P256;
    }
    return std::nullopt;
}

namespace ossl {

const EVP_MD* signingDigest(EVP_PKEY* key) {
    switch (keyTypeOf(key).value_or(KeyType::P256)) {
        case KeyType::P384:
            return EVP_sha384();
        case KeyType::Ed25519:
            return nullptr;
        case KeyType::P256:
        case KeyType::RsaPss:
            return EVP_sha256();
    }
    return EVP_sha256();
}

bool configureSignature(EVP_PKEY_CTX* context, EVP_PKEY* key) {
    if (keyTypeOf(key) != KeyType::RsaPss) {
        return true;
    }
    return context != nullptr && EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PSS_PADDING) > 0 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(context, EVP_sha256()) > 0 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(context, kPssSaltLength) > 0;
}

}  // namespace ossl

}  // namespace otafleet::crypto

namespace otafleet::crypto::ossl {

namespace {
constexpr unsigned int kRsaBits = 3072;

// X509_sign with a digest-sign context, so RSA keys get PSS padding like every other use.
template <typename Sign>
bool signWith(EVP_PKEY* key, Sign sign) {
    EvpMdCtxPtr context(EVP_MD_CTX_new());
    EVP_PKEY_CTX* keyContext = nullptr;
    const EVP_MD* digest = signingDigest(key);
    return context &&
           EVP_DigestSignInit_ex(context.get(), &keyContext,
                                 digest == nullptr ? nullptr : EVP_MD_get0_name(digest), nullptr,
                                 nullptr, key, nullptr) == 1 &&
           configureSignature(keyContext, key) && sign(context.get()) > 0;
}
}  // namespace

EvpPkeyPtr generateKey(KeyType type) {
    switch (type) {
        case KeyType::P256:
            return EvpPkeyPtr(EVP_EC_gen("P-256"));
        case KeyType::P384:
            return EvpPkeyPtr(EVP_EC_gen("P-384"));
        case KeyType::Ed25519:
            return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
        case KeyType::RsaPss:
            return EvpPkeyPtr(EVP_RSA_gen(kRsaBits));
    }
    return {};
}

bool signCertificate(X509* cert, EVP_PKEY* issuerKey) {
    return signWith(issuerKey,
                    [cert](EVP_MD_CTX* context) { return X509_sign_ctx(cert, context); });
}

bool signCrl(X509_CRL* crl, EVP_PKEY* issuerKey) {
    return signWith(issuerKey,
                    [crl](EVP_MD_CTX* context) { return X509_CRL_sign_ctx(crl, context); });
}

}  // namespace otafleet::crypto::ossl
