#include "crypto/DeviceIdentity.h"

#include "common/AtomicFile.h"
#include "crypto/CertificateBuilder.h"
#include "crypto/OpenSsl.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <QRegularExpression>

namespace otafleet::crypto {

namespace {

constexpr qsizetype kMaxChainSize = 1024 * 1024;
constexpr qint64 kMaxCrlFileSize = 4 * 1024 * 1024;

using X509ReqPtr = std::unique_ptr<X509_REQ, ossl::Deleter<X509_REQ_free>>;

QList<Certificate> readCertificates(QByteArrayView pem) {
    auto bio = ossl::readBio(pem);
    QList<Certificate> certificates;
    while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
        certificates.append(Certificate(cert));
    }
    ossl::clearErrors();  // the loop ends with "no start line"
    return certificates;
}

QString describe(const Certificate& cert) {
    return QStringLiteral("\"%1\" (serial %2)").arg(cert.commonName(), cert.serialHex());
}

Error chainError(int code, const Certificate& cert, bool leaf) {
    const QString who = leaf ? QStringLiteral("The certificate %1").arg(describe(cert))
                             : QStringLiteral("Its issuing CA %1").arg(describe(cert));
    switch (code) {
        case X509_V_ERR_CERT_HAS_EXPIRED:
            return Error{QStringLiteral("crypto.certificate-expired"),
                         QStringLiteral("%1 expired on %2.")
                             .arg(who, cert.notAfter().toString(Qt::ISODate))};
        case X509_V_ERR_CERT_NOT_YET_VALID:
            return Error{QStringLiteral("crypto.certificate-not-yet-valid"),
                         QStringLiteral("%1 is valid only from %2 on; check the clock.")
                             .arg(who, cert.notBefore().toString(Qt::ISODate))};
        default:
            return Error{QStringLiteral("crypto.certificate-untrusted"),
                         QStringLiteral("%1 is not trusted (%2): it does not chain to this "
                                        "fleet's root CA for this use.")
                             .arg(who, QString::fromUtf8(X509_verify_cert_error_string(code)))};
    }
}

// CRLs (PEM files) that `issuer` signed, checked against `leaf`. Unreadable files are an error:
// a revocation list that cannot be read must not silently let a revoked identity in.
Status checkRevocation(const Certificate& leaf, const Certificate& issuer,
                       const QStringList& crlFiles) {
    EVP_PKEY* issuerKey = X509_get0_pubkey(issuer.handle());
    for (const QString& path : crlFiles) {
        auto pem = readFileBounded(path, kMaxCrlFileSize);
        if (!pem) {
            return fail(QStringLiteral("crypto.crl-unreadable"),
                        QStringLiteral("Could not read the revocation list %1 (%2); fetch a "
                                       "current one with 'otafleetctl pki crl'.")
                            .arg(path, pem.error().message));
        }
        auto bio = ossl::readBio(*pem);
        while (ossl::X509CrlPtr crl{PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)}) {
            if (X509_NAME_cmp(X509_CRL_get_issuer(crl.get()),
                              X509_get_subject_name(issuer.handle())) != 0 ||
                issuerKey == nullptr || X509_CRL_verify(crl.get(), issuerKey) != 1) {
                continue;
            }
            X509_REVOKED* entry = nullptr;
            if (X509_CRL_get0_by_cert(crl.get(), &entry, leaf.handle()) == 1) {
                ossl::clearErrors();
                return fail(QStringLiteral("crypto.certificate-revoked"),
                            QStringLiteral("The certificate %1 was revoked on %2.")
                                .arg(describe(leaf),
                                     ossl::toDateTime(X509_REVOKED_get0_revocationDate(entry))
                                         .toString(Qt::ISODate)));
            }
        }
        ossl::clearErrors();
    }
    return {};
}

int purposeId(ChainPurpose purpose) {
    switch (purpose) {
        case ChainPurpose::TlsServer:
            return X509_PURPOSE_SSL_SERVER;
        case ChainPurpose::TlsClient:
            return X509_PURPOSE_SSL_CLIENT;
        case ChainPurpose::Any:
            return 0;
    }
    return 0;
}

}  // namespace

bool isValidDeviceId(const QString& deviceId) {
    // Same alphabet as PKI entry names (Pki::issue), which device ids become.
    static const QRegularExpression pattern(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"));
    return pattern.match(deviceId).hasMatch();
}

Result<QByteArray> makeCertificateRequest(EVP_PKEY* key, const QString& deviceId) {
    ossl::clearErrors();
    const auto failed = [&deviceId] {
        return fail(QStringLiteral("crypto.sign-failed"),
                    QStringLiteral("Making the certificate request of %1 failed (%2).")
                        .arg(deviceId, ossl::takeErrors()));
    };
    X509ReqPtr request(X509_REQ_new());
    const QByteArray cn = deviceId.toUtf8();
    if (!request || X509_REQ_set_version(request.get(), 0) != 1 ||
        X509_REQ_set_pubkey(request.get(), key) != 1 ||
        X509_NAME_add_entry_by_NID(X509_REQ_get_subject_name(request.get()), NID_commonName,
                                   MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(cn.constData()),
                                   static_cast<int>(cn.size()), -1, 0) != 1) {
        return failed();
    }
    // X509_REQ_sign takes the digest the key type signs with (KeyType.h), like certificates do.
    if (X509_REQ_sign(request.get(), key, ossl::signingDigest(key)) <= 0) {
        return failed();
    }
    unsigned char* der = nullptr;
    const int length = i2d_X509_REQ(request.get(), &der);
    if (length <= 0) {
        return failed();
    }
    QByteArray result(reinterpret_cast<const char*>(der), length);
    OPENSSL_free(der);
    return result;
}

Result<QList<Certificate>> verifyCertificateChain(QByteArrayView chainPem,
                                                  const ChainCheck& check) {
    ossl::clearErrors();
    if (chainPem.size() > kMaxChainSize) {
        return fail(QStringLiteral("crypto.certificate-unreadable"),
                    QStringLiteral("The certificate chain is larger than %1 bytes; it is not one "
                                   "the fleet PKI made.")
                        .arg(kMaxChainSize));
    }
    const QList<Certificate> chain = readCertificates(chainPem);
    const QList<Certificate> roots = readCertificates(check.rootPem);
    if (chain.isEmpty()) {
        return fail(QStringLiteral("crypto.certificate-unreadable"),
                    QStringLiteral("No PEM certificate was found where the certificate chain "
                                   "should be."));
    }
    if (roots.isEmpty()) {
        return fail(QStringLiteral("crypto.certificate-unreadable"),
                    QStringLiteral("No trust anchor (root CA certificate) was given."));
    }
    ossl::X509StorePtr store(X509_STORE_new());
    for (const Certificate& root : roots) {
        X509_STORE_add_cert(store.get(), root.handle());
    }
    ossl::X509StackPtr untrusted(sk_X509_new_null());
    for (qsizetype i = 1; i < chain.size(); ++i) {
        X509_up_ref(chain[i].handle());
        sk_X509_push(untrusted.get(), chain[i].handle());
    }
    ossl::X509StoreCtxPtr context(X509_STORE_CTX_new());
    if (!context || X509_STORE_CTX_init(context.get(), store.get(), chain.first().handle(),
                                        untrusted.get()) != 1) {
        return fail(QStringLiteral("crypto.certificate-untrusted"),
                    QStringLiteral("The certificate chain could not be checked (%1).")
                        .arg(ossl::takeErrors()));
    }
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(context.get());
    X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(check.at.toSecsSinceEpoch()));
    if (const int purpose = purposeId(check.purpose); purpose != 0) {
        X509_STORE_CTX_set_purpose(context.get(), purpose);
    }
    if (X509_verify_cert(context.get()) != 1) {
        const int code = X509_STORE_CTX_get_error(context.get());
        const int depth = X509_STORE_CTX_get_error_depth(context.get());
        X509* failing = X509_STORE_CTX_get_current_cert(context.get());
        Certificate culprit = chain.first();
        if (failing != nullptr) {
            X509_up_ref(failing);
            culprit = Certificate(failing);
        }
        ossl::clearErrors();
        return fail(chainError(code, culprit, depth == 0));
    }
    QList<Certificate> verified;
    STACK_OF(X509)* built = X509_STORE_CTX_get0_chain(context.get());
    for (int i = 0; i < sk_X509_num(built); ++i) {
        X509* cert = sk_X509_value(built, i);
        X509_up_ref(cert);
        verified.append(Certificate(cert));
    }
    if (verified.size() >= 2 && !check.crlFiles.isEmpty()) {
        if (auto status = checkRevocation(verified[0], verified[1], check.crlFiles); !status) {
            return fail(status.error());
        }
    }
    return verified;
}

QString deviceIdOf(const QList<Certificate>& verifiedChain) {
    static const QLatin1String rootTitle(" root CA");
    static const QLatin1String deviceTitle(" device CA");
    if (verifiedChain.size() != 3) {
        return {};  // leaf, device CA, root: the PKI has no deeper paths
    }
    const QString rootName = verifiedChain[2].commonName();
    if (!rootName.endsWith(rootTitle) ||
        verifiedChain[1].commonName() != rootName.chopped(rootTitle.size()) + deviceTitle) {
        return {};
    }
    const QString id = verifiedChain[0].commonName();
    return isValidDeviceId(id) ? id : QString();
}

bool certificateNamesHost(const Certificate& certificate, const QString& host) {
    if (certificate.isNull() || host.isEmpty()) {
        return false;
    }
    const QByteArray name = host.toUtf8();
    const bool matched =
        X509_check_ip_asc(certificate.handle(), name.constData(), 0) == 1 ||
        X509_check_host(certificate.handle(), name.constData(), static_cast<size_t>(name.size()),
                        X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, nullptr) == 1;
    ossl::clearErrors();
    return matched;
}

Result<Certificate> verifyDeviceIdentity(QByteArrayView chainPem,
                                         const DeviceIdentityCheck& check) {
    ChainCheck chainCheck = check.chain;
    chainCheck.purpose = ChainPurpose::TlsClient;  // EKU clientAuth (CertificateBuilder.h)
    auto chain = verifyCertificateChain(chainPem, chainCheck);
    if (!chain) {
        return fail(chain.error());
    }
    const Certificate leaf = chain->first();
    const QString id = deviceIdOf(*chain);
    if (id.isEmpty()) {
        return fail(QStringLiteral("crypto.not-a-device-identity"),
                    QStringLiteral("The certificate %1 is not a device identity of the fleet's "
                                   "device CA.")
                        .arg(describe(leaf)));
    }
    if (!check.deviceId.isEmpty() && id != check.deviceId) {
        return fail(QStringLiteral("crypto.identity-wrong-device"),
                    QStringLiteral("The certificate names the device \"%1\", not \"%2\".")
                        .arg(id, check.deviceId));
    }
    if (check.key != nullptr &&
        ossl::publicKeyDer(check.key) != ossl::publicKeyDer(X509_get0_pubkey(leaf.handle()))) {
        return fail(QStringLiteral("crypto.identity-key-mismatch"),
                    QStringLiteral("The certificate %1 is for another key than the device's.")
                        .arg(describe(leaf)));
    }
    return leaf;
}

}  // namespace otafleet::crypto

namespace otafleet::crypto {

Result<DeviceKey> DeviceKey::createFile(const QString& path) {
    ossl::EvpPkeyPtr key = ossl::generateP256();
    QByteArray pem = key ? ossl::privateKeyPem(key.get()) : QByteArray();
    if (pem.isEmpty()) {
        return fail(
            QStringLiteral("crypto.sign-failed"),
            QStringLiteral("Generating the device key failed (%1).").arg(ossl::takeErrors()));
    }
    const Status written = writeFileAtomically(path, pem, 0600);
    pem.fill('\0');
    if (!written) {
        return fail(written.error());
    }
    DeviceKey result;
    result.m_key = std::shared_ptr<EVP_PKEY>(key.release(), EVP_PKEY_free);
    return result;
}

Result<DeviceKey> DeviceKey::loadFile(const QString& path) {
    auto pem = readFileBounded(path, 64 * 1024);
    if (!pem) {
        return fail(
            QStringLiteral("crypto.key-unreadable"),
            QStringLiteral("Cannot read the device key %1 (%2).").arg(path, pem.error().message));
    }
    auto bio = ossl::readBio(*pem);
    EVP_PKEY* key = PEM_read_bio_PrivateKey(
        bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr);
    pem->fill('\0');
    if (key == nullptr) {
        return fail(QStringLiteral("crypto.key-unreadable"),
                    QStringLiteral("%1 is not an unencrypted PEM private key (%2); remove it to "
                                   "enrol with a fresh key.")
                        .arg(path, ossl::takeErrors()));
    }
    DeviceKey result;
    result.m_key = std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
    return result;
}

EVP_PKEY* DeviceKey::evpKey() const {
    return m_token ? m_token->evpKey() : m_key.get();
}

}  // namespace otafleet::crypto
