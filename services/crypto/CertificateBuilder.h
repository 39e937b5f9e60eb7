// Internal: issues the X.509 certificates of the fleet PKI (CAs, release signer, TLS server and
// client identities) with the extensions each role needs, signed by any SigningKey — a software
// key or a token key (CertificateSigning.h).
#pragma once

#include "common/Error.h"
#include "crypto/Certificate.h"
#include "crypto/SigningKey.h"

#include <QString>
#include <QStringList>

using EVP_PKEY = struct evp_pkey_st;

namespace otafleet::crypto {

enum class CertificateProfile {
    RootCa,          // self-signed, CA:TRUE
    IntermediateCa,  // CA:TRUE, pathlen 0
    CodeSigning,     // release signer: digitalSignature, EKU codeSigning
    TlsServer,       // EKU serverAuth, subjectAltName
    TlsClient,       // EKU clientAuth
};

struct CertificateSpec {
    QString commonName;
    CertificateProfile profile = CertificateProfile::TlsClient;
    EVP_PKEY* subjectKey = nullptr;  // its public half goes into the certificate
    QStringList subjectAltNames;     // IP addresses become iPAddress, the rest dNSName
    int validityDays = 365;
};

// `issuer` null means self-signed (then `issuerKey` must be the subject key). The validity
// never outlasts the issuer's. Error crypto.sign-failed.
[[nodiscard]] Result<Certificate> issueCertificate(const CertificateSpec& spec,
                                                   const Certificate& issuer,
                                                   const SigningKey& issuerKey);
// The same for an issuer key OpenSSL can sign with directly.
[[nodiscard]] Result<Certificate> issueCertificate(const CertificateSpec& spec,
                                                   const Certificate& issuer, EVP_PKEY* issuerKey);

}  // namespace otafleet::crypto
