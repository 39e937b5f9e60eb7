// Creating and signing bundles (otafleetctl bundle create/sign, the console, agent setup).
#pragma once

#include "bundle/Bundle.h"
#include "bundle/Manifest.h"
#include "common/Error.h"
#include "crypto/Certificate.h"
#include "crypto/SigningKey.h"

#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>

#include <functional>
#include <optional>

namespace otafleet::bundle {

struct PayloadInput {
    QString name;
    QString slotClass = QStringLiteral("rootfs");
    QString path;
    // Raw (stored as is) or Zstd (compressed while the bundle is made; the manifest then holds
    // both the stored and the target size and SHA-256). ZstdPatch deltas come from `bundle delta`.
    Encoding encoding = Encoding::Raw;
};

struct CreateOptions {
    QString product = QStringLiteral("otafleet-firmware");
    SemVer version;
    quint64 securityVersion = 0;
    QStringList hardware;
    std::optional<QDateTime> expires;
    QDateTime created = QDateTime::currentDateTimeUtc();
    SemVer minAgentVersion{0, 1, 0};
    QString releaseNotes;
    QList<PayloadInput> payloads;
    // Room reserved for signatures (each of the container's two copies), so that signing
    // rewrites only the header and that area, never the payloads.
    qint64 signatureArea = kDefaultSignatureArea;
    // Asked from the writing thread before each block; true stops with bundle.cancelled and
    // leaves no output file (the console's Cancel button).
    std::function<bool()> cancelled;
};

// Hashes each payload once while streaming it into the bundle; writes an unsigned bundle.
// Errors: bundle.invalid-input (with what to fix), bundle.compress-failed, bundle.cancelled,
// io.*.
[[nodiscard]] Status createBundle(const CreateOptions& options, const QString& outPath,
                                  const std::function<void(qint64, qint64)>& progress = {});

// Signs the bundle's manifest (first signature) or adds one more signature (two-person
// signing). The new signature goes into the bundle's spare signature copy and the header is
// switched to it (replaceSignatureInPlace): the payloads are not read. Only a format-1 bundle or
// a full signature area makes it rewrite the file (temp file and rename). Error codes from
// crypto, bundle and io.
[[nodiscard]] Status signBundle(const QString& bundlePath, const crypto::SigningKey& key,
                                const crypto::Certificate& signer,
                                const QList<crypto::Certificate>& chain);

}  // namespace otafleet::bundle
