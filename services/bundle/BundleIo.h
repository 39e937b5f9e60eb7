// Internal pieces shared by the bundle writer and builder: the header encoding, the bounded
// block copy and the durable commit. Not part of the library's interface.
#pragma once

#include "bundle/Bundle.h"
#include "common/Error.h"

#include <QByteArray>
#include <QIODevice>
#include <QSaveFile>
#include <QString>

#include <functional>

namespace otafleet::bundle::detail {

// Header, manifest and the signature area (the signature in the active copy, zeros elsewhere).
[[nodiscard]] Status writeMetadata(QIODevice& out, const FrameLayout& layout,
                                   QByteArrayView manifestBytes, QByteArrayView signature);

// Copies exactly `size` bytes in 1 MiB blocks; `observe` sees each block (hashing), `advanced`
// gets the byte count after it is written (progress). `cancelled`, when set, is asked before
// each block; true ends the copy with bundle.cancelled.
[[nodiscard]] Status copyExactly(QIODevice& in, QIODevice& out, qint64 size,
                                 const QString& sourceName,
                                 const std::function<void(QByteArrayView)>& observe,
                                 const std::function<void(qint64)>& advanced,
                                 const std::function<bool()>& cancelled = {});

// Commits a QSaveFile (fsync + rename) and fsyncs its folder so the rename survives power loss.
[[nodiscard]] Status commitAtomically(QSaveFile& out, const QString& outPath);

}  // namespace otafleet::bundle::detail
