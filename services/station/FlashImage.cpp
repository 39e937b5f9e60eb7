#include "station/FlashImage.h"

#include "bundle/Bundle.h"
#include "bundle/BundleVerifier.h"
#include "bundle/McubootImage.h"
#include "common/AtomicFile.h"

#include <QFile>

namespace otafleet::station {

bool isBundleFile(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) &&
           file.read(bundle::kMagic.size()) == bundle::kMagic.toByteArray();
}

Result<FlashImage> loadMcubootImage(const QString& path, const QByteArray& releaseKeyPem) {
    auto bytes = readFileBounded(path, bundle::mcuboot::kMaxImageSize);
    if (!bytes) {
        return fail(bytes.error());
    }
    const auto info = bundle::mcuboot::verifyImage(*bytes, releaseKeyPem);
    if (!info) {
        return fail(info.error());
    }
    return FlashImage{smp::provision::ImageFormat::Mcuboot, std::move(*bytes), info->sha256,
                      info->version.toString()};
}

Result<FlashImage> loadBundle(const QString& path, const crypto::TrustStore& trust) {
    bundle::VerifyPolicy policy;
    policy.trust = trust;
    const auto verified = bundle::BundleVerifier::verifyFile(path, policy);
    if (!verified) {
        return fail(verified.error());
    }
    if (verified->manifest.payloads.isEmpty()) {
        return fail(QStringLiteral("station.bundle-empty"),
                    QStringLiteral("The bundle %1 carries no payload; build it again with "
                                   "'otafleetctl bundle create --payload'.")
                        .arg(path));
    }
    // Read after verification; the device verifies again what it receives.
    auto bytes = readFileBounded(path, bundle::mcuboot::kMaxImageSize);
    if (!bytes) {
        return fail(bytes.error());
    }
    return FlashImage{smp::provision::ImageFormat::Bundle, std::move(*bytes),
                      verified->manifest.payloads.first().targetSha256,
                      verified->manifest.version.toString()};
}

}  // namespace otafleet::station
