#include "crypto/Cms.h"

#include "crypto/CmsSignerInfo.h"
#include "crypto/OpenSsl.h"

namespace otafleet::crypto {

namespace {

// Every signature otafleet makes: detached, binary content (no MIME canonicalisation), no
// S/MIME capabilities attribute; certificates are added explicitly (see addCertificates).
constexpr unsigned int kSignFlags = CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP;

Error signFailed(const SigningKey& key, const QString& detail) {
    return signingFailed(key.description(), detail);
}

bool containsCertificate(CMS_ContentInfo* cms, X509* cert) {
    ossl::X509StackPtr present(CMS_get1_certs(cms));
    for (int i = 0; present && i < sk_X509_num(present.get()); ++i) {
        if (X509_cmp(sk_X509_value(present.get(), i), cert) == 0) {
            return true;
        }
    }
    return false;
}

// OpenSSL 3.0 refuses to add a certificate the SignedData already holds, which a second
// signature from the same CA (or the same signer) would do; add only what is missing.
bool addCertificates(CMS_ContentInfo* cms, const Certificate& signer,
                     const QList<Certificate>& chain) {
    QList<Certificate> all{signer};
    all.append(chain);
    for (const Certificate& cert : all) {
        if (cert.isNull() || containsCertificate(cms, cert.handle())) {
            continue;
        }
        if (CMS_add1_cert(cms, cert.handle()) != 1) {
            return false;
        }
    }
    return true;
}

QByteArray toDer(CMS_ContentInfo* cms) {
    auto bio = ossl::writeBio();
    if (i2d_CMS_bio(bio.get(), cms) != 1) {
        return {};
    }
    return ossl::bioContents(bio.get());
}

// The SignerInfo's digest and padding follow the key (crypto/KeyType.h). CMS_KEY_PARAM makes
// OpenSSL create the signing context now, so RSA keys can be switched to PSS before signing.
CMS_SignerInfo* addSigner(CMS_ContentInfo* cms, const SigningKey& key, const Certificate& signer,
                          unsigned int flags) {
    CMS_SignerInfo* info =
        CMS_add1_signer(cms, signer.handle(), key.evpKey(), ossl::signingDigest(key.evpKey()),
                        flags | CMS_KEY_PARAM);
    if (info == nullptr ||
        !ossl::configureSignature(CMS_SignerInfo_get0_pkey_ctx(info), key.evpKey())) {
        return nullptr;
    }
    return info;
}

Status checkKeyType(const SigningKey& key) {
    if (!keyTypeOf(key.evpKey())) {
        return fail(
            signFailed(key, QStringLiteral("the key is not ECDSA P-256/P-384, Ed25519 or RSA")));
    }
    return {};
}

// A second signer whose digest may differ from the first one's (a P-384 signer added to a
// P-256 signature): its messageDigest attribute is computed here instead of copied.
bool signOver(CMS_SignerInfo* info, QByteArrayView content, EVP_PKEY* publicKey) {
    if (!cms::setSignatureAlgorithm(info, publicKey)) {
        return false;
    }
    X509_ALGOR* digestAlgorithm = nullptr;
    CMS_SignerInfo_get0_algs(info, nullptr, nullptr, &digestAlgorithm, nullptr);
    const ASN1_OBJECT* digestObject = nullptr;
    X509_ALGOR_get0(&digestObject, nullptr, nullptr, digestAlgorithm);
    const EVP_MD* digest = EVP_get_digestbyobj(digestObject);
    unsigned char value[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    return digest != nullptr &&
           EVP_Digest(content.data(), static_cast<size_t>(content.size()), value, &length, digest,
                      nullptr) == 1 &&
           CMS_signed_add1_attr_by_NID(info, NID_pkcs9_contentType, V_ASN1_OBJECT,
                                       OBJ_nid2obj(NID_pkcs7_data), -1) == 1 &&
           CMS_signed_add1_attr_by_NID(info, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING, value,
                                       static_cast<int>(length)) == 1 &&
           CMS_SignerInfo_sign(info) == 1;
}

bool keyMatches(const SigningKey& key, const Certificate& signer) {
    const bool matches = EVP_PKEY_eq(X509_get0_pubkey(signer.handle()), key.evpKey()) == 1;
    ossl::clearErrors();
    return matches;
}

}  // namespace

Result<QByteArray> signDetached(QByteArrayView content, const SigningKey& key,
                                const Certificate& signer, const QList<Certificate>& chain) {
    ossl::clearErrors();
    if (signer.isNull() || key.evpKey() == nullptr) {
        return fail(signFailed(key, QStringLiteral("no signer certificate or key")));
    }
    if (!keyMatches(key, signer)) {
        return fail(
            signFailed(key, QStringLiteral("the key does not belong to %1").arg(signer.subject())));
    }
    if (auto supported = checkKeyType(key); !supported) {
        return fail(supported.error());
    }
    ossl::CmsPtr cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, kSignFlags | CMS_PARTIAL));
    if (!cms || !addCertificates(cms.get(), signer, chain)) {
        return fail(signFailed(key, ossl::takeErrors()));
    }
    if (cms::signsOwnSignerInfo(key)) {
        // Signed completely here; CMS_final would try (and fail) to sign it with OpenSSL's CMS.
        if (auto added =
                cms::addOwnSigner(cms.get(), content, key, signer, kSignFlags | CMS_NOCERTS);
            !added) {
            return fail(added.error());
        }
    } else {
        auto contentBio = ossl::readBio(content);
        if (addSigner(cms.get(), key, signer, kSignFlags | CMS_NOCERTS) == nullptr ||
            CMS_final(cms.get(), contentBio.get(), nullptr, kSignFlags) != 1) {
            return fail(signFailed(key, ossl::takeErrors()));
        }
    }
    QByteArray der = toDer(cms.get());
    if (der.isEmpty()) {
        return fail(signFailed(key, ossl::takeErrors()));
    }
    return der;
}

Result<QByteArray> addSignature(QByteArrayView existingDer, QByteArrayView content,
                                const SigningKey& key, const Certificate& signer,
                                const QList<Certificate>& chain) {
    ossl::clearErrors();
    if (signer.isNull() || key.evpKey() == nullptr || !keyMatches(key, signer)) {
        return fail(signFailed(key, QStringLiteral("the key does not belong to the certificate")));
    }
    if (auto supported = checkKeyType(key); !supported) {
        return fail(supported.error());
    }
    if (existingDer.isEmpty() || existingDer.size() > kMaxSignatureSize) {
        return fail(QStringLiteral("crypto.signature-malformed"),
                    QStringLiteral("The existing signature is empty or larger than %1 bytes, so "
                                   "no signature can be added to it.")
                        .arg(kMaxSignatureSize));
    }
    const auto* cursor = reinterpret_cast<const unsigned char*>(existingDer.data());
    ossl::CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &cursor, existingDer.size()));
    if (!cms || OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed ||
        CMS_is_detached(cms.get()) != 1) {
        return fail(QStringLiteral("crypto.signature-malformed"),
                    QStringLiteral("The existing signature is not a detached CMS SignedData (%1).")
                        .arg(ossl::takeErrors(QStringLiteral("wrong structure"))));
    }
    // The new signature must vouch for the bytes the existing SignerInfos cover: check first
    // that those really cover `content`.
    if (auto existing = cms::verifySignatures(cms.get(), content, nullptr); !existing) {
        return fail(QStringLiteral("crypto.signature-invalid"),
                    QStringLiteral("The existing signature does not match this content (%1); "
                                   "sign the same manifest the first signer signed.")
                        .arg(existing.error().message));
    }
    if (cms::signsOwnSignerInfo(key)) {
        if (auto added =
                cms::addOwnSigner(cms.get(), content, key, signer, kSignFlags | CMS_NOCERTS);
            !added) {
            return fail(added.error());
        }
    } else {
        CMS_SignerInfo* info = addSigner(cms.get(), key, signer, kSignFlags | CMS_NOCERTS);
        if (info == nullptr || !signOver(info, content, X509_get0_pubkey(signer.handle()))) {
            return fail(signFailed(key, ossl::takeErrors()));
        }
    }
    if (!addCertificates(cms.get(), signer, chain)) {
        return fail(signFailed(key, ossl::takeErrors()));
    }
    QByteArray der = toDer(cms.get());
    if (der.isEmpty()) {
        return fail(signFailed(key, ossl::takeErrors()));
    }
    return der;
}

}  // namespace otafleet::crypto
