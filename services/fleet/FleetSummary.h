// The fleet in figures, as the dashboard shows it: size, who answers, which firmware runs where,
// who lags behind on security, and the latest failures. Computed from FleetDevice values only
// (no store, no network), so any FleetService implementation gets the same figures.
#pragma once

#include "fleet/FleetService.h"

#include <QDateTime>
#include <QList>
#include <QString>

namespace otafleet::fleet {

// Devices of one model and hardware revision running one firmware version.
struct VersionCount {
    QString model;
    QString hardware;
    QString version;
    int devices = 0;

    friend bool operator==(const VersionCount&, const VersionCount&) = default;
};

struct RecentFailure {
    qint64 deviceId = 0;
    QString deviceName;
    QDateTime lastSeen;  // may be invalid: the device never answered
    Error error;
};

struct FleetSummary {
    // A device is online when it answered within this window and its last contact did not fail
    // with a link error (unreachable, refused, timed out).
    static constexpr qint64 kOnlineWindowSecs = 15 * 60;
    static constexpr int kMaxRecentFailures = 10;

    int total = 0;
    int online = 0;
    int offline = 0;
    int neverSeen = 0;  // never answered: no report, hence no version (counted as offline too)
    int busy = 0;       // an operation is running on it
    // Runs firmware with a lower security version than another device of the same model and
    // hardware revision runs: a release that fixes a vulnerability exists for it. Only devices
    // that reported their active slot count.
    int needingSecurityUpdate = 0;
    // Sorted by model, hardware, then version (SemVer precedence where both parse).
    QList<VersionCount> versions;
    // Devices whose last operation failed, most recently seen first, at most kMaxRecentFailures.
    QList<RecentFailure> recentFailures;
    int failing = 0;  // all devices with a last error (recentFailures may be cut short)
};

[[nodiscard]] bool isOnline(const FleetDevice& device, const QDateTime& now);
[[nodiscard]] FleetSummary summarize(const QList<FleetDevice>& devices, const QDateTime& now);

}  // namespace otafleet::fleet
