#include "mcusim/SimIdentity.h"

#include "common/AtomicFile.h"
#include "crypto/Certificate.h"
#include "crypto/DeviceIdentity.h"
#include "smp/SmpProvisioning.h"

#include <QCborArray>
#include <QCborValue>
#include <QDir>
#include <QFile>

#include <openssl/evp.h>
#include <openssl/x509.h>

namespace otafleet::mcusim {
namespace {

namespace provision = smp::provision;
using provision::ProvisionRc;

std::unexpected<smp::DeviceError> refuse(ProvisionRc rc, const QString& reason) {
    return std::unexpected(smp::DeviceError{int(provision::kGroup), int(rc), reason});
}

}  // namespace

SimIdentity::SimIdentity(QString dir, QString serialNumber)
    : m_dir(std::move(dir)), m_serialNumber(std::move(serialNumber)) {}

QString SimIdentity::keyPath() const {
    return QDir(m_dir).filePath(QStringLiteral("identity.key"));
}

QString SimIdentity::chainPath() const {
    return QDir(m_dir).filePath(QStringLiteral("identity.pem"));
}

DeviceResult<QCborMap> SimIdentity::identity() const {
    return QCborMap{{QStringLiteral("sn"), m_serialNumber},
                    {QStringLiteral("key"), QFile::exists(keyPath())},
                    {QStringLiteral("cert"), QFile::exists(chainPath())}};
}

DeviceResult<QCborMap> SimIdentity::csr() {
    // The key is made once and kept: a station that asks again (a retried unit) certifies the
    // same key.
    auto key = QFile::exists(keyPath()) ? crypto::DeviceKey::loadFile(keyPath())
                                        : crypto::DeviceKey::createFile(keyPath());
    if (!key) {
        return refuse(ProvisionRc::KeyFailed, key.error().message);
    }
    auto request = crypto::makeCertificateRequest(key->evpKey(), m_serialNumber);
    if (!request) {
        return refuse(ProvisionRc::KeyFailed, request.error().message);
    }
    return QCborMap{{QStringLiteral("csr"), *request}};
}

DeviceResult<QCborMap> SimIdentity::storeChain(const QCborMap& request) {
    if (!QFile::exists(keyPath())) {
        return refuse(ProvisionRc::NoKey, QStringLiteral("no identity key yet; read csr first"));
    }
    const QCborValue chain = request.value(QStringLiteral("chain"));
    if (!chain.isArray() || chain.toArray().isEmpty()) {
        return refuse(ProvisionRc::BadCertificate,
                      QStringLiteral("\"chain\" must be an array of DER certificates"));
    }
    if (chain.toArray().size() > provision::kMaxChainCertificates) {
        return refuse(
            ProvisionRc::TooLarge,
            QStringLiteral("at most %1 certificates").arg(provision::kMaxChainCertificates));
    }
    QByteArray pem;
    QList<crypto::Certificate> certificates;
    for (const QCborValue& entry : chain.toArray()) {
        if (!entry.isByteArray() || entry.toByteArray().size() > provision::kMaxCertificate) {
            return refuse(ProvisionRc::BadCertificate,
                          QStringLiteral("a chain entry is not a DER certificate of at most %1 "
                                         "bytes")
                              .arg(provision::kMaxCertificate));
        }
        auto certificate = crypto::Certificate::fromDer(entry.toByteArray());
        if (!certificate) {
            return refuse(ProvisionRc::BadCertificate, certificate.error().message);
        }
        pem += certificate->toPem();
        certificates.append(std::move(*certificate));
    }
    const auto key = crypto::DeviceKey::loadFile(keyPath());
    if (!key) {
        return refuse(ProvisionRc::KeyFailed, key.error().message);
    }
    if (EVP_PKEY_eq(X509_get0_pubkey(certificates.first().handle()), key->evpKey()) != 1) {
        return refuse(ProvisionRc::KeyMismatch,
                      QStringLiteral("the leaf certificate is for another key"));
    }
    if (const Status written = writeFileAtomically(chainPath(), pem, 0644); !written) {
        return refuse(ProvisionRc::StoreFailed, written.error().message);
    }
    return QCborMap();
}

}  // namespace otafleet::mcusim
