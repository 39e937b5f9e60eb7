#include "crypto/Pkcs11PublicKey.h"

#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <array>

namespace otafleet::crypto::pkcs11 {

namespace {

constexpr qsizetype kEd25519KeySize = 32;

Error unreadablePublicKey() {
    return Error{QStringLiteral("pki.token"),
                 QStringLiteral("The token returned a public key OpenSSL cannot read (%1).")
                     .arg(ossl::takeErrors())};
}

Result<ossl::EvpPkeyPtr> ed25519PublicKey(QByteArray point) {
    // The 32-byte key, bare or (SoftHSM, PKCS#11 3.0) in a DER OCTET STRING.
    if (point.size() == kEd25519KeySize + 2 && point.at(0) == V_ASN1_OCTET_STRING &&
        point.at(1) == kEd25519KeySize) {
        point.remove(0, 2);
    }
    ossl::EvpPkeyPtr key(
        point.size() == kEd25519KeySize
            ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                          reinterpret_cast<const unsigned char*>(point.data()),
                                          static_cast<size_t>(point.size()))
            : nullptr);
    if (!key) {
        return fail(unreadablePublicKey());
    }
    return key;
}

}  // namespace

Result<ossl::EvpPkeyPtr> rsaPublicKey(const QByteArray& modulus, const QByteArray& exponent) {
    const auto toBn = [](const QByteArray& bytes) {
        return BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.constData()),
                         static_cast<int>(bytes.size()), nullptr);
    };
    using BnPtr = std::unique_ptr<BIGNUM, ossl::Deleter<BN_free>>;
    const BnPtr n(toBn(modulus));
    const BnPtr e(toBn(exponent));
    using BuildPtr = std::unique_ptr<OSSL_PARAM_BLD, ossl::Deleter<OSSL_PARAM_BLD_free>>;
    using ParamsPtr = std::unique_ptr<OSSL_PARAM, ossl::Deleter<OSSL_PARAM_free>>;
    const BuildPtr build(OSSL_PARAM_BLD_new());
    if (!n || !e || !build || OSSL_PARAM_BLD_push_BN(build.get(), "n", n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(build.get(), "e", e.get()) != 1) {
        return fail(unreadablePublicKey());
    }
    const ParamsPtr params(OSSL_PARAM_BLD_to_param(build.get()));
    ossl::EvpPkeyCtxPtr context(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
    EVP_PKEY* key = nullptr;
    if (!params || !context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
        EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
        return fail(unreadablePublicKey());
    }
    return ossl::EvpPkeyPtr(key);
}

Result<ossl::EvpPkeyPtr> ecPublicKey(const QByteArray& ecPoint, KeyType type) {
    if (type == KeyType::Ed25519) {
        return ed25519PublicKey(ecPoint);
    }
    QByteArray point = ecPoint;
    // PKCS#11 2.20+ wraps the point in a DER OCTET STRING; some modules give it bare.
    const auto* cursor = reinterpret_cast<const unsigned char*>(point.constData());
    if (ASN1_OCTET_STRING* wrapped = d2i_ASN1_OCTET_STRING(nullptr, &cursor, point.size())) {
        point = QByteArray(reinterpret_cast<const char*>(ASN1_STRING_get0_data(wrapped)),
                           ASN1_STRING_length(wrapped));
        ASN1_OCTET_STRING_free(wrapped);
    }
    ossl::clearErrors();

    // OSSL_PARAM wants a mutable string; the provider only reads it.
    std::array<char, 16> group{};
    const QByteArray name = type == KeyType::P384 ? "secp384r1" : "prime256v1";
    std::copy(name.cbegin(), name.cend(), group.begin());
    const std::array<OSSL_PARAM, 3> params = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group.data(), 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                          static_cast<size_t>(point.size())),
        OSSL_PARAM_construct_end()};
    ossl::EvpPkeyCtxPtr context(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    EVP_PKEY* key = nullptr;
    if (!context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
        EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY,
                          const_cast<OSSL_PARAM*>(params.data())) != 1) {
        return fail(unreadablePublicKey());
    }
    return ossl::EvpPkeyPtr(key);
}

}  // namespace otafleet::crypto::pkcs11
