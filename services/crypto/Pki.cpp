#include "crypto/Pki.h"

#include "common/AtomicFile.h"
#include "crypto/CertificateBuilder.h"
#include "crypto/OpenSsl.h"
#include "crypto/Pkcs11Uri.h"
#include "crypto/PkiLayout.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

namespace otafleet::crypto {

namespace {

Error invalid(const QString& directory, const QString& why) {
    return Error{QStringLiteral("pki.invalid"),
                 QStringLiteral("%1 does not hold a usable PKI (%2). Run otafleetctl pki init "
                                "or point --pki at the directory it wrote.")
                     .arg(directory, why)};
}

// pki.json stores key files relative to the PKI so the directory can be moved; URIs stay as
// they are.
QString resolveKeyReference(const QDir& dir, const QString& reference) {
    if (reference.isEmpty() || Pkcs11Uri::looksLikeUri(reference)) {
        return reference;
    }
    return QDir::cleanPath(dir.absoluteFilePath(reference));
}

Result<QList<Certificate>> loadChain(const QString& path) {
    auto certificates = Certificate::loadPemFile(path);
    if (!certificates) {
        return fail(certificates.error());
    }
    return *certificates;
}

}  // namespace

Result<Pki> Pki::open(const QString& directory) {
    const QDir dir(directory);
    const QString jsonPath = dir.absoluteFilePath(layout::kPkiJson);
    if (!QFileInfo::exists(jsonPath)) {
        return fail(QStringLiteral("pki.not-found"),
                    QStringLiteral("No PKI in %1 (no %2). Run otafleetctl pki init --dir %1 first "
                                   "or check --pki.")
                        .arg(dir.absolutePath(), QString(layout::kPkiJson)));
    }
    auto content = readFileBounded(jsonPath, layout::kMaxPkiJsonSize);
    if (!content) {
        return fail(invalid(dir.absolutePath(), content.error().message));
    }
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(*content, &parseError);
    if (!document.isObject()) {
        return fail(invalid(dir.absolutePath(),
                            QStringLiteral("pki.json: %1").arg(parseError.errorString())));
    }
    const QJsonObject json = document.object();
    if (json.value(layout::kJsonFormat).toInt() != layout::kFormatVersion) {
        return fail(
            invalid(dir.absolutePath(), QStringLiteral("pki.json format %1 is not supported")
                                            .arg(json.value(layout::kJsonFormat).toInt())));
    }
    const QJsonObject keys = json.value(layout::kJsonKeys).toObject();
    Pki pki;
    pki.m_directory = dir.absolutePath();
    pki.m_pkcs11Module = json.value(layout::kJsonModule).toString();
    pki.m_tokenLabel = json.value(layout::kJsonTokenLabel).toString();
    // PKIs made before key types existed hold P-256 keys.
    const auto keyType =
        parseKeyType(json.value(layout::kJsonKeyType).toString(keyTypeName(KeyType::P256)));
    if (!keyType) {
        return fail(
            invalid(dir.absolutePath(), QStringLiteral("pki.json key_type is not one of %1")
                                            .arg(keyTypeNames().join(QStringLiteral(", ")))));
    }
    pki.m_keyType = *keyType;
    pki.m_releaseKeyRef = resolveKeyReference(dir, keys.value(layout::kReleaseKey).toString());
    pki.m_serverCaKeyRef = resolveKeyReference(dir, keys.value(layout::kServerCaKey).toString());
    pki.m_deviceCaKeyRef = resolveKeyReference(dir, keys.value(layout::kDeviceCaKey).toString());
    if (pki.m_releaseKeyRef.isEmpty() || pki.m_serverCaKeyRef.isEmpty()) {
        return fail(invalid(dir.absolutePath(), QStringLiteral("pki.json names no keys")));
    }
    for (const QString& file : {QString(layout::kRootCa), QString(layout::kReleaseCert),
                                QString(layout::kOperatorCert)}) {
        if (!QFileInfo::exists(dir.absoluteFilePath(file))) {
            return fail(invalid(dir.absolutePath(), QStringLiteral("%1 is missing").arg(file)));
        }
    }
    return pki;
}

QString Pki::rootCaPath() const {
    return QDir(m_directory).absoluteFilePath(layout::kRootCa);
}

QString Pki::operatorCertPath() const {
    return QDir(m_directory).absoluteFilePath(layout::kOperatorCert);
}

QString Pki::operatorKeyPath() const {
    return QDir(m_directory).absoluteFilePath(layout::kOperatorKey);
}

Result<TrustStore> Pki::releaseTrust() const {
    return TrustStore::fromPemFile(rootCaPath());
}

Result<Certificate> Pki::releaseSignerCertificate() const {
    auto chain = loadChain(QDir(m_directory).absoluteFilePath(layout::kReleaseCert));
    if (!chain) {
        return fail(chain.error());
    }
    return chain->constFirst();
}

Result<QList<Certificate>> Pki::releaseSignerChain() const {
    auto chain = loadChain(QDir(m_directory).absoluteFilePath(layout::kReleaseCert));
    if (!chain) {
        return fail(chain.error());
    }
    chain->removeFirst();
    return *chain;
}

Result<std::unique_ptr<SigningKey>> Pki::openReleaseKey(
    const std::function<Result<SecretString>()>& pinProvider) const {
    return SigningKey::open(m_releaseKeyRef, KeyOpenOptions{m_pkcs11Module, pinProvider});
}

namespace {

// A leaf with a fresh software key from one of the PKI's CAs; the chain is leaf + that CA.
Result<ServerIdentity> issueIdentity(const Pki& pki, const QString& caName, const QString& caKeyRef,
                                     const CertificateSpec& leafSpec,
                                     const std::function<Result<SecretString>()>& pinProvider) {
    auto caChain =
        loadChain(QDir(pki.directory())
                      .absoluteFilePath(QStringLiteral("%1/%2.pem").arg(layout::kCaDir, caName)));
    if (!caChain) {
        return fail(caChain.error());
    }
    const Certificate ca = caChain->constFirst();
    auto caKey = SigningKey::open(caKeyRef, KeyOpenOptions{pki.pkcs11Module(), pinProvider});
    if (!caKey) {
        return fail(caKey.error().withContext(QStringLiteral("opening the %1 key").arg(caName)));
    }
    const ossl::EvpPkeyPtr leafKey = ossl::generateP256();
    CertificateSpec spec = leafSpec;
    spec.subjectKey = leafKey.get();
    auto leaf = issueCertificate(spec, ca, **caKey);
    if (!leaf) {
        return fail(leaf.error());
    }
    ServerIdentity identity;
    identity.certificateChainPem = leaf->toPem() + ca.toPem();
    identity.privateKeyPem = ossl::privateKeyPem(leafKey.get());
    return identity;
}

}  // namespace

Result<ServerIdentity> Pki::issueServerIdentity(
    const QString& commonName, const QStringList& subjectAltNames,
    const std::function<Result<SecretString>()>& pinProvider) const {
    return issueIdentity(*this, layout::kServerCaKey, m_serverCaKeyRef,
                         {commonName, CertificateProfile::TlsServer, nullptr, subjectAltNames,
                          layout::kServerValidityDays},
                         pinProvider);
}

Result<ServerIdentity> Pki::issueDeviceIdentity(
    const QString& deviceId, const std::function<Result<SecretString>()>& pinProvider) const {
    if (m_deviceCaKeyRef.isEmpty()) {
        return fail(invalid(m_directory, QStringLiteral("pki.json names no device CA key")));
    }
    return issueIdentity(
        *this, layout::kDeviceCaKey, m_deviceCaKeyRef,
        {deviceId, CertificateProfile::TlsClient, nullptr, {}, layout::kDeviceValidityDays},
        pinProvider);
}

Result<QByteArray> Pki::operatorTrustPem() const {
    const QDir dir(m_directory);
    QByteArray bundle;
    for (const QString& file :
         {QStringLiteral("%1/%2.pem").arg(layout::kCaDir, layout::kOperatorCaKey),
          QString(layout::kRootCa)}) {
        auto content = readFileBounded(dir.absoluteFilePath(file), layout::kMaxPemFileSize);
        if (!content) {
            return fail(invalid(m_directory, content.error().message));
        }
        bundle += *content;
    }
    return bundle;
}

}  // namespace otafleet::crypto
