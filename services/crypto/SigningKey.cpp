#include "crypto/SigningKey.h"

#include "common/AtomicFile.h"
#include "crypto/CryptoLogging.h"
#include "crypto/OpenSsl.h"
#include "crypto/Pkcs11SigningKey.h"
#include "crypto/Pkcs11Uri.h"

#include <openssl/pem.h>

#include <QFileInfo>
#include <QSet>

#include <mutex>

namespace otafleet::crypto {

namespace {

constexpr qint64 kMaxKeyFileSize = 64 * 1024;

// A key read from a PEM file: for trials and for TLS identities that must live in the process.
class PemSigningKey final : public SigningKey {
public:
    PemSigningKey(ossl::EvpPkeyPtr key, QString path)
        : m_key(std::move(key)), m_path(std::move(path)) {}

    EVP_PKEY* evpKey() const override { return m_key.get(); }
    bool isHardware() const override { return false; }
    QString description() const override { return m_path; }

private:
    ossl::EvpPkeyPtr m_key;
    QString m_path;
};

// Once per key file and process: a signing run that opens the same file many times should not
// bury its output in the same warning.
void warnOnce(const QString& path) {
    static std::mutex mutex;
    static QSet<QString> warned;
    const std::lock_guard lock(mutex);
    if (warned.contains(path)) {
        return;
    }
    warned.insert(path);
    qCWarning(lcCrypto).noquote()
        << "signing with the key file" << path
        << "- key files are for trials; keep release keys in a PKCS#11 token";
}

Result<std::unique_ptr<SigningKey>> openPemKey(const QString& path) {
    if (!QFileInfo::exists(path)) {
        return fail(QStringLiteral("crypto.key-not-found"),
                    QStringLiteral("The key file %1 does not exist. Check the path or use a "
                                   "pkcs11: URI.")
                        .arg(path));
    }
    auto pem = readFileBounded(path, kMaxKeyFileSize);
    if (!pem) {
        return fail(QStringLiteral("crypto.key-unreadable"), pem.error().message);
    }
    auto bio = ossl::readBio(*pem);
    // An empty passphrase callback result makes encrypted keys fail instead of prompting on
    // stdin behind the caller's back.
    ossl::EvpPkeyPtr key(PEM_read_bio_PrivateKey(
        bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr));
    if (!key) {
        return fail(QStringLiteral("crypto.key-unreadable"),
                    QStringLiteral("%1 is not an unencrypted PEM private key (%2).")
                        .arg(path, ossl::takeErrors()));
    }
    warnOnce(path);
    return std::unique_ptr<SigningKey>(new PemSigningKey(std::move(key), path));
}

}  // namespace

Error signingFailed(const QString& keyDescription, const QString& detail) {
    return Error{QStringLiteral("crypto.sign-failed"),
                 QStringLiteral("Signing with %1 failed (%2). Check that the key matches the "
                                "certificate and that the token is present.")
                     .arg(keyDescription, detail)};
}

std::unique_ptr<SigningKey> SigningKey::fromEvpKey(EVP_PKEY* key, const QString& description) {
    if (key != nullptr) {
        EVP_PKEY_up_ref(key);
    }
    return std::unique_ptr<SigningKey>(new PemSigningKey(ossl::EvpPkeyPtr(key), description));
}

Result<QByteArray> SigningKey::sign(QByteArrayView message) const {
    ossl::clearErrors();
    EVP_PKEY* key = evpKey();
    const EVP_MD* digest = ossl::signingDigest(key);
    ossl::EvpMdCtxPtr context(EVP_MD_CTX_new());
    EVP_PKEY_CTX* keyContext = nullptr;
    const auto* data = reinterpret_cast<const unsigned char*>(message.data());
    const auto dataSize = static_cast<size_t>(message.size());
    size_t length = 0;
    if (!context ||
        EVP_DigestSignInit_ex(context.get(), &keyContext,
                              digest == nullptr ? nullptr : EVP_MD_get0_name(digest), nullptr,
                              nullptr, key, nullptr) != 1 ||
        !ossl::configureSignature(keyContext, key) ||
        EVP_DigestSign(context.get(), nullptr, &length, data, dataSize) != 1) {
        return fail(signingFailed(description(), ossl::takeErrors()));
    }
    QByteArray signature(static_cast<qsizetype>(length), Qt::Uninitialized);
    // One-shot: Ed25519 cannot stream, and ECDSA/RSA do the same work either way.
    if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                       data, dataSize) != 1) {
        return fail(signingFailed(description(), ossl::takeErrors()));
    }
    signature.truncate(static_cast<qsizetype>(length));
    return signature;
}

Result<std::unique_ptr<SigningKey>> SigningKey::open(const QString& reference,
                                                     const KeyOpenOptions& options) {
    if (Pkcs11Uri::looksLikeUri(reference)) {
        return openPkcs11SigningKey(reference, options);
    }
    return openPemKey(reference);
}

}  // namespace otafleet::crypto
