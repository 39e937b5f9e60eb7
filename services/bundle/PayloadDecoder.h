// Turns a payload's stored bytes into the bytes a device ends up with, between
// BundleVerifier::streamPayload and the slot writer: raw passes through, zstd is decompressed.
// The output is bounded by the manifest's target size (a small hostile frame cannot expand into
// an endless stream) and finish() checks the target SHA-256, so the slot holds exactly what the
// release manager signed. zstd-patch decodes against a base image (the device's active slot),
// given by the caller as bytes that stay mapped until finish().
#pragma once

#include "bundle/BundleVerifier.h"
#include "bundle/Manifest.h"
#include "common/Error.h"

#include <memory>

namespace otafleet::bundle {

class PayloadDecoder final : public PayloadSink {
public:
    // Error bundle.unsupported-encoding for zstd-patch (it needs a base).
    [[nodiscard]] static Result<std::unique_ptr<PayloadDecoder>> create(const PayloadEntry& entry,
                                                                        PayloadSink& target);
    // Any encoding; for zstd-patch `base` is the image the patch was made against (the caller
    // has matched its SHA-256 with entry.baseSha256) and must outlive the decoder. Errors:
    // bundle.decompress-failed (zstd could not be set up).
    [[nodiscard]] static Result<std::unique_ptr<PayloadDecoder>> create(const PayloadEntry& entry,
                                                                        PayloadSink& target,
                                                                        QByteArrayView base);
    ~PayloadDecoder() override;
    PayloadDecoder(const PayloadDecoder&) = delete;
    PayloadDecoder& operator=(const PayloadDecoder&) = delete;

    // Errors: bundle.payload-corrupted (undecodable, or larger than the target size), or the
    // target sink's own error.
    [[nodiscard]] Status write(QByteArrayView data) override;
    // Call once streamPayload has succeeded. Error bundle.payload-corrupted when the decoded
    // bytes are not exactly the manifest's target size and SHA-256.
    [[nodiscard]] Status finish();

private:
    struct Impl;
    explicit PayloadDecoder(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> d;
};

}  // namespace otafleet::bundle
