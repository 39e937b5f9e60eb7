// A second face of a transport plugin whose links speak SMP: it hands out a bare SmpTransport
// for an address, so `otafleetctl mcu ... --ble ADDRESS` drives the same plugin code the console
// loads through DeviceHub, one request at a time. Scanners for devices offering SMP
// (`otafleetctl mcu ports --ble-scan`, the console's scan dialog) come through the plugin's
// link::DiscoveryPlugin face. DeviceHub finds the plugin by its metadata; the caller
// qobject_casts the plugin's root object to this interface.
#pragma once

#include "common/Error.h"
#include "link/DeviceDiscovery.h"
#include "smp/SmpTransport.h"

#include <QObject>
#include <QtPlugin>

#include <memory>
#include <optional>

namespace otafleet::smp {

// The scanner types live in link/ (the console's UI sees them); these names stay for SMP code.
using ScannedDevice = link::ScannedDevice;
using DeviceScanner = link::DeviceScanner;

class SmpTransportPlugin {
public:
    virtual ~SmpTransportPlugin() = default;
    // The transport for `address` (the plugin's own notation, e.g. AA:BB:CC:DD:EE:FF), not yet
    // open. Errors: the plugin's address errors (ble.bad-address).
    [[nodiscard]] virtual Result<std::unique_ptr<SmpTransport>> createTransport(
        const QString& address) = 0;
};

}  // namespace otafleet::smp

#define OtafleetSmpTransportPlugin_iid "org.otafleet.SmpTransportPlugin/1"
Q_DECLARE_INTERFACE(otafleet::smp::SmpTransportPlugin, OtafleetSmpTransportPlugin_iid)
