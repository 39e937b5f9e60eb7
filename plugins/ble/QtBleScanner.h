// Finds Bluetooth LE devices advertising the MCUmgr SMP service, with Qt Bluetooth's
// low-energy discovery; each device is reported once, at the first advertisement that names
// the service.
#pragma once

#include "smp/SmpTransportPlugin.h"

#include <QSet>

class QBluetoothDeviceDiscoveryAgent;
class QBluetoothDeviceInfo;

class QtBleScanner : public otafleet::smp::DeviceScanner {
    Q_OBJECT

public:
    using DeviceScanner::DeviceScanner;
    ~QtBleScanner() override;

    // Errors at once: ble.no-adapter, ble.adapter-off.
    [[nodiscard]] otafleet::Status start(int milliseconds) override;
    void stop() override;

private:
    void onDevice(const QBluetoothDeviceInfo& info);
    void end(const std::optional<otafleet::Error>& error);

    QBluetoothDeviceDiscoveryAgent* m_agent = nullptr;
    QSet<QString> m_reported;
};
