// Pki leaf management: `pki issue` (new leaves from the matching CA, keys in the token for
// release signers when the PKI has one), `pki revoke`, the listing, public-key export and the
// named release signers `bundle sign --signer` uses.
#include "crypto/Pki.h"

#include "common/AtomicFile.h"
#include "crypto/CertificateBuilder.h"
#include "crypto/CertificateRequest.h"
#include "crypto/CryptoLogging.h"
#include "crypto/OpenSsl.h"
#include "crypto/Pkcs11Token.h"
#include "crypto/Pkcs11Uri.h"
#include "crypto/PkiLayout.h"
#include "crypto/PkiRegistry.h"

#include <openssl/pem.h>

#include <QDir>
#include <QFileInfo>
#include <QJsonObject>
#include <QRegularExpression>

#include <algorithm>

namespace otafleet::crypto {

namespace {

constexpr int kPrivateFileMode = 0600;
constexpr int kPublicFileMode = 0644;

int defaultValidityDays(IssueKind kind) {
    switch (kind) {
        case IssueKind::ReleaseSigner:
            return 1825;
        case IssueKind::Server:
            return layout::kServerValidityDays;
        case IssueKind::Operator:
            return 365;
        case IssueKind::Device:
            return layout::kDeviceValidityDays;
    }
    return 365;
}

CertificateProfile profileFor(IssueKind kind) {
    switch (kind) {
        case IssueKind::ReleaseSigner:
            return CertificateProfile::CodeSigning;
        case IssueKind::Server:
            return CertificateProfile::TlsServer;
        case IssueKind::Operator:
        case IssueKind::Device:
            return CertificateProfile::TlsClient;
    }
    return CertificateProfile::TlsClient;
}

Error unknownName(const QString& name) {
    return Error{QStringLiteral("pki.unknown-name"),
                 QStringLiteral("The PKI has no certificate named \"%1\". Run otafleetctl pki "
                                "list to see the names.")
                     .arg(name)};
}

// Names become file names, token labels and common names: keep them plain.
Status checkName(const QString& name, const QList<IssuedCertificate>& existing) {
    static const QRegularExpression pattern(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"));
    if (!pattern.match(name).hasMatch()) {
        return fail(QStringLiteral("pki.name-invalid"),
                    QStringLiteral("\"%1\" cannot name a certificate: use 1 to 64 letters, digits, "
                                   "'.', '_' or '-', starting with a letter or digit.")
                        .arg(name));
    }
    const bool reserved = name == layout::kRootKey || name == layout::kReleaseCaKey ||
                          name == layout::kDeviceCaKey || name == layout::kServerCaKey ||
                          name == layout::kOperatorCaKey;
    const bool taken = std::any_of(existing.begin(), existing.end(),
                                   [&](const IssuedCertificate& e) { return e.name == name; });
    if (reserved || taken) {
        return fail(QStringLiteral("pki.name-exists"),
                    QStringLiteral("The PKI already has a certificate or key named \"%1\"; names "
                                   "are never reused. Choose another name (revoke the old one if "
                                   "it is replaced).")
                        .arg(name));
    }
    return {};
}

// The subject key of a new leaf: from a CSR, a fresh token key, or a fresh software key.
struct LeafKey {
    ossl::EvpPkeyPtr key;      // public (CSR, token) or private (software)
    QString reference;         // pki.json key member; empty for a CSR
    QByteArray privateKeyPem;  // software keys only
};

Result<LeafKey> tokenKey(const Pki& pki, const QJsonObject& json, const QString& name, KeyType type,
                         const PinProvider& pinProvider) {
    auto pin = pinProvider();
    if (!pin) {
        return fail(pin.error());
    }
    const QString label = json.value(layout::kJsonTokenLabel).toString();
    // The raw module is finalised when `token` dies, before libp11 opens the CA key.
    auto token = Pkcs11Token::load(pki.pkcs11Module());
    if (!token) {
        return fail(token.error());
    }
    if (auto status = (*token)->open(label, *pin); !status) {
        return fail(status.error());
    }
    auto generated = (*token)->generateKey(name, type);
    if (!generated) {
        return fail(generated.error());
    }
    Pkcs11Uri uri;
    uri.token = label;
    uri.object = name;
    uri.id = generated->id;
    uri.type = QStringLiteral("private");
    return LeafKey{std::move(generated->publicKey), uri.toString(), {}};
}

Result<LeafKey> leafKey(const Pki& pki, const QJsonObject& json, const IssueOptions& options,
                        const PinProvider& pinProvider) {
    if (!options.csr.isEmpty()) {
        if (options.kind == IssueKind::ReleaseSigner && pki.keysInToken()) {
            return fail(QStringLiteral("pki.csr-not-allowed"),
                        QStringLiteral("Release signer keys of a PKI with a token are generated "
                                       "inside that token and never leave it. Drop --csr."));
        }
        auto request = CertificateRequest::parse(options.csr);
        if (!request) {
            return fail(request.error());
        }
        return LeafKey{std::move(request->publicKey), {}, {}};
    }
    if (options.kind == IssueKind::ReleaseSigner && pki.keysInToken()) {
        return tokenKey(pki, json, options.name, options.keyType.value_or(pki.keyType()),
                        pinProvider);
    }
    if (options.kind == IssueKind::ReleaseSigner) {
        // A release signer's key file: same layout as TLS leaves, but of the requested type.
        LeafKey result;
        result.key = ossl::generateKey(options.keyType.value_or(pki.keyType()));
        result.privateKeyPem = ossl::privateKeyPem(result.key.get());
        result.reference = QStringLiteral("%1/%2.key").arg(layout::kIssuedDir, options.name);
        if (result.privateKeyPem.isEmpty()) {
            return fail(QStringLiteral("crypto.sign-failed"),
                        QStringLiteral("Generating the key of %1 failed (%2).")
                            .arg(options.name, ossl::takeErrors()));
        }
        return result;
    }
    // TLS identities (servers, operators, devices) need their key in the process that uses it,
    // so they are files even when the CAs live in a token.
    LeafKey result;
    result.key = ossl::generateP256();
    result.privateKeyPem = ossl::privateKeyPem(result.key.get());
    result.reference = QStringLiteral("%1/%2.key").arg(layout::kIssuedDir, options.name);
    if (result.privateKeyPem.isEmpty()) {
        return fail(QStringLiteral("crypto.sign-failed"),
                    QStringLiteral("Generating the key of %1 failed (%2).")
                        .arg(options.name, ossl::takeErrors()));
    }
    return result;
}

}  // namespace

Result<IssuedCertificate> Pki::issue(const IssueOptions& options) const {
    return issue(options, options.name);
}

Result<IssuedCertificate> Pki::issue(const IssueOptions& options, const QString& commonName) const {
    auto change = registry::beginChange(m_directory);
    if (!change) {
        return fail(change.error());
    }
    if (auto status = checkName(options.name, change->list); !status) {
        return fail(status.error());
    }
    if (!options.subjectAltNames.isEmpty() && options.kind != IssueKind::Server) {
        return fail(QStringLiteral("pki.san-not-allowed"),
                    QStringLiteral("Subject alternative names (--san) belong to server "
                                   "certificates only."));
    }
    const QDir dir(m_directory);
    const QString caName = registry::caKeyName(options.kind);
    auto caChain = Certificate::loadPemFile(
        dir.absoluteFilePath(QStringLiteral("%1/%2.pem").arg(layout::kCaDir, caName)));
    if (!caChain) {
        return fail(caChain.error());
    }
    const PinProvider pin = registry::askOnce(options.pinProvider);
    auto key = leafKey(*this, change->json, options, pin);
    if (!key) {
        return fail(key.error());
    }
    const QString caKeyRef = registry::resolve(
        m_directory, change->json.value(layout::kJsonKeys).toObject().value(caName).toString());
    auto caKey = SigningKey::open(caKeyRef, KeyOpenOptions{m_pkcs11Module, pin});
    if (!caKey) {
        return fail(caKey.error().withContext(QStringLiteral("opening the %1 key").arg(caName)));
    }
    const Certificate ca = caChain->constFirst();
    const CertificateSpec spec{
        commonName.isEmpty() ? options.name : commonName, profileFor(options.kind), key->key.get(),
        options.subjectAltNames,
        options.validityDays > 0 ? options.validityDays : defaultValidityDays(options.kind)};
    auto leaf = issueCertificate(spec, ca, **caKey);
    if (!leaf) {
        return fail(leaf.error());
    }
    if (!dir.mkpath(layout::kIssuedDir)) {
        return fail(QStringLiteral("io.write-failed"),
                    QStringLiteral("Cannot create %1. Check the permissions of the PKI directory.")
                        .arg(dir.absoluteFilePath(layout::kIssuedDir)));
    }
    IssuedCertificate entry;
    entry.name = options.name;
    entry.kind = options.kind;
    entry.serial = leaf->serialHex();
    entry.subject = leaf->subject();
    entry.notAfter = leaf->notAfter();
    entry.keyReference = registry::resolve(m_directory, key->reference);
    entry.certificatePath =
        dir.absoluteFilePath(QStringLiteral("%1/%2.pem").arg(layout::kIssuedDir, options.name));
    if (!key->privateKeyPem.isEmpty()) {
        if (auto status =
                writeFileAtomically(entry.keyReference, key->privateKeyPem, kPrivateFileMode);
            !status) {
            return fail(status.error());
        }
    }
    if (auto status =
            writeFileAtomically(entry.certificatePath, leaf->toPem() + ca.toPem(), kPublicFileMode);
        !status) {
        return fail(status.error());
    }
    change->list.append(entry);
    if (auto status = change->commit(m_directory); !status) {
        return fail(status.error());
    }
    qCInfo(lcCrypto).noquote() << "issued" << issueKindName(options.kind) << options.name
                               << "serial" << entry.serial << "key"
                               << (entry.keyReference.isEmpty() ? QStringLiteral("(from CSR)")
                                                                : entry.keyReference);
    return entry;
}

Result<IssuedCertificate> Pki::revoke(const QString& name, RevocationReason reason,
                                      const QDateTime& when) const {
    auto change = registry::beginChange(m_directory);
    if (!change) {
        return fail(change.error());
    }
    const auto it = std::find_if(change->list.begin(), change->list.end(),
                                 [&](const IssuedCertificate& e) { return e.name == name; });
    if (it == change->list.end()) {
        return fail(unknownName(name));
    }
    if (it->revoked) {
        return fail(QStringLiteral("pki.already-revoked"),
                    QStringLiteral("%1 was already revoked on %2 (%3). Run otafleetctl pki crl to "
                                   "publish the revocation.")
                        .arg(name, it->revokedAt.toString(Qt::ISODate), it->revocationReason));
    }
    it->revoked = true;
    it->revokedAt = when.toUTC();
    it->revocationReason = revocationReasonName(reason);
    const IssuedCertificate result = *it;
    if (auto status = change->commit(m_directory); !status) {
        return fail(status.error());
    }
    qCInfo(lcCrypto).noquote() << "revoked" << name << "serial" << result.serial << "reason"
                               << result.revocationReason;
    return result;
}

Result<QList<IssuedCertificate>> Pki::issued() const {
    auto json = registry::read(m_directory);
    if (!json) {
        return fail(json.error());
    }
    return registry::entries(m_directory, *json);
}

Result<IssuedCertificate> Pki::find(const QString& name) const {
    auto list = issued();
    if (!list) {
        return fail(list.error());
    }
    for (const IssuedCertificate& entry : *list) {
        if (entry.name == name) {
            return entry;
        }
    }
    return fail(unknownName(name));
}

Result<QByteArray> Pki::publicKeyPem(const QString& name) const {
    auto entry = find(name);
    if (!entry) {
        return fail(entry.error());
    }
    auto chain = Certificate::loadPemFile(entry->certificatePath);
    if (!chain) {
        return fail(chain.error());
    }
    auto bio = ossl::writeBio();
    if (PEM_write_bio_PUBKEY(bio.get(), X509_get0_pubkey(chain->constFirst().handle())) != 1) {
        return fail(QStringLiteral("crypto.key-unreadable"),
                    QStringLiteral("Cannot export the public key of %1 (%2).")
                        .arg(name, ossl::takeErrors()));
    }
    return ossl::bioContents(bio.get());
}

namespace {

Result<IssuedCertificate> findSigner(const Pki& pki, const QString& name) {
    auto entry = pki.find(name);
    if (!entry) {
        return fail(entry.error());
    }
    if (entry->kind != IssueKind::ReleaseSigner) {
        return fail(QStringLiteral("pki.not-a-signer"),
                    QStringLiteral("%1 is a %2 certificate, not a release signer. Issue one with "
                                   "otafleetctl pki issue release-signer.")
                        .arg(name, issueKindName(entry->kind)));
    }
    if (entry->revoked) {
        return fail(
            QStringLiteral("pki.signer-revoked"),
            QStringLiteral("The release signer %1 was revoked on %2 (%3); devices refuse "
                           "its signatures. Sign with another release signer.")
                .arg(name, entry->revokedAt.toString(Qt::ISODate), entry->revocationReason));
    }
    return entry;
}

}  // namespace

Result<std::unique_ptr<SigningKey>> Pki::openSignerKey(const QString& name,
                                                       const PinProvider& pinProvider) const {
    auto entry = findSigner(*this, name);
    if (!entry) {
        return fail(entry.error());
    }
    if (entry->keyReference.isEmpty()) {
        return fail(QStringLiteral("crypto.key-not-found"),
                    QStringLiteral("The key of %1 was never in this PKI (it was issued from a "
                                   "CSR). Sign where that key lives, with --key and --cert.")
                        .arg(name));
    }
    return SigningKey::open(entry->keyReference, KeyOpenOptions{m_pkcs11Module, pinProvider});
}

Result<Certificate> Pki::signerCertificate(const QString& name) const {
    auto entry = findSigner(*this, name);
    if (!entry) {
        return fail(entry.error());
    }
    auto chain = Certificate::loadPemFile(entry->certificatePath);
    if (!chain) {
        return fail(chain.error());
    }
    return chain->constFirst();
}

Result<QList<Certificate>> Pki::signerChain(const QString& name) const {
    auto entry = findSigner(*this, name);
    if (!entry) {
        return fail(entry.error());
    }
    auto chain = Certificate::loadPemFile(entry->certificatePath);
    if (!chain) {
        return fail(chain.error());
    }
    chain->removeFirst();
    return *chain;
}

Result<TrustStore> Pki::releaseTrust(const QStringList& crlPaths) const {
    auto trust = releaseTrust();
    if (!trust) {
        return fail(trust.error());
    }
    if (auto added = trust->addCrlFiles(crlPaths); !added) {
        return fail(added.error());
    }
    return trust;
}

}  // namespace otafleet::crypto
