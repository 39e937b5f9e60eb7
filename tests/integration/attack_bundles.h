// Hostile bundle bytes for the attack suite: the .otab frame written by hand (header, manifest,
// signature, payload) so a test can put any manifest, any signature and any payload together,
// and signers the fleet PKI would never hand out (no code-signing usage, already expired).
#pragma once

#include "TestPki.h"

#include "bundle/Bundle.h"
#include "common/Error.h"
#include "crypto/Certificate.h"
#include "crypto/CertificateBuilder.h"
#include "crypto/Cms.h"
#include "crypto/SigningKey.h"

#include <QDir>
#include <QFile>

#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>

namespace attack {

using namespace otafleet;

// A key with its certificate and chain, as bundle signing uses them.
struct Signer {
    std::unique_ptr<crypto::SigningKey> key;
    crypto::Certificate certificate;
    QList<crypto::Certificate> chain;
};

// The pieces of a bundle file, taken apart without trusting them.
struct Parts {
    QByteArray manifest;
    QByteArray signature;
    QByteArray payload;
};

inline Result<Parts> split(const QString& path) {
    auto reader = bundle::BundleReader::open(path);
    if (!reader)
        return std::unexpected(reader.error());
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(QStringLiteral("test.io"), path);
    file.seek(reader->payloadOffset(0));
    return Parts{reader->manifestBytes(), reader->signature(), file.readAll()};
}

// Header + manifest + signature area + payload exactly as given; the header declares the sizes
// of the given manifest and signature, whatever they are. The signature area is exactly the
// signature's size, and the spare copy is zeros.
inline QByteArray frame(const Parts& parts) {
    bundle::FrameLayout layout;
    layout.manifestSize = parts.manifest.size();
    layout.signatureSize = parts.signature.size();
    layout.signatureArea = parts.signature.size();
    return layout.encodeHeader() + parts.manifest + parts.signature +
           QByteArray(parts.signature.size(), '\0') + parts.payload;
}

inline bool writeFile(const QString& path, const QByteArray& bytes) {
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

inline Result<QByteArray> signBytes(const QByteArray& content, const Signer& signer) {
    return crypto::signDetached(content, *signer.key, signer.certificate, signer.chain);
}

inline Result<Signer> releaseSigner(const test::TestPki& pki) {
    Signer s;
    auto key = pki.pki.openReleaseKey(pki.pinProvider());
    auto cert = pki.pki.releaseSignerCertificate();
    auto chain = pki.pki.releaseSignerChain();
    if (!key || !cert || !chain)
        return std::unexpected(!key ? key.error() : !cert ? cert.error() : chain.error());
    s.key = std::move(*key);
    s.certificate = *cert;
    s.chain = *chain;
    return s;
}

// What an attacker holding one release key would make to pass a two-signer rule: one
// SignedData with two SignerInfos by the same key and certificate. Built with OpenSSL directly,
// independent of crypto::addSignature.
inline Result<QByteArray> signTwiceBySameKey(const QByteArray& content, const Signer& signer) {
    constexpr unsigned int flags = CMS_DETACHED | CMS_BINARY;
    CMS_ContentInfo* cms = CMS_sign(nullptr, nullptr, nullptr, nullptr, flags | CMS_PARTIAL);
    bool ok = cms != nullptr;
    for (int i = 0; ok && i < 2; ++i) {
        ok = CMS_add1_signer(cms, signer.certificate.handle(), signer.key->evpKey(), EVP_sha256(),
                             flags | (i > 0 ? CMS_NOCERTS : 0U)) != nullptr;
    }
    for (const crypto::Certificate& cert : signer.chain)
        ok = ok && CMS_add1_cert(cms, cert.handle()) == 1;
    BIO* in = BIO_new_mem_buf(content.constData(), int(content.size()));
    ok = ok && in && CMS_final(cms, in, nullptr, flags) == 1;
    BIO_free(in);
    QByteArray der;
    if (ok) {
        const int size = i2d_CMS_ContentInfo(cms, nullptr);
        der.resize(size > 0 ? size : 0);
        auto* out = reinterpret_cast<unsigned char*>(der.data());
        ok = size > 0 && i2d_CMS_ContentInfo(cms, &out) == size;
    }
    CMS_ContentInfo_free(cms);
    if (!ok)
        return fail(QStringLiteral("test.cms"), QStringLiteral("OpenSSL refused the CMS"));
    return der;
}

// The operator's TLS client identity: trusted root, but no code-signing usage.
inline Result<Signer> operatorSigner(const test::TestPki& pki) {
    Signer s;
    auto key = crypto::SigningKey::open(pki.pki.operatorKeyPath(), {});
    auto chain = crypto::Certificate::loadPemFile(pki.pki.operatorCertPath());
    if (!key || !chain || chain->isEmpty())
        return fail(QStringLiteral("test.operator"), pki.pki.operatorCertPath());
    s.key = std::move(*key);
    s.certificate = chain->takeFirst();
    s.chain = *chain;
    return s;
}

// A code-signing certificate from the fleet's release CA whose validity ends when it is made
// (the builder backdates notBefore by a few minutes): expired a second later. The file-key PKI
// keeps the release CA key in keys/release-ca.key.
inline Result<Signer> expiredSigner(const test::TestPki& pki, const QString& keyPath) {
    EVP_PKEY* raw = EVP_EC_gen("P-256");
    if (!raw)
        return fail(QStringLiteral("test.keygen"), keyPath);
    BIO* bio = BIO_new_file(keyPath.toLocal8Bit().constData(), "w");
    const bool written =
        bio && PEM_write_bio_PrivateKey(bio, raw, nullptr, nullptr, 0, nullptr, nullptr) == 1;
    BIO_free(bio);
    auto caKey = crypto::SigningKey::open(
        QDir(pki.pkiDir).filePath(QStringLiteral("keys/release-ca.key")), {});
    auto chain = pki.pki.releaseSignerChain();
    Result<crypto::Certificate> cert = fail(QStringLiteral("test.issue"), keyPath);
    if (written && caKey && chain) {
        cert = crypto::issueCertificate({QStringLiteral("expired release manager"),
                                         crypto::CertificateProfile::CodeSigning,
                                         raw,
                                         {},
                                         0},
                                        chain->constFirst(), (*caKey)->evpKey());
    }
    EVP_PKEY_free(raw);
    if (!cert)
        return std::unexpected(cert.error());
    auto key = crypto::SigningKey::open(keyPath, {});
    if (!key)
        return std::unexpected(key.error());
    Signer s;
    s.key = std::move(*key);
    s.certificate = *cert;
    s.chain = *chain;
    return s;
}

}  // namespace attack
