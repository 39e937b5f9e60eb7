// Notices serial ports coming and going (hot-plug) by polling a PortEnumerator. Each poll runs
// on the global thread pool, so a slow enumeration (sysfs, udev) never blocks the GUI thread;
// only the comparison with the last list and the signals happen in this object's thread. One
// poll at a time: a tick that finds the previous poll still running is skipped.
#pragma once

#include "link/DeviceDiscovery.h"

#include <QFutureWatcher>
#include <QObject>
#include <QTimer>

#include <memory>

namespace otafleet::link {

class PortWatcher : public QObject {
    Q_OBJECT

public:
    static constexpr int kDefaultIntervalMs = 500;

    PortWatcher(std::unique_ptr<PortEnumerator> enumerator, int intervalMs = kDefaultIntervalMs,
                QObject* parent = nullptr);
    ~PortWatcher() override;

    // Polls at once, then every interval.
    void start();
    void stop();
    [[nodiscard]] bool isRunning() const { return m_timer.isActive(); }
    // The ports of the last poll, by path order.
    [[nodiscard]] QList<PortInfo> ports() const { return m_ports; }

Q_SIGNALS:
    void portAdded(const otafleet::link::PortInfo& port);
    void portRemoved(const otafleet::link::PortInfo& port);
    // After every poll, whether or not anything changed (tests wait on it).
    void polled();

private:
    void poll();
    void onPolled();

    std::shared_ptr<PortEnumerator> m_enumerator;  // shared with a poll still running
    QTimer m_timer;
    QFutureWatcher<QList<PortInfo>> m_watcher;
    QList<PortInfo> m_ports;
};

}  // namespace otafleet::link
