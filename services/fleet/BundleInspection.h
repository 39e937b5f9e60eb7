// Builds a BundleReport: reads a bundle's frame and manifest, verifies its signature and chain
// against the release trust, then runs the full device check (hardware, security version,
// agent version, expiry, every payload hash) with BundleVerifier. Synchronous and free of Qt
// objects so it runs on a worker thread; EmbeddedFleet calls it through QtConcurrent.
#pragma once

#include "fleet/BundleReport.h"

#include <QDateTime>
#include <QString>

namespace otafleet::fleet {

struct BundleCheck {
    QString bundlePath;
    QString trustPemPath;  // the fleet root (PKI/root-ca.pem); empty or missing: Unchecked
    qint64 deviceId = 0;
    QString hardware;  // empty: any hardware
    quint64 minSecurityVersion = 0;
    QString agentVersion;  // empty or not SemVer: not checked
    QDateTime now = QDateTime::currentDateTimeUtc();
};

// Never fails: a bundle that cannot be read or verified is a report with a Refused verdict.
[[nodiscard]] BundleReport inspectBundle(const BundleCheck& check);

}  // namespace otafleet::fleet
