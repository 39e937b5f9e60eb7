// What a unit is flashed with over SMP, checked before any unit gets it: an MCUboot image
// verified against the release public key (MCU firmware), or an otafleet bundle (.otab) verified
// against the PKI's release trust (a Linux-class device running otafleet-agent), each with the
// hash the unit's image manager names it by afterwards (the MCUboot SHA-256 TLV; the bundle
// payload's SHA-256 as installed in a slot). `otafleetctl mcu upload` and the station share it.
#pragma once

#include "common/Error.h"
#include "crypto/Cms.h"
#include "smp/SmpProvisioning.h"

#include <QByteArray>
#include <QString>

namespace otafleet::station {

struct FlashImage {
    smp::provision::ImageFormat format = smp::provision::ImageFormat::Mcuboot;
    QByteArray bytes;
    QByteArray hash;
    QString version;
};

// True when the file starts like an otafleet bundle (its container magic).
[[nodiscard]] bool isBundleFile(const QString& path);

// Errors: io.*, mcuboot.* (the image does not verify against the key).
[[nodiscard]] Result<FlashImage> loadMcubootImage(const QString& path,
                                                  const QByteArray& releaseKeyPem);
// Signature, trust chain, expiry and every payload's hash; the hardware and security version
// are the device's to check. Errors: io.*, bundle.*, crypto.*, station.bundle-empty.
[[nodiscard]] Result<FlashImage> loadBundle(const QString& path, const crypto::TrustStore& trust);

}  // namespace otafleet::station
