// Delta bundles (`bundle delta`, DESIGN.md section 5): for every payload of a new release, a
// zstd-patch made with libzstd against the same-named payload of the release a device already
// runs (long-distance matching, a window that covers the base). The manifest names the base by
// its SHA-256 and keeps the target's size and SHA-256, so a device applies the patch from its
// active slot and checks what it wrote. The result is unsigned: sign it like any bundle.
#pragma once

#include "bundle/BundleVerifier.h"
#include "common/Error.h"

#include <QString>

namespace otafleet::bundle {

struct DeltaOptions {
    static constexpr int kDefaultLevel = 19;
    int level = kDefaultLevel;  // zstd level 1..22; higher is smaller and slower to make
};

struct DeltaPayloadStats {
    QString name;
    quint64 baseSize = 0;
    quint64 targetSize = 0;
    quint64 patchSize = 0;
};

// Reads OLD and NEW once each (the base is mapped read-only, the target streamed), writes an
// unsigned delta bundle carrying NEW's release metadata. Neither input's signature is checked
// or copied: whoever signs the delta vouches for it. Errors: bundle.delta-mismatch (payload
// names differ), bundle.delta-of-delta (an input is itself a delta), bundle.payload-corrupted
// (an input's payload does not match its manifest), bundle.compress-failed, bundle.invalid-input,
// io.*, and BundleReader's errors.
[[nodiscard]] Result<QList<DeltaPayloadStats>> createDelta(const QString& fromPath,
                                                           const QString& toPath,
                                                           const QString& outPath,
                                                           const DeltaOptions& options = {},
                                                           const Progress& progress = {});

// What `bundle verify` cannot know from a delta alone: whether its patches, applied to the
// payloads of `basePath` (a full bundle), give exactly the targets the delta's manifest names.
// Decodes in memory-bounded blocks and writes nothing. Errors: bundle.delta-base-mismatch (the
// base bundle is not the one the delta was made against), bundle.payload-corrupted,
// bundle.invalid-input (not a delta), and BundleReader's errors.
[[nodiscard]] Status verifyDeltaAgainstBase(const BundleReader& delta, const QString& basePath,
                                            const Progress& progress = {});

}  // namespace otafleet::bundle
