// Device identities seen from the device and from its peers: the PKCS#10 request a device sends
// to a factory station, and the one check of a certificate chain against the fleet root (with
// the time, purpose and CRLs) that enrolment, the agent's start and the agent's clients share,
// so that "expired", "revoked" and "not from this fleet" mean the same everywhere.
#pragma once

#include "common/Error.h"
#include "crypto/Certificate.h"
#include "crypto/SigningKey.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>

using EVP_PKEY = struct evp_pkey_st;

namespace otafleet::crypto {

// A device id is a PKI entry name, a certificate common name and a file name: keep it plain.
inline constexpr qsizetype kMaxDeviceIdLength = 64;
[[nodiscard]] bool isValidDeviceId(const QString& deviceId);

// A device's own private key: an ECDSA P-256 PEM file (mode 0600 from its creation on) or a key
// in a PKCS#11 token (generated there, never extractable).
class DeviceKey {
public:
    // A fresh key written atomically to `path` with mode 0600 (the temporary file is created
    // 0600 too, so the key is never readable by others, not even briefly). Error io.write-failed.
    [[nodiscard]] static Result<DeviceKey> createFile(const QString& path);
    // An existing key file (a retried enrolment keeps its key). Error crypto.key-unreadable.
    [[nodiscard]] static Result<DeviceKey> loadFile(const QString& path);
    // The key `uri` names in its token, generated there (P-256) when the token has no private key
    // with that label yet. Errors as SigningKey::open and Pkcs11Token.
    [[nodiscard]] static Result<DeviceKey> openOrCreateInToken(const QString& uri,
                                                               const KeyOpenOptions& options);

    [[nodiscard]] EVP_PKEY* evpKey() const;
    [[nodiscard]] bool inToken() const { return m_token != nullptr; }

private:
    std::shared_ptr<EVP_PKEY> m_key;      // file keys
    std::shared_ptr<SigningKey> m_token;  // token keys
};

// DER PKCS#10 request, subject CN=deviceId, self-signed by `key` (a software key or a token key
// opened through libp11: the signature is the proof of possession). Error crypto.sign-failed.
[[nodiscard]] Result<QByteArray> makeCertificateRequest(EVP_PKEY* key, const QString& deviceId);

enum class ChainPurpose { TlsServer, TlsClient, Any };

struct ChainCheck {
    QByteArray rootPem;    // trust anchors (the fleet root)
    QStringList crlFiles;  // PEM CRLs (what `pki crl` writes); only those the issuer signed count
    ChainPurpose purpose = ChainPurpose::Any;
    QDateTime at = QDateTime::currentDateTimeUtc();
};

// Verifies `chainPem` (leaf first, then intermediates; at most 1 MiB) against `check`. Returns
// the verified chain, leaf first, root last. Errors: crypto.certificate-unreadable,
// crypto.certificate-untrusted, crypto.certificate-expired, crypto.certificate-not-yet-valid,
// crypto.certificate-revoked (each sentence names the certificate and the date).
[[nodiscard]] Result<QList<Certificate>> verifyCertificateChain(QByteArrayView chainPem,
                                                                const ChainCheck& check);

// The device id (the leaf's common name) when `verifiedChain` (leaf first, root last, as
// verifyCertificateChain returns it) is a device identity: the leaf was issued by the fleet's
// device CA, i.e. the intermediate `pki init` named "<prefix> device CA" under the root
// "<prefix> root CA". The root signs nothing else of that name, and its intermediates cannot
// make sub-CAs (pathlen 0), so the name identifies the device CA. Empty otherwise.
[[nodiscard]] QString deviceIdOf(const QList<Certificate>& verifiedChain);

// Whether a server certificate names `host` (a DNS name or an IP address) in its
// subjectAltName, as a TLS client checks it.
[[nodiscard]] bool certificateNamesHost(const Certificate& certificate, const QString& host);

struct DeviceIdentityCheck {
    ChainCheck chain;
    QString deviceId;         // expected id; empty: any
    EVP_PKEY* key = nullptr;  // the device's key; null: not compared
};

// verifyCertificateChain (purpose TlsClient) plus: the leaf is a device
// identity, for `deviceId`, for `key`. Extra errors: crypto.not-a-device-identity,
// crypto.identity-wrong-device, crypto.identity-key-mismatch.
[[nodiscard]] Result<Certificate> verifyDeviceIdentity(QByteArrayView chainPem,
                                                       const DeviceIdentityCheck& check);

}  // namespace otafleet::crypto
