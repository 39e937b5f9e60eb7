// The bundle manifest (DESIGN.md section 5): what a release is, whom it is for, and the exact
// size and SHA-256 of every payload. Signed as exact bytes, so serialize() is only used when a
// bundle is created; verification always works on the bytes that were signed.
#pragma once

#include "common/Error.h"
#include "common/SemVer.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace otafleet::bundle {

enum class Encoding { Raw, Zstd, ZstdPatch };

[[nodiscard]] QString encodingName(Encoding encoding);

struct PayloadEntry {
    QString name;       // [A-Za-z0-9._-]{1,64}
    QString slotClass;  // which slot pair it goes to; "rootfs" on the reference agent
    quint64 size = 0;   // bytes stored in the bundle
    QByteArray sha256;  // 32 raw bytes, of the stored bytes
    Encoding encoding = Encoding::Raw;
    // zstd / zstd-patch: what the device ends up with; zstd-patch: the base it applies to.
    // For raw payloads parse() sets target* equal to size/sha256, so installers can always
    // check the target.
    quint64 targetSize = 0;
    QByteArray targetSha256;
    QByteArray baseSha256;
};

struct Manifest {
    static constexpr int kFormatVersion = 1;
    static constexpr qsizetype kMaxSize = 1024 * 1024;  // bytes of JSON
    static constexpr int kMaxPayloads = 64;
    static constexpr int kMaxHardware = 256;
    static constexpr int kMaxDepth = 8;  // JSON nesting

    int formatVersion = kFormatVersion;
    QString product;
    SemVer version;
    quint64 securityVersion = 0;       // monotonic anti-rollback counter
    QStringList hardware;              // compatible hardware revisions; never empty
    QDateTime created;                 // UTC
    std::optional<QDateTime> expires;  // UTC; a device refuses the bundle after it (freeze)
    SemVer minAgentVersion;
    QString releaseNotes;
    QList<PayloadEntry> payloads;

    // JSON keys (snake_case): format_version, product, version, security_version, hardware,
    // created, expires (optional), min_agent_version, release_notes (optional), payloads[] of
    // {name, slot_class, size, sha256 (64 lowercase hex), encoding, target_size, target_sha256,
    // base_sha256}. Unknown keys, duplicate keys, floats and negative numbers are refused.
    // Strict and bounded: size, nesting depth, counts, string lengths, integer ranges
    // (integers above 2^53 are refused), unknown format versions. Error codes:
    // bundle.manifest-too-large, bundle.manifest-malformed (with the field named),
    // bundle.unsupported-format.
    [[nodiscard]] static Result<Manifest> parse(QByteArrayView json);
    // Compact UTF-8 JSON with keys in a fixed order.
    [[nodiscard]] QByteArray serialize() const;

    [[nodiscard]] quint64 totalPayloadSize() const;
};

}  // namespace otafleet::bundle
