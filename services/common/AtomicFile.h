// Durable file replacement: write to a temp file beside the target, fsync it, rename it over the
// target, fsync the directory. A crash at any instant leaves either the old or the new content.
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QString>

namespace otafleet {

// Error code "io.write-failed" with the path and the OS's reason.
[[nodiscard]] Status writeFileAtomically(const QString& path, QByteArrayView content,
                                         int permissions = 0644);

// Reads a whole file, refusing files larger than maxBytes ("io.too-large") so that a
// corrupted or hostile file cannot exhaust memory.
[[nodiscard]] Result<QByteArray> readFileBounded(const QString& path, qint64 maxBytes);

// fsync of a directory, so that a rename or a new file in it survives a power cut.
[[nodiscard]] Status syncDirectory(const QString& directory);

}  // namespace otafleet
