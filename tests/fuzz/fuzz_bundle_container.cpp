// Fuzz target: the .otab container frame (header, manifest, signature, size checks), then the
// metadata verifier with an empty trust store, which must refuse everything without crashing.

#include "bundle/Bundle.h"
#include "bundle/BundleVerifier.h"

#include <QByteArrayView>
#include <QDateTime>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace otafleet::bundle;
    const QByteArrayView input(data, static_cast<qsizetype>(size));
    auto reader = BundleReader::fromBytes(input);
    if (!reader) {
        return 0;
    }
    if (reader->payloadOffset(static_cast<int>(reader->manifest().payloads.size())) !=
        reader->fileSize()) {
        __builtin_trap();  // the frame check promised the payloads end exactly at the file end
    }
    VerifyPolicy policy;  // empty trust store: nothing may verify
    policy.now = QDateTime(QDate(2026, 11, 21), QTime(13, 0), Qt::UTC);
    policy.hardware = QStringLiteral("rev-a");
    auto verified = BundleVerifier::verifyMetadata(*reader, policy);
    if (verified) {
        __builtin_trap();
    }
    return 0;
}
