#include "link/PortWatcher.h"

#include "link/LinkLogging.h"

#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>

namespace otafleet::link {

PortWatcher::PortWatcher(std::unique_ptr<PortEnumerator> enumerator, int intervalMs,
                         QObject* parent)
    : QObject(parent), m_enumerator(std::move(enumerator)) {
    m_timer.setInterval(std::max(intervalMs, 10));
    connect(&m_timer, &QTimer::timeout, this, &PortWatcher::poll);
    connect(&m_watcher, &QFutureWatcher<QList<PortInfo>>::finished, this, &PortWatcher::onPolled);
}

PortWatcher::~PortWatcher() {
    m_timer.stop();
    // The task holds its own reference to the enumerator; waiting only keeps the pool tidy.
    m_watcher.waitForFinished();
}

void PortWatcher::start() {
    m_timer.start();
    poll();
}

void PortWatcher::stop() {
    m_timer.stop();
}

void PortWatcher::poll() {
    if (m_watcher.isRunning())
        return;
    m_watcher.setFuture(
        QtConcurrent::run([enumerator = m_enumerator] { return enumerator->ports(); }));
}

void PortWatcher::onPolled() {
    QList<PortInfo> now = m_watcher.result();
    std::sort(now.begin(), now.end(),
              [](const PortInfo& a, const PortInfo& b) { return a.path < b.path; });
    const auto has = [](const QList<PortInfo>& list, const QString& path) {
        return std::any_of(list.cbegin(), list.cend(),
                           [&path](const PortInfo& p) { return p.path == path; });
    };
    const QList<PortInfo> before = std::exchange(m_ports, now);
    for (const PortInfo& port : before) {
        if (!has(now, port.path)) {
            qCInfo(lcLink) << "port gone:" << port.path;
            Q_EMIT portRemoved(port);
        }
    }
    for (const PortInfo& port : now) {
        if (!has(before, port.path)) {
            qCInfo(lcLink) << "port found:" << port.path << port.vendorId << port.productId
                           << port.serialNumber;
            Q_EMIT portAdded(port);
        }
    }
    Q_EMIT polled();
}

}  // namespace otafleet::link
