// The .otab container: a fixed header, the manifest's exact bytes, a detached CMS signature over
// them, then each payload's bytes in manifest order. Format 2 (written; all integers
// big-endian):
//   offset 0   magic "OTAB\r\n\x1a\n" (8 bytes)
//   offset 8   u32 container format version (2)
//   offset 12  u32 manifest size        (<= Manifest::kMaxSize)
//   offset 16  u32 signature size       (<= signature area; 0 while unsigned)
//   offset 20  u32 signature area size  (capacity of each of the two copies below)
//   offset 24  u32 active signature copy (0 or 1)
//   offset 28  u32 reserved, 0
//   offset 32  manifest bytes, then two signature copies of `area` bytes each (the active one
//              holds the signature, then zeros), then payloads
// Two copies make adding a signature (two-person signing) cheap and safe: the new signature is
// written into the inactive copy and made durable, then the header is switched in one small
// write. The payloads are never read or moved, and a crash leaves the old signature in force.
// Format 1 (still read): a 24-byte header whose word at offset 20 is 0 and one signature of
// exactly `signature size` bytes.
// The file's size must equal the payloads' start plus the manifest's payload sizes: shorter is
// a truncation, longer is endless data.
#pragma once

#include "bundle/Manifest.h"
#include "common/Error.h"

#include <QByteArray>
#include <QString>

#include <functional>

namespace otafleet::bundle {

inline constexpr QByteArrayView kMagic{"OTAB\r\n\x1a\n", 8};
inline constexpr quint32 kContainerVersion = 2;        // written
inline constexpr quint32 kLegacyContainerVersion = 1;  // still read
inline constexpr qint64 kHeaderSize = 32;
inline constexpr qint64 kLegacyHeaderSize = 24;
// Room for about eight signers with their chains; a signature that does not fit makes
// `bundle sign` rewrite the file once with a larger area.
inline constexpr qint64 kDefaultSignatureArea = 16 * 1024;

// Where a bundle's parts sit, as its header declares them.
struct FrameLayout {
    quint32 version = kContainerVersion;
    qint64 manifestSize = 0;
    qint64 signatureSize = 0;
    qint64 signatureArea = 0;  // capacity of one copy; format 1: the signature's size
    int activeCopy = 0;

    [[nodiscard]] qint64 headerSize() const;
    [[nodiscard]] int copies() const;
    [[nodiscard]] qint64 signatureOffset(int copy) const;
    [[nodiscard]] qint64 payloadStart() const;
    [[nodiscard]] QByteArray encodeHeader() const;  // format 2 only
};

// A format-2 layout for a manifest and a signature, with an area of at least kDefaultSignatureArea
// and room to spare for more signers.
[[nodiscard]] FrameLayout layoutFor(qint64 manifestSize, qint64 signatureSize);

// Checks the fixed header at the start of a file or buffer of `available` bytes (`start` holds up
// to kHeaderSize of its first bytes). Errors: bundle.not-a-bundle, bundle.truncated,
// bundle.unsupported-format, bundle.manifest-too-large, bundle.signature-too-large,
// bundle.manifest-malformed.
[[nodiscard]] Result<FrameLayout> parseFrameHeader(QByteArrayView start, qint64 available);

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
    [[nodiscard]] const FrameLayout& layout() const { return m_layout; }

private:
    FrameLayout m_layout;
    QString m_path;
    QByteArray m_manifestBytes;
    QByteArray m_signature;
    Manifest m_manifest;
    qint64 m_fileSize = 0;
};

// Writes a bundle: header, manifest bytes, signature area, then the payload bytes copied from
// `path` (1 MiB at a time, never the whole payload in memory). Writes to a temp file and renames.
struct PayloadSource {
    QString path;       // file holding exactly entry.size bytes of stored payload
    qint64 offset = 0;  // where they start in that file (a bundle being re-signed)
};
[[nodiscard]] Status writeBundle(const QString& outPath, QByteArrayView manifestBytes,
                                 QByteArrayView signature, const QList<PayloadSource>& payloads,
                                 const std::function<void(qint64, qint64)>& progress = {});

// Replaces the signature of the bundle `reader` opened, in place: into the inactive copy, made
// durable, then the header switches to it. Needs a format-2 bundle whose area holds `signature`
// and which has not changed since it was opened (error bundle.changed otherwise).
// Errors: io.read-failed, io.write-failed, bundle.changed, bundle.signature-too-large.
[[nodiscard]] Status replaceSignatureInPlace(const BundleReader& reader, QByteArrayView signature);

}  // namespace otafleet::bundle
