#include "fleet/FleetSummary.h"

#include "common/SemVer.h"

#include <QHash>

#include <algorithm>
#include <map>
#include <tuple>

namespace otafleet::fleet {

namespace {

// Versions in SemVer order where both parse; text order otherwise (and after the SemVer ones).
bool versionLess(const QString& a, const QString& b) {
    const auto va = SemVer::parse(a);
    const auto vb = SemVer::parse(b);
    if (va && vb)
        return *va < *vb;
    if (va.has_value() != vb.has_value())
        return va.has_value();
    return a < b;
}

quint64 activeSecurityVersion(const link::DeviceSnapshot& snapshot) {
    const link::SlotSnapshot* active = snapshot.slot(snapshot.activeSlot);
    return active ? active->securityVersion : 0;
}

}  // namespace

bool isOnline(const FleetDevice& device, const QDateTime& now) {
    if (!device.snapshot || !device.lastSeen.isValid())
        return false;
    if (device.lastError && device.lastError->code.startsWith(QLatin1String("link.")))
        return false;
    return device.lastSeen.secsTo(now) <= FleetSummary::kOnlineWindowSecs;
}

FleetSummary summarize(const QList<FleetDevice>& devices, const QDateTime& now) {
    FleetSummary s;
    s.total = static_cast<int>(devices.size());
    std::map<std::tuple<QString, QString, QString>, int> perVersion;
    QHash<QString, quint64> newestSecurity;  // "model\nhardware" -> highest security version
    const auto groupKey = [](const link::DeviceSnapshot& snapshot) {
        return snapshot.model + QLatin1Char('\n') + snapshot.hardware;
    };
    for (const FleetDevice& d : devices) {
        const bool online = isOnline(d, now);
        s.online += online ? 1 : 0;
        s.offline += online ? 0 : 1;
        s.busy += d.running ? 1 : 0;
        if (d.lastError) {
            ++s.failing;
            s.recentFailures.append({d.id, d.displayName(), d.lastSeen, *d.lastError});
        }
        if (!d.snapshot) {
            ++s.neverSeen;
            continue;
        }
        const QString version = d.snapshot->activeVersion();
        if (!version.isEmpty())
            ++perVersion[{d.snapshot->model, d.snapshot->hardware, version}];
        quint64& newest = newestSecurity[groupKey(*d.snapshot)];
        newest = std::max(newest, activeSecurityVersion(*d.snapshot));
    }
    for (const FleetDevice& d : devices) {
        if (d.snapshot && d.snapshot->slot(d.snapshot->activeSlot) &&
            activeSecurityVersion(*d.snapshot) < newestSecurity.value(groupKey(*d.snapshot)))
            ++s.needingSecurityUpdate;
    }
    for (const auto& [key, count] : perVersion)
        s.versions.append({std::get<0>(key), std::get<1>(key), std::get<2>(key), count});
    std::stable_sort(s.versions.begin(), s.versions.end(),
                     [](const VersionCount& a, const VersionCount& b) {
                         if (a.model != b.model)
                             return a.model < b.model;
                         if (a.hardware != b.hardware)
                             return a.hardware < b.hardware;
                         return versionLess(a.version, b.version);
                     });
    // Never-seen devices (invalid lastSeen) sort last.
    std::stable_sort(s.recentFailures.begin(), s.recentFailures.end(),
                     [](const RecentFailure& a, const RecentFailure& b) {
                         if (a.lastSeen.isValid() != b.lastSeen.isValid())
                             return a.lastSeen.isValid();
                         return a.lastSeen > b.lastSeen;
                     });
    if (s.recentFailures.size() > FleetSummary::kMaxRecentFailures)
        s.recentFailures.resize(FleetSummary::kMaxRecentFailures);
    return s;
}

}  // namespace otafleet::fleet
