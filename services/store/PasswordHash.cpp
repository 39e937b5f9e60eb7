#include "store/PasswordHash.h"

#include <QList>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <memory>
#include <optional>

namespace otafleet::store {
namespace {

// N = 2^15, r = 8, p = 1: 32 MiB and ~0.1 s per hash on a small server, the interactive-login
// cost RFC 7914 suggests.
constexpr quint64 kCostN = 1U << 15;
constexpr quint32 kBlockR = 8;
constexpr quint32 kParallelP = 1;
constexpr int kSaltBytes = 16;
constexpr int kHashBytes = 32;
// What a stored hash may ask for: bounds the work a tampered database row can cause.
constexpr quint64 kMaxCostN = 1U << 20;
constexpr quint64 kMaxMemory = 1024ULL * 1024 * 1024;

struct KdfFree {
    void operator()(EVP_KDF* k) const { EVP_KDF_free(k); }
};
struct KdfCtxFree {
    void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); }
};

std::optional<QByteArray> scrypt(const QByteArray& password, const QByteArray& salt, quint64 n,
                                 quint32 r, quint32 p, int length) {
    std::unique_ptr<EVP_KDF, KdfFree> kdf(EVP_KDF_fetch(nullptr, "SCRYPT", nullptr));
    if (!kdf)
        return std::nullopt;
    std::unique_ptr<EVP_KDF_CTX, KdfCtxFree> ctx(EVP_KDF_CTX_new(kdf.get()));
    if (!ctx)
        return std::nullopt;
    uint64_t nParam = n;
    uint32_t rParam = r;
    uint32_t pParam = p;
    uint64_t maxMem = kMaxMemory;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
                                          const_cast<char*>(password.constData()),
                                          static_cast<size_t>(password.size())),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.constData()),
                                          static_cast<size_t>(salt.size())),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &nParam),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &rParam),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &pParam),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxMem),
        OSSL_PARAM_construct_end()};
    QByteArray out(length, '\0');
    if (EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()),
                       static_cast<size_t>(out.size()), params) != 1) {
        return std::nullopt;
    }
    return out;
}

}  // namespace

Result<QString> PasswordHash::make(const QByteArray& password) {
    if (password.size() < kMinLength || password.size() > kMaxLength) {
        return fail(QStringLiteral("store.password-invalid"),
                    QStringLiteral("A password must have %1 to %2 bytes; choose another one.")
                        .arg(kMinLength)
                        .arg(kMaxLength));
    }
    QByteArray salt(kSaltBytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), kSaltBytes) != 1) {
        return fail(QStringLiteral("store.kdf-failed"),
                    QStringLiteral("No random salt could be made; check the system's entropy."));
    }
    const auto hash = scrypt(password, salt, kCostN, kBlockR, kParallelP, kHashBytes);
    if (!hash) {
        return fail(QStringLiteral("store.kdf-failed"),
                    QStringLiteral("OpenSSL's scrypt is not available; install OpenSSL 3."));
    }
    return QStringLiteral("scrypt$%1$%2$%3$%4$%5")
        .arg(kCostN)
        .arg(kBlockR)
        .arg(kParallelP)
        .arg(QString::fromLatin1(salt.toBase64()), QString::fromLatin1(hash->toBase64()));
}

bool PasswordHash::matches(const QByteArray& password, const QString& stored) {
    if (password.isEmpty() || password.size() > kMaxLength)
        return false;
    const QStringList parts = stored.split(u'$');
    if (parts.size() != 6 || parts.at(0) != u"scrypt")
        return false;
    bool okN = false;
    bool okR = false;
    bool okP = false;
    const quint64 n = parts.at(1).toULongLong(&okN);
    const quint32 r = parts.at(2).toUInt(&okR);
    const quint32 p = parts.at(3).toUInt(&okP);
    if (!okN || !okR || !okP || n < 2 || n > kMaxCostN || (n & (n - 1)) != 0 || r == 0 || r > 32 ||
        p == 0 || p > 16) {
        return false;
    }
    const QByteArray salt = QByteArray::fromBase64(parts.at(4).toLatin1());
    const QByteArray expected = QByteArray::fromBase64(parts.at(5).toLatin1());
    if (salt.isEmpty() || expected.size() < 16 || expected.size() > 64)
        return false;
    const auto actual = scrypt(password, salt, n, r, p, static_cast<int>(expected.size()));
    return actual && CRYPTO_memcmp(actual->constData(), expected.constData(),
                                   static_cast<size_t>(expected.size())) == 0;
}

}  // namespace otafleet::store
