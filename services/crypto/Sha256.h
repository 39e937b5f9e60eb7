// Streaming SHA-256 (OpenSSL EVP). The one hashing primitive used for payloads and manifests.
#pragma once

#include "common/Error.h"

#include <QByteArray>

#include <functional>
#include <memory>

namespace otafleet::crypto {

class Sha256 {
public:
    static constexpr int kSize = 32;

    Sha256();
    ~Sha256();
    Sha256(Sha256&&) noexcept;
    Sha256& operator=(Sha256&&) noexcept;

    void update(QByteArrayView data);
    // Raw 32-byte digest; the object is reset and may be reused.
    [[nodiscard]] QByteArray finish();

    [[nodiscard]] static QByteArray hash(QByteArrayView data);
    // Lowercase hex of the SHA-256 OF `data` (not `data` in hex: for a digest you already
    // have, use QByteArray::toHex()).
    [[nodiscard]] static QString hex(QByteArrayView data);
    // Reads the file once in 1 MiB blocks; progress(doneBytes, totalBytes) after each block.
    [[nodiscard]] static Result<QByteArray> hashFile(
        const QString& path, const std::function<void(qint64, qint64)>& progress = {});

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace otafleet::crypto
