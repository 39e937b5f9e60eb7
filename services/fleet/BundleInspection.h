// Builds a BundleReport: reads a bundle's frame and manifest, verifies its signature and chain
// against the release trust, then runs the full device check (hardware, security version,
// agent version, expiry, every payload hash) with BundleVerifier. An MCUboot image (told by its
// magic number) is checked as MCUboot will: structure, SHA-256 and the ECDSA signature against
// the release key; a file of the wrong kind for the device is refused. Synchronous and free of Qt
// objects so it runs on a worker thread; EmbeddedFleet calls it through QtConcurrent.
#pragma once

#include "fleet/BundleReport.h"

#include <QDateTime>
#include <QString>

namespace otafleet::fleet {

// Which kind of update a device takes.
enum class DeviceClass {
    Unknown,  // no device chosen: the file is judged on its own
    Linux,    // otafleet-agent: bundles (.otab)
    Mcu,      // MCUboot/SMP: MCUboot images
};

struct BundleCheck {
    QString bundlePath;
    QString trustPemPath;  // the fleet root (PKI/root-ca.pem); empty or missing: Unchecked
    // MCUboot images: a SubjectPublicKeyInfo PEM file, or a PKI directory (its release signer's
    // key). Empty or unreadable: Unchecked (the device still checks).
    QString releaseKeyPath;
    DeviceClass deviceClass = DeviceClass::Unknown;
    qint64 deviceId = 0;
    QString hardware;  // empty: any hardware
    quint64 minSecurityVersion = 0;
    QString agentVersion;  // empty or not SemVer: not checked
    QDateTime now = QDateTime::currentDateTimeUtc();
};

// Never fails: a bundle that cannot be read or verified is a report with a Refused verdict.
[[nodiscard]] BundleReport inspectBundle(const BundleCheck& check);

}  // namespace otafleet::fleet
