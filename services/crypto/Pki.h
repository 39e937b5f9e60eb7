// The fleet's PKI on disk: `pki init` builds it, and `--pki DIR` anywhere else means "the
// defaults init wrote there". Layout (the contract scripts rely on):
//   DIR/root-ca.pem                      trust anchor (fleet root CA)
//   DIR/pki.json                         what init made: key references, module, token label,
//                                        key_type (p256 | p384 | ed25519 | rsa-pss)
//   DIR/ca/{release,device,server,operator}-ca.pem   intermediate CAs issued by the root
//   DIR/release.pem                      release signer certificate (code signing), chain appended
//   DIR/operator.pem, DIR/operator.key   operator TLS client identity (key 0600, PEM)
//   DIR/keys/*.key                       CA and release keys, only when no PKCS#11 token is used
//   DIR/issued/NAME.pem, NAME.key        leaves `pki issue` made (certificate + CA chain; the key
//                                        file only for software keys), listed in pki.json "issued"
// With a token, every CA key and the release key are generated inside it (non-extractable) and
// pki.json holds their pkcs11: URIs; the PIN is never written anywhere.
#pragma once

#include "common/Error.h"
#include "crypto/Certificate.h"
#include "crypto/Cms.h"
#include "crypto/KeyType.h"
#include "crypto/SecretString.h"
#include "crypto/SigningKey.h"

#include <QString>
#include <QStringList>

#include <QDateTime>

#include <functional>
#include <optional>

namespace otafleet::crypto {

using PinProvider = std::function<Result<SecretString>()>;

struct PkiInitOptions {
    QString directory;
    QString pkcs11Module;  // empty: PEM key files (with a warning)
    QString tokenLabel;
    bool initToken = false;  // initialise (wipe) the token's slot first; needs the SO PIN
    std::function<Result<SecretString>()> pinProvider;    // user PIN
    std::function<Result<SecretString>()> soPinProvider;  // only with initToken
    QString commonNamePrefix = QStringLiteral("otafleet");
    int validityDays = 3650;
    // Type of every CA key and of the release key (TLS identities stay P-256); pki.json
    // records it. Ed25519 works for key files only and cannot sign releases (KeyType.h).
    KeyType keyType = KeyType::P256;
};

struct PkiInitReport {
    // Human lines: "root CA  CN=otafleet root CA  key pkcs11:...;object=root-ca".
    QStringList created;
    bool keysInToken = false;
};

struct ServerIdentity {
    QByteArray certificateChainPem;  // leaf then the server CA
    QByteArray privateKeyPem;        // leaf key, generated in software (TLS needs it in process)
};

// What `pki issue` makes, and which CA signs it.
enum class IssueKind {
    ReleaseSigner,  // release CA, EKU codeSigning; key in the token when the PKI has one
    Server,         // server CA, EKU serverAuth, subjectAltNames
    Operator,       // operator CA, EKU clientAuth
    Device,         // device CA, EKU clientAuth, common name = device id
};
[[nodiscard]] QString issueKindName(IssueKind kind);  // "release-signer", ...
[[nodiscard]] std::optional<IssueKind> parseIssueKind(const QString& text);

// RFC 5280 CRLReason values offered to operators.
enum class RevocationReason { KeyCompromise, Superseded, CessationOfOperation };
[[nodiscard]] QString revocationReasonName(RevocationReason reason);  // "keyCompromise", ...
[[nodiscard]] std::optional<RevocationReason> parseRevocationReason(const QString& text);

struct IssueOptions {
    IssueKind kind = IssueKind::Device;
    QString name;                 // [A-Za-z0-9._-], 1..64; file name, CN and token label
    QStringList subjectAltNames;  // server only; IP addresses or DNS names
    QByteArray csr;  // PEM or DER PKCS#10; empty: generate the key here. Bounded (kMaxCsrSize).
    int validityDays = 0;     // 0: the kind's default; never longer than the CA's
    PinProvider pinProvider;  // token PIN; asked at most once
    // Release signers only: the new key's type; unset means the PKI's (pki.json key_type).
    std::optional<KeyType> keyType;
};
inline constexpr qsizetype kMaxCsrSize = 64 * 1024;

// One leaf of the PKI as pki.json records it. The init-made release signer ("release") and
// operator identity ("operator") are listed too.
struct IssuedCertificate {
    QString name;
    IssueKind kind = IssueKind::Device;
    QString serial;  // hex
    QString subject;
    QDateTime notAfter;
    QString keyReference;     // pkcs11: URI, key file path (absolute), or empty (CSR: holder's key)
    QString certificatePath;  // absolute: leaf + CA chain
    bool revoked = false;
    QDateTime revokedAt;
    QString revocationReason;  // revocationReasonName()

    [[nodiscard]] bool keyInToken() const;
    // "valid", "revoked" or "expired" at `now`.
    [[nodiscard]] QString state(const QDateTime& now) const;
};

struct CrlSet {
    QByteArray pem;       // one CRL per CA, concatenated
    QStringList issuers;  // CA subjects, in the order of `pem`
    int revokedCount = 0;
};

class Pki {
public:
    // Errors: pki.exists (directory already holds a PKI), pki.token, io.write-failed, crypto.*.
    [[nodiscard]] static Result<PkiInitReport> init(const PkiInitOptions& options);
    // Error pki.not-found / pki.invalid with the directory named.
    [[nodiscard]] static Result<Pki> open(const QString& directory);

    [[nodiscard]] QString directory() const { return m_directory; }
    [[nodiscard]] QString rootCaPath() const;
    [[nodiscard]] QString operatorCertPath() const;  // chain: operator leaf + operator CA
    [[nodiscard]] QString operatorKeyPath() const;
    [[nodiscard]] QString pkcs11Module() const { return m_pkcs11Module; }
    [[nodiscard]] bool keysInToken() const { return !m_pkcs11Module.isEmpty(); }
    // The CA and default release key type init recorded (P-256 for PKIs made before types).
    [[nodiscard]] KeyType keyType() const { return m_keyType; }

    // Trust for bundle verification: the root as the only anchor.
    [[nodiscard]] Result<TrustStore> releaseTrust() const;
    // The release signer: certificate, its chain (release CA) and the key reference.
    [[nodiscard]] Result<Certificate> releaseSignerCertificate() const;
    [[nodiscard]] Result<QList<Certificate>> releaseSignerChain() const;
    [[nodiscard]] QString releaseKeyReference() const { return m_releaseKeyRef; }
    [[nodiscard]] Result<std::unique_ptr<SigningKey>> openReleaseKey(
        const std::function<Result<SecretString>()>& pinProvider) const;

    // Issues a TLS server identity from the server CA for the given DNS names / IP addresses
    // (an agent's or otafleetd's). Opens the server CA key (may ask for the PIN).
    [[nodiscard]] Result<ServerIdentity> issueServerIdentity(
        const QString& commonName, const QStringList& subjectAltNames,
        const std::function<Result<SecretString>()>& pinProvider) const;

    // Issues a device identity from the device CA: a TLS client certificate (EKU clientAuth,
    // common name = device id) with a fresh software key, as the factory station or enrolment
    // hands it to a device for mutual TLS with otafleetd. Opens the device CA key.
    [[nodiscard]] Result<ServerIdentity> issueDeviceIdentity(
        const QString& deviceId, const std::function<Result<SecretString>()>& pinProvider) const;

    // Leaves (pki issue / revoke / crl / list / export-public). Errors: pki.name-exists,
    // pki.name-invalid, pki.csr-invalid, pki.csr-not-allowed (release signer of a token PKI),
    // pki.san-not-allowed, pki.busy, pki.already-revoked, pki.crl-days, pki.unknown-name,
    // pki.token, io.write-failed, crypto.*.
    [[nodiscard]] Result<IssuedCertificate> issue(const IssueOptions& options) const;
    // The same with a common name other than `options.name`: a re-enrolled device keeps its id as
    // common name under a new, never reused entry name (enroll/EnrollmentStation.h).
    [[nodiscard]] Result<IssuedCertificate> issue(const IssueOptions& options,
                                                  const QString& commonName) const;
    [[nodiscard]] Result<IssuedCertificate> revoke(
        const QString& name, RevocationReason reason,
        const QDateTime& when = QDateTime::currentDateTimeUtc()) const;
    [[nodiscard]] Result<QList<IssuedCertificate>> issued() const;
    [[nodiscard]] Result<IssuedCertificate> find(const QString& name) const;
    // One CRL per CA with revocations (the release CA's, empty, when nothing is revoked),
    // signed by that CA's key (token or file), valid for `days`.
    [[nodiscard]] Result<CrlSet> makeCrls(int days, const PinProvider& pinProvider) const;
    // SubjectPublicKeyInfo PEM of NAME's certificate.
    [[nodiscard]] Result<QByteArray> publicKeyPem(const QString& name) const;

    // A named release signer ("release" = the init-made one) for `bundle sign --signer NAME`.
    // Errors pki.unknown-name, pki.not-a-signer, pki.signer-revoked, crypto.*.
    [[nodiscard]] Result<std::unique_ptr<SigningKey>> openSignerKey(
        const QString& name, const PinProvider& pinProvider) const;
    [[nodiscard]] Result<Certificate> signerCertificate(const QString& name) const;
    [[nodiscard]] Result<QList<Certificate>> signerChain(const QString& name) const;  // no leaf
    // releaseTrust() plus the CRLs in these PEM files (what `pki crl` writes). Error
    // crypto.crl-unreadable.
    [[nodiscard]] Result<TrustStore> releaseTrust(const QStringList& crlPaths) const;

    // PEM bundle a TLS server uses to check operator client certificates: the operator CA and
    // the root.
    [[nodiscard]] Result<QByteArray> operatorTrustPem() const;

private:
    QString m_directory;
    QString m_pkcs11Module;
    QString m_tokenLabel;
    QString m_releaseKeyRef;
    QString m_serverCaKeyRef;
    QString m_deviceCaKeyRef;
    KeyType m_keyType = KeyType::P256;
};

}  // namespace otafleet::crypto
