// An X.509 certificate (shared, immutable OpenSSL X509 handle) with the few accessors the
// product shows to people: subject, issuer, key id, validity.
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QString>

#include <memory>

using X509 = struct x509_st;

namespace otafleet::crypto {

class Certificate {
public:
    Certificate() = default;  // null
    // Takes ownership of one reference.
    explicit Certificate(X509* cert);

    [[nodiscard]] static Result<Certificate> fromPem(QByteArrayView pem);
    [[nodiscard]] static Result<Certificate> fromDer(QByteArrayView der);
    // Every certificate in a PEM file, in order (leaf first by convention).
    [[nodiscard]] static Result<QList<Certificate>> loadPemFile(const QString& path);

    [[nodiscard]] bool isNull() const { return !m_cert; }
    [[nodiscard]] X509* handle() const { return m_cert.get(); }
    [[nodiscard]] QByteArray toPem() const;
    [[nodiscard]] QByteArray toDer() const;
    [[nodiscard]] QString subject() const;  // one line, RFC 2253
    [[nodiscard]] QString commonName() const;
    [[nodiscard]] QString issuer() const;
    [[nodiscard]] QString subjectKeyId() const;  // hex
    [[nodiscard]] QString serialHex() const;
    [[nodiscard]] QDateTime notBefore() const;
    [[nodiscard]] QDateTime notAfter() const;
    [[nodiscard]] QString sha256Fingerprint() const;  // hex

private:
    std::shared_ptr<X509> m_cert;
};

}  // namespace otafleet::crypto
