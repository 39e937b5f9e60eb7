// The .otab container: a fixed header, the manifest's exact bytes, a detached CMS signature over
// them, then each payload's bytes in manifest order. Layout (all integers big-endian):
//   offset 0   magic "OTAB\r\n\x1a\n" (8 bytes)
//   offset 8   u32 container format version (1)
//   offset 12  u32 manifest size   (<= Manifest::kMaxSize)
//   offset 16  u32 signature size  (<= crypto::kMaxSignatureSize; 0 while unsigned)
//   offset 20  u32 reserved, 0
//   offset 24  manifest bytes, then signature bytes, then payloads
// The file's size must equal 24 + manifest + signature + the manifest's payload sizes: shorter
// is a truncation, longer is endless data.
#pragma once

#include "bundle/Manifest.h"
#include "common/Error.h"

#include <QByteArray>
#include <QString>

#include <functional>

namespace otafleet::bundle {

inline constexpr QByteArrayView kMagic{"OTAB\r\n\x1a\n", 8};
inline constexpr quint32 kContainerVersion = 1;
inline constexpr qint64 kHeaderSize = 24;

// Reads and checks the container frame of a bundle file; trusts nothing it reads (the manifest
// is parsed but not yet verified). Errors: io.read-failed, bundle.not-a-bundle,
// bundle.unsupported-format, bundle.manifest-too-large, bundle.signature-too-large,
// bundle.truncated, bundle.trailing-data, bundle.manifest-malformed.
class BundleReader {
public:
    [[nodiscard]] static Result<BundleReader> open(const QString& path);
    // The same checks on bytes in memory (fuzzing, tests).
    [[nodiscard]] static Result<BundleReader> fromBytes(QByteArrayView bytes);

    [[nodiscard]] QString path() const { return m_path; }
    [[nodiscard]] const QByteArray& manifestBytes() const { return m_manifestBytes; }
    [[nodiscard]] const QByteArray& signature() const { return m_signature; }
    [[nodiscard]] const Manifest& manifest() const { return m_manifest; }
    [[nodiscard]] qint64 payloadOffset(int index) const;  // absolute offset in the file
    [[nodiscard]] qint64 fileSize() const { return m_fileSize; }

private:
    QString m_path;
    QByteArray m_manifestBytes;
    QByteArray m_signature;
    Manifest m_manifest;
    qint64 m_fileSize = 0;
};

// Writes a bundle: header, manifest bytes, signature, then the payload bytes copied from `path`
// (1 MiB at a time, never the whole payload in memory). Writes to a temp file and renames.
struct PayloadSource {
    QString path;       // file holding exactly entry.size bytes of stored payload
    qint64 offset = 0;  // where they start in that file (a bundle being re-signed)
};
[[nodiscard]] Status writeBundle(const QString& outPath, QByteArrayView manifestBytes,
                                 QByteArrayView signature, const QList<PayloadSource>& payloads,
                                 const std::function<void(qint64, qint64)>& progress = {});

}  // namespace otafleet::bundle
