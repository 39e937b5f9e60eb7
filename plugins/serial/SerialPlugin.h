// Serial transport plugin: MCU-class devices speaking MCUmgr SMP over a USB CDC-ACM port (or any
// serial port), addressed as serial:///dev/ttyACM0?baud=115200.
#pragma once

#include "link/LinkProvider.h"

#include <QObject>

class SerialPlugin : public QObject, public otafleet::link::LinkPlugin {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID OtafleetLinkPlugin_iid FILE "otafleet_serial.json")
    Q_INTERFACES(otafleet::link::LinkPlugin)
public:
    [[nodiscard]] otafleet::Result<std::unique_ptr<otafleet::link::LinkProvider>> createProvider(
        const otafleet::link::LinkContext& context) override;
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
