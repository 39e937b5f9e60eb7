// zstd compression of a full payload while a bundle is created (encoding "zstd"): the source is
// read once, in blocks, and both digests the manifest needs come out of the same pass. Internal.
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QIODevice>
#include <QString>

namespace otafleet::bundle::detail {

struct CompressedPayload {
    quint64 storedSize = 0;   // compressed bytes written to `out`
    QByteArray storedSha256;  // of the compressed bytes
    quint64 targetSize = 0;   // the source's size
    QByteArray targetSha256;  // of the source
};

inline constexpr int kZstdLevel = 9;

// The window log a zstd-patch needs so that the end of the target can still reach the start of
// the base (zstd's --patch-from rule); clamped to what zstd supports.
[[nodiscard]] int patchWindowLog(quint64 baseSize, quint64 targetSize);

// Compresses `sourcePath` into `out` (a temporary file beside the bundle).
[[nodiscard]] Result<CompressedPayload> compressPayload(const QString& sourcePath, QIODevice& out,
                                                        int level = kZstdLevel);

}  // namespace otafleet::bundle::detail
