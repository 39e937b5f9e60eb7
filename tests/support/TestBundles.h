// Signed update bundles for tests that push firmware: a deterministic payload, the manifest
// fields a test varies (version, hardware), signed with the test PKI's release key.
#pragma once

#include "TestPki.h"

#include "common/Error.h"

#include <QString>

namespace otafleet::test {

struct TestBundleSpec {
    QString version = QStringLiteral("1.1.0");
    QString hardware = QStringLiteral("rev-a");
    quint64 securityVersion = 1;
    qint64 payloadSize = 512 * 1024;
};

// Writes DIR/firmware-VERSION-HARDWARE.otab and returns its path.
[[nodiscard]] Result<QString> makeSignedBundle(const TestPki& pki, const QString& dir,
                                               const TestBundleSpec& spec);

}  // namespace otafleet::test
