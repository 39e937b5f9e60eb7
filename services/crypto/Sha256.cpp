#include "crypto/Sha256.h"

#include "crypto/OpenSsl.h"

#include <QFile>

namespace otafleet::crypto {

namespace {
constexpr qint64 kFileBlockSize = 1024 * 1024;
}

struct Sha256::Impl {
    ossl::EvpMdCtxPtr context{EVP_MD_CTX_new()};

    void reset() { EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr); }
};

Sha256::Sha256() : d(std::make_unique<Impl>()) {
    d->reset();
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(QByteArrayView data) {
    EVP_DigestUpdate(d->context.get(), data.data(), static_cast<size_t>(data.size()));
}

QByteArray Sha256::finish() {
    QByteArray digest(kSize, Qt::Uninitialized);
    unsigned int length = 0;
    EVP_DigestFinal_ex(d->context.get(), reinterpret_cast<unsigned char*>(digest.data()), &length);
    d->reset();
    return digest;
}

QByteArray Sha256::hash(QByteArrayView data) {
    Sha256 hasher;
    hasher.update(data);
    return hasher.finish();
}

QString Sha256::hex(QByteArrayView data) {
    return QString::fromLatin1(hash(data).toHex());
}

Result<QByteArray> Sha256::hashFile(const QString& path,
                                    const std::function<void(qint64, qint64)>& progress) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return fail(QStringLiteral("io.read-failed"),
                    QStringLiteral("Cannot open %1 to hash it: %2. Check that the file exists "
                                   "and is readable.")
                        .arg(path, file.errorString()));
    }
    const qint64 total = file.size();
    Sha256 hasher;
    qint64 done = 0;
    QByteArray block(kFileBlockSize, Qt::Uninitialized);
    while (true) {
        const qint64 read = file.read(block.data(), kFileBlockSize);
        if (read < 0) {
            return fail(QStringLiteral("io.read-failed"),
                        QStringLiteral("Reading %1 failed after %2 bytes: %3.")
                            .arg(path)
                            .arg(done)
                            .arg(file.errorString()));
        }
        if (read == 0) {
            break;
        }
        hasher.update(QByteArrayView(block.constData(), read));
        done += read;
        if (progress) {
            progress(done, total);
        }
    }
    return hasher.finish();
}

}  // namespace otafleet::crypto
