#include "crypto/Certificate.h"

#include "common/AtomicFile.h"
#include "crypto/OpenSsl.h"

#include <openssl/err.h>
#include <openssl/pem.h>

namespace otafleet::crypto {

namespace {

// A certificate file holds a leaf and a few issuers; anything much larger is not one.
constexpr qint64 kMaxCertificateFileSize = 1024 * 1024;

Error unreadable(const QString& what) {
    return Error{QStringLiteral("crypto.certificate-unreadable"),
                 QStringLiteral("%1 is not a readable X.509 certificate (%2). Check that it is "
                                "the PEM or DER file the PKI wrote.")
                     .arg(what, ossl::takeErrors())};
}

QString nameToString(const X509_NAME* name) {
    auto bio = ossl::writeBio();
    // RFC 2253, but UTF-8 left as it is instead of \XX escapes: these strings are for people.
    X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    return QString::fromUtf8(ossl::bioContents(bio.get()));
}

}  // namespace

Certificate::Certificate(X509* cert) : m_cert(cert, X509_free) {}

Result<Certificate> Certificate::fromPem(QByteArrayView pem) {
    auto bio = ossl::readBio(pem);
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (cert == nullptr) {
        return fail(unreadable(QStringLiteral("The PEM data")));
    }
    return Certificate(cert);
}

Result<Certificate> Certificate::fromDer(QByteArrayView der) {
    const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
    X509* cert = d2i_X509(nullptr, &cursor, static_cast<long>(der.size()));
    if (cert == nullptr) {
        return fail(unreadable(QStringLiteral("The DER data")));
    }
    return Certificate(cert);
}

Result<QList<Certificate>> Certificate::loadPemFile(const QString& path) {
    auto content = readFileBounded(path, kMaxCertificateFileSize);
    if (!content) {
        return fail(content.error());
    }
    auto bio = ossl::readBio(*content);
    QList<Certificate> certificates;
    while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
        certificates.append(Certificate(cert));
    }
    // The loop ends with "no start line" once the file is used up; that is not an error.
    const unsigned long last = ERR_peek_last_error();
    if (ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE) {
        ossl::clearErrors();
    }
    if (certificates.isEmpty() || ERR_peek_error() != 0) {
        return fail(unreadable(path));
    }
    return certificates;
}

QByteArray Certificate::toPem() const {
    if (!m_cert) {
        return {};
    }
    auto bio = ossl::writeBio();
    PEM_write_bio_X509(bio.get(), m_cert.get());
    return ossl::bioContents(bio.get());
}

QByteArray Certificate::toDer() const {
    if (!m_cert) {
        return {};
    }
    unsigned char* der = nullptr;
    const int length = i2d_X509(m_cert.get(), &der);
    if (length <= 0) {
        return {};
    }
    QByteArray result(reinterpret_cast<const char*>(der), length);
    OPENSSL_free(der);
    return result;
}

QString Certificate::subject() const {
    return m_cert ? nameToString(X509_get_subject_name(m_cert.get())) : QString();
}

QString Certificate::issuer() const {
    return m_cert ? nameToString(X509_get_issuer_name(m_cert.get())) : QString();
}

QString Certificate::commonName() const {
    if (!m_cert) {
        return {};
    }
    const X509_NAME* name = X509_get_subject_name(m_cert.get());
    const int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (index < 0) {
        return {};
    }
    const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
    unsigned char* utf8 = nullptr;
    const int length = ASN1_STRING_to_UTF8(&utf8, value);
    if (length < 0) {
        return {};
    }
    QString result = QString::fromUtf8(reinterpret_cast<const char*>(utf8), length);
    OPENSSL_free(utf8);
    return result;
}

QString Certificate::subjectKeyId() const {
    if (!m_cert) {
        return {};
    }
    const ASN1_OCTET_STRING* keyId = X509_get0_subject_key_id(m_cert.get());
    if (keyId == nullptr) {
        return {};
    }
    return ossl::toHex(ASN1_STRING_get0_data(keyId), ASN1_STRING_length(keyId));
}

QString Certificate::serialHex() const {
    if (!m_cert) {
        return {};
    }
    const ASN1_INTEGER* serial = X509_get0_serialNumber(m_cert.get());
    return ossl::toHex(ASN1_STRING_get0_data(serial), ASN1_STRING_length(serial));
}

QDateTime Certificate::notBefore() const {
    return m_cert ? ossl::toDateTime(X509_get0_notBefore(m_cert.get())) : QDateTime();
}

QDateTime Certificate::notAfter() const {
    return m_cert ? ossl::toDateTime(X509_get0_notAfter(m_cert.get())) : QDateTime();
}

QString Certificate::sha256Fingerprint() const {
    if (!m_cert) {
        return {};
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (X509_digest(m_cert.get(), EVP_sha256(), digest, &length) != 1) {
        return {};
    }
    return ossl::toHex(digest, static_cast<int>(length));
}

}  // namespace otafleet::crypto
