// Root object of the LAN transport plugin: creates the provider that reaches otafleet-agent
// over gRPC/TLS with the operator identity from the console's PKI directory.
#pragma once

#include "link/LinkProvider.h"

#include <QObject>

class LanPlugin : public QObject, public otafleet::link::LinkPlugin {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID OtafleetLinkPlugin_iid FILE "otafleet_lan.json")
    Q_INTERFACES(otafleet::link::LinkPlugin)
public:
    [[nodiscard]] otafleet::Result<std::unique_ptr<otafleet::link::LinkProvider>> createProvider(
        const otafleet::link::LinkContext& context) override;
};
