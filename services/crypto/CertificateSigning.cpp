#include "crypto/CertificateSigning.h"

namespace otafleet::crypto {

namespace {

// What differs between certificates and CRLs; everything else is shared below.
template <typename T>
struct Signable;

template <>
struct Signable<X509> {
    static bool signInOpenSsl(X509* cert, EVP_PKEY* key) {
        return ossl::signCertificate(cert, key);
    }
    static int tbs(X509* cert, unsigned char** out) { return i2d_re_X509_tbs(cert, out); }
    static const X509_ALGOR* algorithm(const X509* cert) {
        const X509_ALGOR* algorithm = nullptr;
        X509_get0_signature(nullptr, &algorithm, cert);
        return algorithm;
    }
    static X509* parse(const unsigned char** cursor, long length) {
        return d2i_X509(nullptr, cursor, length);
    }
    static bool verify(X509* cert, EVP_PKEY* key) { return X509_verify(cert, key) == 1; }
};

template <>
struct Signable<X509_CRL> {
    static bool signInOpenSsl(X509_CRL* crl, EVP_PKEY* key) { return ossl::signCrl(crl, key); }
    static int tbs(X509_CRL* crl, unsigned char** out) { return i2d_re_X509_CRL_tbs(crl, out); }
    static const X509_ALGOR* algorithm(const X509_CRL* crl) {
        const X509_ALGOR* algorithm = nullptr;
        X509_CRL_get0_signature(crl, nullptr, &algorithm);
        return algorithm;
    }
    static X509_CRL* parse(const unsigned char** cursor, long length) {
        return d2i_X509_CRL(nullptr, cursor, length);
    }
    static bool verify(X509_CRL* crl, EVP_PKEY* key) { return X509_CRL_verify(crl, key) == 1; }
};

template <typename T, typename Ptr>
Status signStructure(Ptr& object, const SigningKey& key) {
    using S = Signable<T>;
    ossl::clearErrors();
    const auto failed = [&key](const QString& reason) {
        return fail(signingFailed(key.description(), ossl::takeErrors(reason)));
    };
    if (key.openSslCanSign()) {
        if (!S::signInOpenSsl(object.get(), key.evpKey())) {
            return failed(QStringLiteral("OpenSSL refused to sign"));
        }
        return {};
    }
    // Signing once with a throwaway key of the same type makes OpenSSL write both
    // AlgorithmIdentifiers (inside and outside the signed part) exactly as for a software key;
    // only the signature value is then replaced by the real key's.
    const auto type = keyTypeOf(key.evpKey());
    const ossl::EvpPkeyPtr placeholder = type ? ossl::generateKey(*type) : nullptr;
    if (!placeholder || !S::signInOpenSsl(object.get(), placeholder.get())) {
        return failed(QStringLiteral("cannot prepare the structure to sign"));
    }
    const QByteArray tbs = ossl::toDer(S::tbs, object.get());
    const QByteArray algorithm = ossl::toDer(i2d_X509_ALGOR, S::algorithm(object.get()));
    if (tbs.isEmpty() || algorithm.isEmpty()) {
        return failed(QStringLiteral("cannot encode the structure to sign"));
    }
    auto signature = key.sign(tbs);
    if (!signature) {
        return fail(signature.error());
    }
    // SEQUENCE { tbs, signatureAlgorithm, BIT STRING (no unused bits) signature }
    const QByteArray der = ossl::derTlv(
        V_ASN1_SEQUENCE,
        tbs + algorithm + ossl::derTlv(V_ASN1_BIT_STRING, QByteArray(1, '\0') + *signature));
    const auto* begin = reinterpret_cast<const unsigned char*>(der.constData());
    const unsigned char* cursor = begin;
    Ptr signedObject(S::parse(&cursor, static_cast<long>(der.size())));
    if (!signedObject || cursor != begin + der.size() ||
        !S::verify(signedObject.get(), key.evpKey())) {
        return failed(QStringLiteral("the token's signature does not verify"));
    }
    object = std::move(signedObject);
    return {};
}

}  // namespace

Status signWithKey(ossl::X509Ptr& cert, const SigningKey& key) {
    return signStructure<X509>(cert, key);
}

Status signWithKey(ossl::X509CrlPtr& crl, const SigningKey& key) {
    return signStructure<X509_CRL>(crl, key);
}

}  // namespace otafleet::crypto
