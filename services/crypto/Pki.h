// The fleet's PKI on disk: `pki init` builds it, and `--pki DIR` anywhere else means "the
// defaults init wrote there". Layout (the contract scripts rely on):
//   DIR/root-ca.pem                      trust anchor (fleet root CA)
//   DIR/pki.json                         what init made: key references, module, token label
//   DIR/ca/{release,device,server,operator}-ca.pem   intermediate CAs issued by the root
//   DIR/release.pem                      release signer certificate (code signing), chain appended
//   DIR/operator.pem, DIR/operator.key   operator TLS client identity (key 0600, PEM)
//   DIR/keys/*.key                       CA and release keys, only when no PKCS#11 token is used
// With a token, every CA key and the release key are generated inside it (non-extractable) and
// pki.json holds their pkcs11: URIs; the PIN is never written anywhere.
#pragma once

#include "common/Error.h"
#include "crypto/Certificate.h"
#include "crypto/Cms.h"
#include "crypto/SecretString.h"
#include "crypto/SigningKey.h"

#include <QString>
#include <QStringList>

#include <functional>

namespace otafleet::crypto {

struct PkiInitOptions {
    QString directory;
    QString pkcs11Module;  // empty: PEM key files (with a warning)
    QString tokenLabel;
    bool initToken = false;  // initialise (wipe) the token's slot first; needs the SO PIN
    std::function<Result<SecretString>()> pinProvider;    // user PIN
    std::function<Result<SecretString>()> soPinProvider;  // only with initToken
    QString commonNamePrefix = QStringLiteral("otafleet");
    int validityDays = 3650;
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
};

}  // namespace otafleet::crypto
