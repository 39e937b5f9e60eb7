// Detached CMS SignedData over exact bytes (the bundle manifest). One way to sign and one way to
// verify, used by otafleetctl, the console and the agent alike. `openssl cms -verify -binary`
// accepts what signDetached makes.
#pragma once

#include "common/Error.h"
#include "crypto/Certificate.h"
#include "crypto/SigningKey.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QStringList>

namespace otafleet::crypto {

// What a verifier trusts. Anchors are roots; intermediates help build chains (the signature
// itself carries the signer's chain too); CRLs mark revoked signers.
struct TrustStore {
    QList<Certificate> anchors;
    QList<Certificate> intermediates;
    QList<QByteArray> crlsPem;

    // Loads every certificate of a PEM file as anchors. Error crypto.trust-unreadable.
    [[nodiscard]] static Result<TrustStore> fromPemFile(const QString& path);
    // Appends the CRLs of these PEM files (what `pki crl` writes; each at most 4 MiB, holding at
    // least one CRL). Error crypto.crl-unreadable naming the file.
    [[nodiscard]] Status addCrlFiles(const QStringList& paths);
};

struct VerifiedSigner {
    Certificate certificate;
    QList<Certificate> chain;  // signer's issuers up to and including the anchor
};

// Signs `content` and attaches signer certificate plus chain (issuers, no root). Digest and
// padding follow the key (KeyType.h): P-256 SHA-256, P-384 SHA-384, RSA-PSS SHA-256/MGF1/salt 32,
// Ed25519 as RFC 8419 (SHA-512 message digest, pure Ed25519 over the signed attributes; built by
// otafleet itself because OpenSSL 3.0's CMS cannot, so `openssl cms -verify` 3.0 cannot check
// those SignerInfos, GnuTLS `certtool --p7-verify` can). Token keys only SigningKey::sign() can
// use get the same self-built SignerInfo. Error crypto.sign-failed (with the OpenSSL or token
// reason).
[[nodiscard]] Result<QByteArray> signDetached(QByteArrayView content, const SigningKey& key,
                                              const Certificate& signer,
                                              const QList<Certificate>& chain);

// Adds one more SignerInfo to an existing detached signature over the same content (two-person
// release signing); the new signer may use another key type than the existing ones. Errors as
// signDetached, crypto.signature-malformed, crypto.signature-invalid.
[[nodiscard]] Result<QByteArray> addSignature(QByteArrayView existingDer, QByteArrayView content,
                                              const SigningKey& key, const Certificate& signer,
                                              const QList<Certificate>& chain);

// Verifies every SignerInfo of `cmsDer` over `content` at time `now`; each signer must chain to
// an anchor, carry the code-signing extended key usage, be valid at `now` and not be revoked.
// Succeeds when at least `threshold` distinct signer certificates (by public key) verify.
// Errors, each with its own code: crypto.signature-missing (empty), crypto.signature-malformed,
// crypto.signature-invalid (content or signature altered), crypto.untrusted-signer,
// crypto.signer-not-code-signing, crypto.signer-expired, crypto.signer-revoked,
// crypto.threshold-not-met. Input sizes are bounded (kMaxSignatureSize).
inline constexpr qsizetype kMaxSignatureSize = 256 * 1024;
[[nodiscard]] Result<QList<VerifiedSigner>> verifyDetached(QByteArrayView content,
                                                           QByteArrayView cmsDer,
                                                           const TrustStore& trust,
                                                           const QDateTime& now, int threshold = 1);

}  // namespace otafleet::crypto
