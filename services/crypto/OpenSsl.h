// Internal glue to OpenSSL: owning smart pointers for its handles, its error queue as text, and
// memory BIOs over Qt byte arrays. Only crypto/*.cpp include this.
#pragma once

#include "crypto/KeyType.h"

#include <QByteArray>
#include <QDateTime>
#include <QString>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace otafleet::crypto::ossl {

template <auto FreeFunction>
struct Deleter {
    template <typename T>
    void operator()(T* pointer) const {
        FreeFunction(pointer);
    }
};

struct X509StackDeleter {
    void operator()(STACK_OF(X509) * stack) const { sk_X509_pop_free(stack, X509_free); }
};

using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using X509CrlPtr = std::unique_ptr<X509_CRL, Deleter<X509_CRL_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackDeleter>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using CmsPtr = std::unique_ptr<CMS_ContentInfo, Deleter<CMS_ContentInfo_free>>;
using ExtendedKeyUsagePtr = std::unique_ptr<EXTENDED_KEY_USAGE, Deleter<EXTENDED_KEY_USAGE_free>>;

// Drains OpenSSL's thread-local error queue into one line ("reason; reason"), or `fallback`
// when the queue is empty.
[[nodiscard]] QString takeErrors(const QString& fallback = QStringLiteral("unknown OpenSSL error"));
// Forgets queued errors (after a failure that was handled).
void clearErrors();

// A read-only BIO over `data`; `data` must outlive it.
[[nodiscard]] BioPtr readBio(QByteArrayView data);
[[nodiscard]] BioPtr writeBio();
[[nodiscard]] QByteArray bioContents(BIO* bio);

[[nodiscard]] QDateTime toDateTime(const ASN1_TIME* time);
[[nodiscard]] QString toHex(const unsigned char* data, int length);

// Fresh software ECDSA P-256 key.
[[nodiscard]] EvpPkeyPtr generateP256();
// Fresh software key of that type (RSA: 3072 bits, used with PSS padding).
[[nodiscard]] EvpPkeyPtr generateKey(KeyType type);
// Signs `cert` (or `crl`) with the issuer key's digest and padding (crypto/KeyType.h).
[[nodiscard]] bool signCertificate(X509* cert, EVP_PKEY* issuerKey);
[[nodiscard]] bool signCrl(X509_CRL* crl, EVP_PKEY* issuerKey);
// Unencrypted PKCS#8 PEM of a private key (for keys meant to live in files with mode 0600).
[[nodiscard]] QByteArray privateKeyPem(EVP_PKEY* key);
// DER SubjectPublicKeyInfo; equal for the same key whether it lives in a token or a file.
[[nodiscard]] QByteArray publicKeyDer(EVP_PKEY* key);
// DER of one universal TLV around `content`: SEQUENCE and SET constructed, other tags primitive.
// For the few structures assembled by hand around a signature made outside OpenSSL.
[[nodiscard]] QByteArray derTlv(int tag, QByteArrayView content);
// The DER an i2d_* function writes for `object`, empty on failure.
template <typename T, typename I2d>
[[nodiscard]] QByteArray toDer(I2d i2d, T* object) {
    unsigned char* der = nullptr;
    const int length = i2d(object, &der);
    if (length <= 0) {
        return {};
    }
    QByteArray result(reinterpret_cast<const char*>(der), length);
    OPENSSL_free(der);
    return result;
}

}  // namespace otafleet::crypto::ossl
