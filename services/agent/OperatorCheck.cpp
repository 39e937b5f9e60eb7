#include "agent/OperatorCheck.h"

#include "common/AtomicFile.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <memory>

namespace otafleet::agent {
namespace {

struct CrlFree {
    void operator()(X509_CRL* crl) const { X509_CRL_free(crl); }
};
struct BioFree {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
using CrlPtr = std::unique_ptr<X509_CRL, CrlFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

constexpr qsizetype kMaxCrlFile = 4 * 1024 * 1024;

// `ca` issued `cert`: names and key identifiers agree (X509_check_issued) and the signature
// verifies with the CA's public key.
bool issuedBy(X509* cert, X509* ca) {
    if (X509_check_issued(ca, cert) != X509_V_OK)
        return false;
    EVP_PKEY* key = X509_get0_pubkey(ca);
    return key && X509_verify(cert, key) == 1;
}

CrlPtr crlFromDer(const QByteArray& der) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.constData());
    return CrlPtr(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
}

}  // namespace

Result<OperatorCheck> OperatorCheck::load(const QString& operatorCaPath,
                                          const QStringList& crlFiles) {
    OperatorCheck check;
    if (auto cas = crypto::Certificate::loadPemFile(operatorCaPath)) {
        for (const crypto::Certificate& ca : *cas) {
            if (X509_check_issued(ca.handle(), ca.handle()) != X509_V_OK)
                check.m_cas << ca;
        }
    }
    if (check.m_cas.isEmpty()) {
        return fail(QStringLiteral("agent.tls-unreadable"),
                    QStringLiteral("%1 holds no operator CA certificate; run 'otafleet-agent "
                                   "setup' again or fix 'operator_ca' in [tls].")
                        .arg(operatorCaPath));
    }
    for (const QString& path : crlFiles) {
        const auto unreadable = [&path] {
            return fail(QStringLiteral("crypto.crl-unreadable"),
                        QStringLiteral("Could not read a revocation list from %1; fetch a current "
                                       "one with 'otafleetctl pki crl' or fix 'crl' in [trust].")
                            .arg(path));
        };
        auto pem = readFileBounded(path, kMaxCrlFile);
        if (!pem)
            return unreadable();
        BioPtr bio(BIO_new_mem_buf(pem->constData(), static_cast<int>(pem->size())));
        int count = 0;
        while (CrlPtr crl{PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)}) {
            ++count;
            for (const crypto::Certificate& ca : std::as_const(check.m_cas)) {
                EVP_PKEY* key = X509_get0_pubkey(ca.handle());
                if (X509_NAME_cmp(X509_CRL_get_issuer(crl.get()),
                                  X509_get_subject_name(ca.handle())) == 0 &&
                    key && X509_CRL_verify(crl.get(), key) == 1) {
                    unsigned char* der = nullptr;
                    const int n = i2d_X509_CRL(crl.get(), &der);
                    if (n > 0)
                        check.m_crlsDer << QByteArray(reinterpret_cast<const char*>(der), n);
                    OPENSSL_free(der);
                }
            }
        }
        ERR_clear_error();
        if (count == 0)
            return unreadable();
    }
    return check;
}

Status OperatorCheck::check(QByteArrayView leafPem) const {
    const auto notOperator = [] {
        return fail(QStringLiteral("agent.not-an-operator"),
                    QStringLiteral("This agent accepts only operator certificates issued by the "
                                   "fleet's operator CA."));
    };
    auto leaf = crypto::Certificate::fromPem(leafPem);
    if (!leaf)
        return notOperator();
    const auto issuer = std::find_if(
        m_cas.begin(), m_cas.end(),
        [&](const crypto::Certificate& ca) { return issuedBy(leaf->handle(), ca.handle()); });
    if (issuer == m_cas.end())
        return notOperator();
    for (const QByteArray& der : m_crlsDer) {
        CrlPtr crl = crlFromDer(der);
        if (!crl || X509_NAME_cmp(X509_CRL_get_issuer(crl.get()),
                                  X509_get_subject_name(issuer->handle())) != 0) {
            continue;
        }
        X509_REVOKED* revoked = nullptr;
        if (X509_CRL_get0_by_cert(crl.get(), &revoked, leaf->handle()) == 1) {
            return fail(QStringLiteral("agent.operator-revoked"),
                        QStringLiteral("The operator certificate %1 (serial %2) is revoked; ask "
                                       "the fleet administrator for a new one.")
                            .arg(leaf->commonName(), leaf->serialHex()));
        }
    }
    return {};
}

}  // namespace otafleet::agent
