// verifyDetached: the one verification path for release signatures. Signature maths is left to
// cms::verifySignatures (OpenSSL's CMS_verify, plus RFC 8419 for Ed25519 SignerInfos, which
// OpenSSL 3.0 cannot check); chain building is done here for every key type alike, with
// X509_STORE_CTX so that every way a signer can be unacceptable (unknown, expired, revoked, not
// a code signer) gets its own error code.
#include "crypto/Cms.h"

#include "common/AtomicFile.h"
#include "crypto/CmsSignerInfo.h"
#include "crypto/OpenSsl.h"

#include <openssl/pem.h>

#include <QSet>

namespace otafleet::crypto {

namespace {

struct X509RefStackDeleter {  // a stack whose certificates are borrowed, not owned
    void operator()(STACK_OF(X509) * stack) const { sk_X509_free(stack); }
};
using BorrowedX509Stack = std::unique_ptr<STACK_OF(X509), X509RefStackDeleter>;

Error malformed(const QString& detail) {
    return Error{QStringLiteral("crypto.signature-malformed"),
                 QStringLiteral("The signature is not a well-formed detached CMS SignedData "
                                "(%1). The bundle is damaged or was not signed by otafleet.")
                     .arg(detail)};
}

// Failing CRL checks for issuers the caller gave no CRL for would make every CRL list an
// all-or-nothing affair; a missing CRL is accepted, a listed serial is not.
int verifyCallback(int ok, X509_STORE_CTX* context) {
    if (ok == 0 && X509_STORE_CTX_get_error(context) == X509_V_ERR_UNABLE_TO_GET_CRL) {
        return 1;
    }
    return ok;
}

Result<ossl::X509StorePtr> makeStore(const TrustStore& trust, const QDateTime& now) {
    ossl::X509StorePtr store(X509_STORE_new());
    for (const Certificate& anchor : trust.anchors) {
        if (!anchor.isNull()) {
            X509_STORE_add_cert(store.get(), anchor.handle());
        }
    }
    bool haveCrls = false;
    for (const QByteArray& pem : trust.crlsPem) {
        auto bio = ossl::readBio(pem);
        while (X509_CRL* crl = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) {
            X509_STORE_add_crl(store.get(), crl);
            X509_CRL_free(crl);
            haveCrls = true;
        }
        ossl::clearErrors();
    }
    X509_VERIFY_PARAM* param = X509_STORE_get0_param(store.get());
    X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(now.toSecsSinceEpoch()));
    if (haveCrls) {
        X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    }
    X509_STORE_set_verify_cb(store.get(), verifyCallback);
    return store;
}

bool hasCodeSigningUsage(X509* cert) {
    // X509_get_extended_key_usage also needs the extension present: absent means "any", which
    // is not good enough for a release signer.
    ossl::ExtendedKeyUsagePtr usage(static_cast<EXTENDED_KEY_USAGE*>(
        X509_get_ext_d2i(cert, NID_ext_key_usage, nullptr, nullptr)));
    for (int i = 0; usage && i < sk_ASN1_OBJECT_num(usage.get()); ++i) {
        if (OBJ_obj2nid(sk_ASN1_OBJECT_value(usage.get(), i)) == NID_code_sign) {
            return true;
        }
    }
    return false;
}

Result<VerifiedSigner> checkSigner(X509* signerCert, X509_STORE* store,
                                   STACK_OF(X509) * untrusted) {
    const Certificate signer(X509_dup(signerCert));
    ossl::X509StoreCtxPtr context(X509_STORE_CTX_new());
    if (!context || X509_STORE_CTX_init(context.get(), store, signerCert, untrusted) != 1) {
        return fail(QStringLiteral("crypto.untrusted-signer"),
                    QStringLiteral("Cannot check the chain of %1 (%2).")
                        .arg(signer.subject(), ossl::takeErrors()));
    }
    if (X509_verify_cert(context.get()) != 1) {
        const int error = X509_STORE_CTX_get_error(context.get());
        const QString reason = QString::fromLatin1(X509_verify_cert_error_string(error));
        X509* failing = X509_STORE_CTX_get_current_cert(context.get());
        const QString failingName =
            failing != nullptr ? Certificate(X509_dup(failing)).subject() : signer.subject();
        ossl::clearErrors();
        switch (error) {
            case X509_V_ERR_CERT_HAS_EXPIRED:
            case X509_V_ERR_CERT_NOT_YET_VALID:
                return fail(
                    QStringLiteral("crypto.signer-expired"),
                    QStringLiteral("The signer %1 is not valid at the time of checking (%2: "
                                   "%3). Re-sign the release with a current certificate.")
                        .arg(signer.subject(), failingName, reason));
            case X509_V_ERR_CERT_REVOKED:
                return fail(
                    QStringLiteral("crypto.signer-revoked"),
                    QStringLiteral("The signer %1 has been revoked (%2). Do not install this "
                                   "release; ask the release manager for a re-signed one.")
                        .arg(signer.subject(), failingName));
            default:
                return fail(
                    QStringLiteral("crypto.untrusted-signer"),
                    QStringLiteral("The signer %1 does not chain to a trusted root (%2). The "
                                   "bundle was signed by someone this device does not trust.")
                        .arg(signer.subject(), reason));
        }
    }
    if (!hasCodeSigningUsage(signerCert)) {
        return fail(QStringLiteral("crypto.signer-not-code-signing"),
                    QStringLiteral("The signer %1 is not a code-signing certificate (no "
                                   "codeSigning extended key usage). Sign releases with the "
                                   "release signer.")
                        .arg(signer.subject()));
    }
    VerifiedSigner result{signer, {}};
    ossl::X509StackPtr chain(X509_STORE_CTX_get1_chain(context.get()));
    for (int i = 1; chain && i < sk_X509_num(chain.get()); ++i) {
        X509* issuer = sk_X509_value(chain.get(), i);
        X509_up_ref(issuer);
        result.chain.append(Certificate(issuer));
    }
    return result;
}

}  // namespace

Result<TrustStore> TrustStore::fromPemFile(const QString& path) {
    auto certificates = Certificate::loadPemFile(path);
    if (!certificates) {
        return fail(QStringLiteral("crypto.trust-unreadable"),
                    QStringLiteral("Cannot read the trusted roots from %1: %2")
                        .arg(path, certificates.error().message));
    }
    TrustStore trust;
    trust.anchors = *certificates;
    return trust;
}

Status TrustStore::addCrlFiles(const QStringList& paths) {
    constexpr qint64 kMaxCrlFileSize = 4 * 1024 * 1024;
    for (const QString& path : paths) {
        auto pem = readFileBounded(path, kMaxCrlFileSize);
        if (!pem || !pem->contains("-----BEGIN X509 CRL-----")) {
            return fail(
                QStringLiteral("crypto.crl-unreadable"),
                QStringLiteral("Cannot read a certificate revocation list from %1 (%2). "
                               "Give the PEM file otafleetctl pki crl wrote.")
                    .arg(path, pem ? QStringLiteral("no X509 CRL in it") : pem.error().message));
        }
        crlsPem.append(*pem);
    }
    return {};
}

Result<QList<VerifiedSigner>> verifyDetached(QByteArrayView content, QByteArrayView cmsDer,
                                             const TrustStore& trust, const QDateTime& now,
                                             int threshold) {
    ossl::clearErrors();
    if (cmsDer.isEmpty()) {
        return fail(QStringLiteral("crypto.signature-missing"),
                    QStringLiteral("The bundle carries no signature. Sign it with otafleetctl "
                                   "bundle sign before distributing it."));
    }
    if (cmsDer.size() > kMaxSignatureSize) {
        return fail(malformed(QStringLiteral("%1 bytes, more than the %2 allowed")
                                  .arg(cmsDer.size())
                                  .arg(kMaxSignatureSize)));
    }
    const auto* begin = reinterpret_cast<const unsigned char*>(cmsDer.data());
    const unsigned char* cursor = begin;
    ossl::CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &cursor, cmsDer.size()));
    if (!cms) {
        return fail(malformed(ossl::takeErrors()));
    }
    if (cursor != begin + cmsDer.size()) {
        return fail(malformed(QStringLiteral("trailing bytes after the structure")));
    }
    if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed ||
        CMS_is_detached(cms.get()) != 1) {
        return fail(malformed(QStringLiteral("not a detached SignedData")));
    }
    STACK_OF(CMS_SignerInfo)* signerInfos = CMS_get0_SignerInfos(cms.get());
    if (signerInfos == nullptr || sk_CMS_SignerInfo_num(signerInfos) == 0) {
        return fail(QStringLiteral("crypto.signature-missing"),
                    QStringLiteral("The signature holds no signer. Sign the bundle before "
                                   "distributing it."));
    }

    // Checks every SignerInfo's signature over `content` (digest and signed attributes); signer
    // certificates are taken from the SignedData, their trust is judged below.
    // The trust store's intermediates may also name a signer whose signature carries no
    // certificates.
    BorrowedX509Stack extraCerts(sk_X509_new_null());
    for (const Certificate& intermediate : trust.intermediates) {
        if (!intermediate.isNull()) {
            sk_X509_push(extraCerts.get(), intermediate.handle());
        }
    }
    if (auto signatures = cms::verifySignatures(cms.get(), content, extraCerts.get());
        !signatures) {
        if (signatures.error().code == QLatin1String("crypto.untrusted-signer")) {
            return fail(QStringLiteral("crypto.untrusted-signer"),
                        QStringLiteral("The signature does not carry its signer's certificate, "
                                       "so the signer cannot be identified (%1).")
                            .arg(signatures.error().message));
        }
        return fail(QStringLiteral("crypto.signature-invalid"),
                    QStringLiteral("The signature does not match the signed content (%1). The "
                                   "manifest or its signature was altered; do not install it.")
                        .arg(signatures.error().message));
    }
    BorrowedX509Stack signerCerts(CMS_get0_signers(cms.get()));
    if (!signerCerts || sk_X509_num(signerCerts.get()) != sk_CMS_SignerInfo_num(signerInfos)) {
        return fail(malformed(QStringLiteral("signer certificates missing")));
    }

    auto store = makeStore(trust, now);
    if (!store) {
        return fail(store.error());
    }
    ossl::X509StackPtr untrusted(CMS_get1_certs(cms.get()));
    if (!untrusted) {
        untrusted.reset(sk_X509_new_null());
    }
    for (const Certificate& intermediate : trust.intermediates) {
        if (!intermediate.isNull()) {
            X509_up_ref(intermediate.handle());
            sk_X509_push(untrusted.get(), intermediate.handle());
        }
    }

    QList<VerifiedSigner> verified;
    QSet<QByteArray> distinctKeys;
    for (int i = 0; i < sk_X509_num(signerCerts.get()); ++i) {
        X509* signerCert = sk_X509_value(signerCerts.get(), i);
        auto signer = checkSigner(signerCert, store->get(), untrusted.get());
        if (!signer) {
            return fail(signer.error());
        }
        const QByteArray key = ossl::publicKeyDer(X509_get0_pubkey(signerCert));
        if (!distinctKeys.contains(key)) {
            distinctKeys.insert(key);
            verified.append(*signer);
        }
    }
    const int required = std::max(threshold, 1);
    if (verified.size() < required) {
        return fail(QStringLiteral("crypto.threshold-not-met"),
                    QStringLiteral("The release carries %1 distinct valid signer(s) but %2 are "
                                   "required. Have another release manager add a signature.")
                        .arg(verified.size())
                        .arg(required));
    }
    return verified;
}

}  // namespace otafleet::crypto
