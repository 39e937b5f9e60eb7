#include "mcusim/SimBleScanner.h"

namespace otafleet::mcusim {

namespace {
constexpr int kMaxScanMs = 60 * 1000;
}

SimBleScanner::SimBleScanner(QList<SimAdvertiser> advertisers, QObject* parent)
    : link::DeviceScanner(parent), m_advertisers(std::move(advertisers)) {
    m_interval.setInterval(kAdvertisingIntervalMs);
    m_window.setSingleShot(true);
    connect(&m_interval, &QTimer::timeout, this, &SimBleScanner::listen);
    connect(&m_window, &QTimer::timeout, this, &SimBleScanner::end);
}

Status SimBleScanner::start(int milliseconds) {
    if (milliseconds < 1 || milliseconds > kMaxScanMs) {
        return fail(QStringLiteral("ble.bad-duration"),
                    QStringLiteral("A scan lasts from 1 ms to 60 s; %1 ms was asked for.")
                        .arg(milliseconds));
    }
    m_reported.clear();
    m_interval.start();
    m_window.start(milliseconds);
    return {};
}

void SimBleScanner::stop() {
    if (m_window.isActive())
        end();
}

void SimBleScanner::listen() {
    for (const SimAdvertiser& a : std::as_const(m_advertisers)) {
        if (!a.link || !a.link->isAdvertising() || m_reported.contains(a.address))
            continue;
        m_reported.insert(a.address);
        Q_EMIT found(
            link::ScannedDevice{a.address, a.name, a.rssi, QStringLiteral("ble:///") + a.address});
    }
}

void SimBleScanner::end() {
    m_interval.stop();
    m_window.stop();
    Q_EMIT finished(std::nullopt);
}

}  // namespace otafleet::mcusim
