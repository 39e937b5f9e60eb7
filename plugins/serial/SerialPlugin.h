// Serial transport plugin: MCU-class devices speaking MCUmgr SMP over a USB CDC-ACM port (or any
// serial port), addressed as serial:///dev/ttyACM0?baud=115200.
#pragma once

#include "link/DeviceDiscovery.h"
#include "link/LinkProvider.h"

#include <QObject>

class SerialPlugin : public QObject,
                     public otafleet::link::LinkPlugin,
                     public otafleet::link::DiscoveryPlugin {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID OtafleetLinkPlugin_iid FILE "otafleet_serial.json")
    Q_INTERFACES(otafleet::link::LinkPlugin otafleet::link::DiscoveryPlugin)
public:
    [[nodiscard]] otafleet::Result<std::unique_ptr<otafleet::link::LinkProvider>> createProvider(
        const otafleet::link::LinkContext& context) override;
    [[nodiscard]] std::unique_ptr<otafleet::link::PortEnumerator> createPortEnumerator() override;
};

// The USB serial ports present (those with a USB vendor id: CDC-ACM and USB-serial bridges; the
// machine's own UARTs are left out, since nothing is plugged into them at runtime).
class SerialPortEnumerator : public otafleet::link::PortEnumerator {
public:
    [[nodiscard]] QList<otafleet::link::PortInfo> ports() const override;
};

// Validates serial:// URIs and opens SmpDeviceLinks over a SerialTransport.
class SerialProvider : public otafleet::link::LinkProvider {
    Q_OBJECT
public:
    using LinkProvider::LinkProvider;
    [[nodiscard]] QString scheme() const override;
    [[nodiscard]] otafleet::Result<std::unique_ptr<otafleet::link::DeviceLink>> open(
        const QUrl& uri) override;
};
