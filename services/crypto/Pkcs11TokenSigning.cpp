// Pkcs11Token::openKey and ::sign: keys used through raw PKCS#11 because libp11 0.4.12 cannot use
// them (Ed25519) or cannot list them (any key of a token that also holds an Ed25519 key).
#include "crypto/Pkcs11TokenImpl.h"

#include <openssl/ec.h>

#include <optional>

namespace otafleet::crypto {

namespace {

constexpr unsigned long kPssSaltLength = 32;  // as KeyType.h: RSA-PSS salt = SHA-256 size

// The first private or public key object matching `label` and `id` (each when given).
std::optional<CK_OBJECT_HANDLE> findKey(const Pkcs11Token::Impl& d, CK_OBJECT_CLASS keyClass,
                                        const QString& label, const QByteArray& id) {
    QByteArray labelUtf8 = label.toUtf8();
    QByteArray idBytes = id;  // PKCS#11 templates take non-const pointers
    std::vector<CK_ATTRIBUTE> filter = {{CKA_CLASS, &keyClass, sizeof keyClass}};
    if (!labelUtf8.isEmpty()) {
        filter.push_back({CKA_LABEL, labelUtf8.data(), static_cast<CK_ULONG>(labelUtf8.size())});
    }
    if (!idBytes.isEmpty()) {
        filter.push_back({CKA_ID, idBytes.data(), static_cast<CK_ULONG>(idBytes.size())});
    }
    if (d.functions->C_FindObjectsInit(d.session, filter.data(), filter.size()) != CKR_OK) {
        return std::nullopt;
    }
    CK_OBJECT_HANDLE object = CK_INVALID_HANDLE;
    CK_ULONG found = 0;
    const CK_RV rv = d.functions->C_FindObjects(d.session, &object, 1, &found);
    d.functions->C_FindObjectsFinal(d.session);
    if (rv != CKR_OK || found == 0) {
        return std::nullopt;
    }
    return object;
}

// The otafleet key type of a private key object, from CKA_KEY_TYPE and the curve.
std::optional<KeyType> keyTypeOfObject(const Pkcs11Token::Impl& d, CK_OBJECT_HANDLE key) {
    CK_KEY_TYPE type = 0;
    CK_ATTRIBUTE attribute{CKA_KEY_TYPE, &type, sizeof type};
    if (d.functions->C_GetAttributeValue(d.session, key, &attribute, 1) != CKR_OK) {
        return std::nullopt;
    }
    if (type == CKK_RSA) {
        return KeyType::RsaPss;
    }
    if (type == CKK_EC_EDWARDS) {
        return KeyType::Ed25519;
    }
    if (type != CKK_EC) {
        return std::nullopt;
    }
    const auto curve = d.attributeValue(key, CKA_EC_PARAMS);
    const auto is = [&curve](const auto& params) {
        return curve && QByteArrayView(params.data(), params.size()) == QByteArrayView(*curve);
    };
    if (is(pkcs11::kP256Params)) {
        return KeyType::P256;
    }
    if (is(pkcs11::kP384Params)) {
        return KeyType::P384;
    }
    return std::nullopt;
}

QByteArray digestOf(QByteArrayView message, const EVP_MD* digest) {
    QByteArray value(EVP_MAX_MD_SIZE, Qt::Uninitialized);
    unsigned int length = 0;
    if (EVP_Digest(message.data(), static_cast<size_t>(message.size()),
                   reinterpret_cast<unsigned char*>(value.data()), &length, digest, nullptr) != 1) {
        return {};
    }
    value.truncate(static_cast<qsizetype>(length));
    return value;
}

// CKM_ECDSA returns r || s; X.509 and CMS carry the DER Ecdsa-Sig-Value.
QByteArray ecdsaDer(const QByteArray& raw) {
    using SigPtr = std::unique_ptr<ECDSA_SIG, ossl::Deleter<ECDSA_SIG_free>>;
    const qsizetype half = raw.size() / 2;
    const auto* bytes = reinterpret_cast<const unsigned char*>(raw.constData());
    SigPtr signature(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(bytes, static_cast<int>(half), nullptr);
    BIGNUM* s = BN_bin2bn(bytes + half, static_cast<int>(half), nullptr);
    if (!signature || r == nullptr || s == nullptr || raw.size() % 2 != 0 ||
        ECDSA_SIG_set0(signature.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return {};
    }
    return ossl::toDer(i2d_ECDSA_SIG, signature.get());
}

}  // namespace

Result<Pkcs11Token::OpenedKey> Pkcs11Token::openKey(const QString& tokenLabel,
                                                    const QString& object, const QByteArray& id) {
    auto slot = d->findSlot(tokenLabel);
    if (!slot) {
        return fail(slot.error());
    }
    if (auto status = d->openSession(*slot); !status) {
        return fail(status.error());
    }
    auto privateKey = findKey(*d, CKO_PRIVATE_KEY, object, id);
    const auto type = privateKey ? keyTypeOfObject(*d, *privateKey) : std::nullopt;
    if (!type) {
        return fail(QStringLiteral("crypto.key-not-found"),
                    QStringLiteral("The token \"%1\" holds no usable private key labelled "
                                   "\"%2\". Check the key reference (object= label, id=).")
                        .arg(tokenLabel, object));
    }
    // The public object generated alongside: same CKA_ID.
    auto keyId = d->attributeValue(*privateKey, CKA_ID);
    auto publicKey = findKey(*d, CKO_PUBLIC_KEY, keyId ? QString() : object, keyId ? *keyId : id);
    if (!publicKey) {
        return fail(QStringLiteral("crypto.key-not-found"),
                    QStringLiteral("The token \"%1\" holds the key \"%2\" but not its public "
                                   "half, which is needed to check signatures. Store the public "
                                   "key object with the same CKA_ID.")
                        .arg(tokenLabel, object));
    }
    auto evpKey = d->readPublicKey(*publicKey, *type);
    if (!evpKey) {
        return fail(evpKey.error());
    }
    d->signingKey = *privateKey;
    d->signingKeyType = *type;
    return OpenedKey{*type, std::move(*evpKey)};
}

Result<QByteArray> Pkcs11Token::sign(QByteArrayView message) const {
    const std::lock_guard lock(d->signing);
    const auto failed = [](CK_RV rv) {
        return fail(QStringLiteral("crypto.sign-failed"),
                    QStringLiteral("The token refused to sign (%1). Check that the token is "
                                   "present and that the key may sign.")
                        .arg(pkcs11::rvText(rv)));
    };
    if (d->session == CK_INVALID_HANDLE || d->signingKey == CK_INVALID_HANDLE) {
        return failed(CKR_KEY_HANDLE_INVALID);
    }
    const KeyType type = d->signingKeyType;
    CK_RSA_PKCS_PSS_PARAMS pss{CKM_SHA256, CKG_MGF1_SHA256, kPssSaltLength};
    CK_MECHANISM mechanism{CKM_EDDSA, nullptr, 0};  // no parameters: pure Ed25519
    QByteArray input = message.toByteArray();
    if (type == KeyType::P256 || type == KeyType::P384) {
        mechanism.mechanism = CKM_ECDSA;
        input = digestOf(message, type == KeyType::P384 ? EVP_sha384() : EVP_sha256());
    } else if (type == KeyType::RsaPss) {
        mechanism = {CKM_RSA_PKCS_PSS, &pss, sizeof pss};
        input = digestOf(message, EVP_sha256());
    }
    if (input.isEmpty()) {
        return failed(CKR_FUNCTION_FAILED);
    }
    CK_RV rv = d->functions->C_SignInit(d->session, &mechanism, d->signingKey);
    if (rv != CKR_OK) {
        return failed(rv);
    }
    auto* data = reinterpret_cast<CK_BYTE_PTR>(input.data());
    const auto dataSize = static_cast<CK_ULONG>(input.size());
    CK_ULONG length = 0;
    rv = d->functions->C_Sign(d->session, data, dataSize, nullptr, &length);
    if (rv != CKR_OK) {
        return failed(rv);
    }
    QByteArray signature(static_cast<qsizetype>(length), Qt::Uninitialized);
    rv = d->functions->C_Sign(d->session, data, dataSize,
                              reinterpret_cast<CK_BYTE_PTR>(signature.data()), &length);
    if (rv != CKR_OK) {
        return failed(rv);
    }
    signature.truncate(static_cast<qsizetype>(length));
    if (type == KeyType::P256 || type == KeyType::P384) {
        signature = ecdsaDer(signature);
        if (signature.isEmpty()) {
            return failed(CKR_FUNCTION_FAILED);
        }
    }
    return signature;
}

}  // namespace otafleet::crypto
