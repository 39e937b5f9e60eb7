// Bluetooth LE transport plugin: MCU-class devices speaking MCUmgr SMP over the SMP GATT service,
// addressed as ble:///AA:BB:CC:DD:EE:FF (the device's Bluetooth address; a path, because a MAC
// address cannot be a URI authority). Besides the LinkPlugin face the console loads through
// DeviceHub, it offers SmpTransportPlugin, which `otafleetctl mcu ... --ble ADDRESS` uses, and
// DiscoveryPlugin, whose scanner the console's scan dialog and `mcu ports --ble-scan` use.
// Needs a Bluetooth LE adapter at run time; without one every link fails with ble.no-adapter.
#pragma once

#include "link/LinkProvider.h"
#include "smp/SmpTransportPlugin.h"

#include <QObject>

class BlePlugin : public QObject,
                  public otafleet::link::LinkPlugin,
                  public otafleet::smp::SmpTransportPlugin,
                  public otafleet::link::DiscoveryPlugin {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID OtafleetLinkPlugin_iid FILE "otafleet_ble.json")
    Q_INTERFACES(otafleet::link::LinkPlugin otafleet::smp::SmpTransportPlugin
                     otafleet::link::DiscoveryPlugin)
public:
    [[nodiscard]] otafleet::Result<std::unique_ptr<otafleet::link::LinkProvider>> createProvider(
        const otafleet::link::LinkContext& context) override;
    [[nodiscard]] std::unique_ptr<otafleet::link::DeviceScanner> createScanner() override;
    // Errors: ble.bad-address.
    [[nodiscard]] otafleet::Result<std::unique_ptr<otafleet::smp::SmpTransport>> createTransport(
        const QString& address) override;
};

// Validates ble:// URIs and opens SmpDeviceLinks over a BleTransport on a QtGattLink.
class BleProvider : public otafleet::link::LinkProvider {
    Q_OBJECT
public:
    using LinkProvider::LinkProvider;
    [[nodiscard]] QString scheme() const override;
    [[nodiscard]] otafleet::Result<std::unique_ptr<otafleet::link::DeviceLink>> open(
        const QUrl& uri) override;
};
