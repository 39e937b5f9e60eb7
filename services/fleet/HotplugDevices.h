// Puts the serial devices a PortWatcher notices into the fleet while they are plugged in: a port
// that appears is attached (and contacted at once, so its slots fill in), a port that goes away
// is detached. What the rule is lives here, not in a window; the console wires it at start.
#pragma once

#include "fleet/FleetService.h"
#include "link/PortWatcher.h"

#include <QObject>

namespace otafleet::fleet {

class HotplugDevices : public QObject {
    Q_OBJECT

public:
    // Both must outlive this object. Ports already known to `watcher` are attached at once.
    HotplugDevices(FleetService& fleet, link::PortWatcher& watcher, QObject* parent = nullptr);

    // Ports matching `glob` (as the factory station names them: a path pattern, symlinks by
    // what they point to) belong to someone else, such as a station run, which opens them
    // itself: their devices leave the fleet now and are not attached while the pattern holds.
    // An empty pattern gives them back (present ones are attached again).
    void setExcludedPattern(const QString& glob);
    [[nodiscard]] bool isExcluded(const link::PortInfo& port) const;

    // The name a port's device gets until it reports its own: "USB serial SN 0042 (ttyACM0)".
    [[nodiscard]] static QString nameFor(const link::PortInfo& port);

Q_SIGNALS:
    // A port appeared but its device could not be attached (no serial transport installed).
    void attachFailed(const otafleet::link::PortInfo& port, const otafleet::Error& error);

private:
    void onAdded(const link::PortInfo& port);

    FleetService& m_fleet;
    link::PortWatcher& m_watcher;
    QString m_excluded;
};

}  // namespace otafleet::fleet
