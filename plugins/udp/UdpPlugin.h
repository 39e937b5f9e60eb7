// UDP transport plugin: MCU-class devices speaking MCUmgr SMP over UDP (one packet per
// datagram), addressed as udp://HOST:PORT or udp://[V6]:PORT with a numeric address.
#pragma once

#include "link/LinkProvider.h"

#include <QObject>

class UdpPlugin : public QObject, public otafleet::link::LinkPlugin {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID OtafleetLinkPlugin_iid FILE "otafleet_udp.json")
    Q_INTERFACES(otafleet::link::LinkPlugin)
public:
    [[nodiscard]] otafleet::Result<std::unique_ptr<otafleet::link::LinkProvider>> createProvider(
        const otafleet::link::LinkContext& context) override;
};

// Validates udp:// URIs and opens SmpDeviceLinks over a UdpTransport.
class UdpProvider : public otafleet::link::LinkProvider {
    Q_OBJECT
public:
    using LinkProvider::LinkProvider;
    [[nodiscard]] QString scheme() const override;
    [[nodiscard]] otafleet::Result<std::unique_ptr<otafleet::link::DeviceLink>> open(
        const QUrl& uri) override;
};
