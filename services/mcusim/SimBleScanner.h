// The in-process stand-in for a Bluetooth LE scan (there is no radio in tests): reports the
// simulated devices that advertise the SMP service, as QtBleScanner reports real ones, behind
// the same link::DeviceScanner interface the console's scan dialog and `mcu ports --ble-scan`
// use. A device is heard only while its SimBleLink advertises (booted, no central connected),
// at the advertising interval, once per scan.
#pragma once

#include "link/DeviceDiscovery.h"
#include "mcusim/SimBleLink.h"

#include <QPointer>
#include <QSet>
#include <QTimer>

namespace otafleet::mcusim {

struct SimAdvertiser {
    QPointer<SimBleLink> link;  // the device's end of the radio; gone: nothing advertises
    QString address;            // AA:BB:CC:DD:EE:FF
    QString name;               // the advertised local name
    int rssi = -60;
};

class SimBleScanner : public link::DeviceScanner {
    Q_OBJECT

public:
    static constexpr int kAdvertisingIntervalMs = 100;

    explicit SimBleScanner(QList<SimAdvertiser> advertisers, QObject* parent = nullptr);

    // Errors at once: ble.bad-duration (not 1 ms to 60 s).
    [[nodiscard]] Status start(int milliseconds) override;
    void stop() override;

private:
    void listen();
    void end();

    QList<SimAdvertiser> m_advertisers;
    QTimer m_interval;
    QTimer m_window;
    QSet<QString> m_reported;
};

}  // namespace otafleet::mcusim
