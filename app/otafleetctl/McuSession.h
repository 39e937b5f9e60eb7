// The link `otafleetctl mcu ...` commands talk over: a serial port (--port, --baud), a UDP
// address (--udp) or a Bluetooth LE address (--ble, through the ble transport plugin, the same
// code the console loads), and synchronous helpers around the asynchronous SmpClient (a command
// line waits for each answer anyway).
#pragma once

#include "common/Error.h"
#include "link/DeviceHub.h"
#include "smp/SmpClient.h"
#include "smp/SmpTransportPlugin.h"

#include <QCommandLineOption>
#include <QCommandLineParser>

#include <memory>

namespace otafleet::cli {

extern const QCommandLineOption kMcuPort;
extern const QCommandLineOption kMcuBaud;
extern const QCommandLineOption kMcuUdp;
extern const QCommandLineOption kMcuBle;
extern const QCommandLineOption kMcuTimeout;

class McuSession {
public:
    // Opens the link named by the options. Errors: cli.usage (none or several links named),
    // mcu.ble-unavailable (no ble plugin found), ble.bad-address, ble.no-adapter,
    // ble.adapter-off, smp.bad-address, smp.open-failed.
    [[nodiscard]] static Result<std::unique_ptr<McuSession>> open(const QCommandLineParser& p);

    // Sends one request and waits for its answer.
    [[nodiscard]] Result<QCborMap> call(const smp::Request& request);
    // After a reset: polls with echo until the device answers again (reopening a serial port
    // that went away and came back, as USB CDC-ACM ports do). Error mcu.device-gone.
    [[nodiscard]] Status waitForDevice(int timeoutMs);
    [[nodiscard]] smp::SmpClient& client() { return *m_client; }
    [[nodiscard]] int timeoutMs() const { return m_timeoutMs; }

private:
    McuSession() = default;
    [[nodiscard]] Status openBle(const QString& address);

    // Holds the ble plugin's loader; declared first so it outlives the transport it made.
    std::unique_ptr<link::DeviceHub> m_hub;
    std::unique_ptr<smp::SmpTransport> m_transport;
    std::unique_ptr<smp::SmpClient> m_client;
    int m_timeoutMs = 0;
};

// The ble transport plugin, loaded through a DeviceHub that must outlive what it makes.
struct BlePlugin {
    std::unique_ptr<link::DeviceHub> hub;
    smp::SmpTransportPlugin* plugin = nullptr;
};
// Errors: mcu.ble-unavailable (naming where it looked and what `forWhat` could not reach).
[[nodiscard]] Result<BlePlugin> loadBlePlugin(const QString& forWhat);

// Scans `milliseconds` for BLE devices advertising the SMP service. Errors: mcu.ble-unavailable,
// ble.no-adapter, ble.adapter-off, ble.scan-failed.
[[nodiscard]] Result<QList<smp::ScannedDevice>> scanBle(int milliseconds);

// The image list of an image state answer, as `mcu info --json` prints it.
QJsonArray imagesJson(const QList<smp::image::SlotState>& slots);
QString imagesText(const QList<smp::image::SlotState>& slots);

}  // namespace otafleet::cli
