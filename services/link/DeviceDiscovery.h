// How the console finds devices it was not told the address of, whatever the transport: a
// scanner that looks for a while and reports what answers (Bluetooth LE advertising the SMP
// service), and a port enumerator that lists the serial ports present now (USB CDC-ACM), which a
// PortWatcher polls to notice hot-plug. A transport plugin offers them through DiscoveryPlugin,
// a second interface of its root object (DeviceHub::pluginObject, then qobject_cast), so the UI
// sees only these link-level types, never the plugin's own.
#pragma once

#include "common/Error.h"

#include <QList>
#include <QMetaType>
#include <QObject>
#include <QString>
#include <QtPlugin>

#include <memory>
#include <optional>

namespace otafleet::link {

// A device a scan found.
struct ScannedDevice {
    QString address;  // in the transport's notation (a BLE address: AA:BB:CC:DD:EE:FF)
    QString name;     // as advertised; may be empty
    int rssi = 0;     // dBm, 0 when unknown
    QString uri;      // the device URI to add it by (ble:///AA:BB:CC:DD:EE:FF)
};

// Looks for devices. Reports each device once, then finished() once, with an error if the scan
// could not run to its end.
class DeviceScanner : public QObject {
    Q_OBJECT

public:
    using QObject::QObject;
    // Errors known at once (ble.no-adapter, ble.adapter-off).
    [[nodiscard]] virtual Status start(int milliseconds) = 0;
    virtual void stop() = 0;

Q_SIGNALS:
    void found(const otafleet::link::ScannedDevice& device);
    void finished(const std::optional<otafleet::Error>& error);
};

// A serial port present now.
struct PortInfo {
    QString path;  // /dev/ttyACM0
    QString uri;   // serial:///dev/ttyACM0
    QString description;
    QString manufacturer;
    QString vendorId;   // 4 hex digits; empty when the port is not USB
    QString productId;  // 4 hex digits
    QString serialNumber;

    friend bool operator==(const PortInfo&, const PortInfo&) = default;
};

// Lists the ports present now. ports() is called on a worker thread (enumeration can take a
// while: sysfs, udev), so implementations keep no state that another thread changes.
class PortEnumerator {
public:
    virtual ~PortEnumerator() = default;
    [[nodiscard]] virtual QList<PortInfo> ports() const = 0;
};

class DiscoveryPlugin {
public:
    virtual ~DiscoveryPlugin() = default;
    // A scanner for devices of this transport; null when the transport has none (serial).
    [[nodiscard]] virtual std::unique_ptr<DeviceScanner> createScanner() { return nullptr; }
    // An enumerator of the ports of this transport; null when it has none (BLE).
    [[nodiscard]] virtual std::unique_ptr<PortEnumerator> createPortEnumerator() { return nullptr; }
};

}  // namespace otafleet::link

Q_DECLARE_METATYPE(otafleet::link::ScannedDevice)
Q_DECLARE_METATYPE(otafleet::link::PortInfo)

#define OtafleetDiscoveryPlugin_iid "org.otafleet.DiscoveryPlugin/1"
Q_DECLARE_INTERFACE(otafleet::link::DiscoveryPlugin, OtafleetDiscoveryPlugin_iid)
