// The GattLink over a real Bluetooth LE radio, with Qt Bluetooth: checks that the computer has
// an adapter, scans (QBluetoothDeviceDiscoveryAgent, low-energy only) for the address, noting
// whether it advertises the SMP service, connects (QLowEnergyController), discovers the SMP
// service and characteristic, enables notifications by writing the CCCD (QLowEnergyService),
// follows the controller's MTU, and writes values without response. Linux (BlueZ) and Windows
// address devices by MAC address; this class takes only those.
#pragma once

#include "smp/GattLink.h"

#include <QBluetoothAddress>
#include <QBluetoothDeviceInfo>
#include <QLowEnergyCharacteristic>
#include <QPointer>
#include <QTimer>

class QBluetoothDeviceDiscoveryAgent;
class QLowEnergyController;
class QLowEnergyService;

// How long a scan looks for the device, and how long the whole connection may take.
inline constexpr int kBleScanMs = 8000;
inline constexpr int kBleConnectMs = 20000;

class QtGattLink : public otafleet::smp::GattLink {
    Q_OBJECT

public:
    explicit QtGattLink(QBluetoothAddress address, QObject* parent = nullptr);
    ~QtGattLink() override;

    // Errors at once: ble.no-adapter, ble.adapter-off. Later, through failed(): ble.not-found,
    // ble.scan-failed, ble.connect-failed, ble.no-smp-service, ble.notify-failed,
    // ble.connect-timeout, smp.link-lost.
    [[nodiscard]] otafleet::Status connectToDevice() override;
    void disconnectFromDevice() override;
    [[nodiscard]] bool isReady() const override { return m_ready; }
    [[nodiscard]] int mtu() const override { return m_mtu; }
    void writeWithoutResponse(const QByteArray& value) override;
    [[nodiscard]] QString description() const override;

    // The check connectToDevice starts with (also used by the plugin before it hands out a
    // link). Errors: ble.no-adapter, ble.adapter-off.
    [[nodiscard]] static otafleet::Status checkAdapter(const QString& forWhat);

private:
    void onDeviceDiscovered(const QBluetoothDeviceInfo& info);
    void onScanFinished();
    void connectController(const QBluetoothDeviceInfo& info);
    void onServicesDiscovered();
    void onServiceState();
    void fail(const QString& code, const QString& message);
    void teardown();

    QBluetoothAddress m_address;
    QBluetoothDeviceDiscoveryAgent* m_agent = nullptr;
    QLowEnergyController* m_controller = nullptr;
    QLowEnergyService* m_service = nullptr;
    QLowEnergyCharacteristic m_characteristic;
    QTimer m_deadline;
    bool m_ready = false;
    bool m_advertisesSmp = false;
    int m_mtu = 23;
};
