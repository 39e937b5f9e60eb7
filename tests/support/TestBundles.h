// Signed update bundles for tests that push firmware: a deterministic payload, the manifest
// fields a test varies (version, hardware, payload encoding), signed with the test PKI's release
// key; and signed zstd-patch deltas between two of them.
#pragma once

#include "TestPki.h"

#include "bundle/Manifest.h"
#include "common/Error.h"

#include <QString>

namespace otafleet::test {

struct TestBundleSpec {
    QString version = QStringLiteral("1.1.0");
    QString hardware = QStringLiteral("rev-a");
    quint64 securityVersion = 1;
    qint64 payloadSize = 512 * 1024;
    // Raw or Zstd (compressed while the bundle is made); deltas come from makeSignedDelta.
    bundle::Encoding encoding = bundle::Encoding::Raw;
};

// Writes DIR/firmware-VERSION-HARDWARE.otab (and its payload beside it, see payloadPathOf) and
// returns the bundle's path.
[[nodiscard]] Result<QString> makeSignedBundle(const TestPki& pki, const QString& dir,
                                               const TestBundleSpec& spec);

// The raw payload file makeSignedBundle wrote for `bundlePath`: what a slot holds once that
// bundle (or a delta to it) is installed.
[[nodiscard]] QString payloadPathOf(const QString& bundlePath);

// A signed zstd-patch delta from one full bundle to another (both made here, or any full
// bundles), written to `outPath`.
[[nodiscard]] Result<QString> makeSignedDelta(const TestPki& pki, const QString& fromBundle,
                                              const QString& toBundle, const QString& outPath);

}  // namespace otafleet::test
