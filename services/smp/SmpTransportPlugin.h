// A second face of a transport plugin whose links speak SMP: it hands out a bare SmpTransport
// for an address, so `otafleetctl mcu ... --ble ADDRESS` drives the same plugin code the console
// loads through DeviceHub, one request at a time, and a scanner for devices offering SMP
// (`otafleetctl mcu ports --ble-scan`). DeviceHub finds the plugin by its metadata; the caller
// qobject_casts the plugin's root object to this interface.
#pragma once

#include "common/Error.h"
#include "smp/SmpTransport.h"

#include <QObject>
#include <QtPlugin>

#include <memory>
#include <optional>

namespace otafleet::smp {

// A device a scan found that offers SMP on the plugin's transport.
struct ScannedDevice {
    QString address;  // what createTransport() takes
    QString name;     // as advertised; may be empty
    int rssi = 0;     // dBm, 0 when unknown
};

// Looks for devices offering SMP (over BLE: advertising the SMP GATT service). Reports each
// device once, then finished() once, with an error if the scan could not run to its end.
class DeviceScanner : public QObject {
    Q_OBJECT

public:
    using QObject::QObject;
    // Errors known at once: ble.no-adapter, ble.adapter-off.
    [[nodiscard]] virtual Status start(int milliseconds) = 0;
    virtual void stop() = 0;

Q_SIGNALS:
    void found(const otafleet::smp::ScannedDevice& device);
    void finished(const std::optional<otafleet::Error>& error);
};

class SmpTransportPlugin {
public:
    virtual ~SmpTransportPlugin() = default;
    // A scanner for devices offering SMP on this transport.
    [[nodiscard]] virtual std::unique_ptr<DeviceScanner> createScanner() = 0;
    // The transport for `address` (the plugin's own notation, e.g. AA:BB:CC:DD:EE:FF), not yet
    // open. Errors: the plugin's address errors (ble.bad-address).
    [[nodiscard]] virtual Result<std::unique_ptr<SmpTransport>> createTransport(
        const QString& address) = 0;
};

}  // namespace otafleet::smp

#define OtafleetSmpTransportPlugin_iid "org.otafleet.SmpTransportPlugin/1"
Q_DECLARE_INTERFACE(otafleet::smp::SmpTransportPlugin, OtafleetSmpTransportPlugin_iid)
