#include "crypto/Cms.h"

#include "crypto/OpenSsl.h"

namespace otafleet::crypto {

namespace {

// Every signature otafleet makes: detached, binary content (no MIME canonicalisation), no
// S/MIME capabilities attribute; certificates are added explicitly (see addCertificates).
constexpr unsigned int kSignFlags = CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP;

Error signFailed(const SigningKey& key, const QString& detail) {
    return Error{QStringLiteral("crypto.sign-failed"),
                 QStringLiteral("Signing with %1 failed (%2). Check that the key matches the "
                                "certificate and that the token is present.")
                     .arg(key.description(), detail)};
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
    ossl::CmsPtr cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, kSignFlags | CMS_PARTIAL));
    if (!cms ||
        CMS_add1_signer(cms.get(), signer.handle(), key.evpKey(), EVP_sha256(),
                        kSignFlags | CMS_NOCERTS) == nullptr ||
        !addCertificates(cms.get(), signer, chain)) {
        return fail(signFailed(key, ossl::takeErrors()));
    }
    auto contentBio = ossl::readBio(content);
    if (CMS_final(cms.get(), contentBio.get(), nullptr, kSignFlags) != 1) {
        return fail(signFailed(key, ossl::takeErrors()));
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
    // The new signer reuses the message digest of the existing SignerInfos, so make sure first
    // that those really cover `content`; otherwise the new signature would vouch for other bytes.
    auto contentBio = ossl::readBio(content);
    if (CMS_verify(cms.get(), nullptr, nullptr, contentBio.get(), nullptr,
                   CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) != 1) {
        return fail(QStringLiteral("crypto.signature-invalid"),
                    QStringLiteral("The existing signature does not match this content (%1); "
                                   "sign the same manifest the first signer signed.")
                        .arg(ossl::takeErrors()));
    }
    if (CMS_add1_signer(cms.get(), signer.handle(), key.evpKey(), EVP_sha256(),
                        kSignFlags | CMS_NOCERTS | CMS_REUSE_DIGEST) == nullptr ||
        !addCertificates(cms.get(), signer, chain)) {
        return fail(signFailed(key, ossl::takeErrors()));
    }
    QByteArray der = toDer(cms.get());
    if (der.isEmpty()) {
        return fail(signFailed(key, ossl::takeErrors()));
    }
    return der;
}

}  // namespace otafleet::crypto
