// The fleet as every console view sees it: the devices, their last reported state, and the
// operations a technician starts on them. Two implementations share this interface: the
// in-process EmbeddedFleet (SQLite + direct links) and, later, a client of otafleetd; the UI
// cannot tell them apart. Operations are asynchronous: a call returns at once (an error only if
// the operation cannot start) and ends with one operationFinished().
#pragma once

#include "common/Error.h"
#include "fleet/BundleReport.h"
#include "link/DeviceLink.h"
#include "link/DeviceSnapshot.h"

#include <QDateTime>
#include <QFuture>
#include <QList>
#include <QObject>
#include <QString>

#include <memory>
#include <optional>

namespace otafleet::fleet {

struct FleetDevice {
    qint64 id = 0;
    QString uri;                                   // canonical, e.g. "lan://10.0.0.5:50051"
    QString name;                                  // as the technician named it; may be empty
    std::optional<link::DeviceSnapshot> snapshot;  // last report; none until it answered once
    QDateTime lastSeen;
    std::optional<Error> lastError;  // of the last failed operation, until one succeeds
    std::optional<link::LinkOperation> running;
    // Found by itself (a serial port plugged in) rather than added by a technician: in the fleet
    // while it is present, not kept in the fleet's database.
    bool attached = false;

    // The name to show: the technician's, else the device's own, else its address.
    [[nodiscard]] QString displayName() const;
    // An MCU-class device (MCUboot, SMP over serial, UDP or BLE): it takes MCUboot images and
    // reports image slots (primary, secondary) rather than A/B slots.
    [[nodiscard]] bool isMcu() const;
};

struct FleetSummary;
class DevicePageSource;

// Where the fleet lives and whether it is reachable now: "This workstation" (embedded), or a
// server the console signed in to, which it reconnects to by itself when it is lost.
struct FleetConnection {
    // Refused: the server turned the sign-in down (or the settings cannot work); the console
    // does not try again by itself, refreshAll() does.
    enum class State { Local, Connecting, Online, Reconnecting, Refused };
    State state = State::Local;
    QString where;               // "This workstation" or "otafleetd at HOST:PORT"
    QString user;                // who is signed in; empty when local or not signed in yet
    QString role;                // viewer | technician | release-manager | approver | admin
    std::optional<Error> error;  // why the server is not reachable now (Reconnecting)
    QDateTime nextAttempt;       // Reconnecting: when the next try starts

    // One short line for a status bar, e.g. "otafleetd at 10.0.0.2:7443 · admin (admin) ·
    // online" or "... · offline (server.unreachable), retrying in 4 s"; the error's sentence
    // goes in a tooltip.
    [[nodiscard]] QString text() const;
};

class FleetService : public QObject {
    Q_OBJECT
public:
    ~FleetService() override;

    [[nodiscard]] virtual QList<FleetDevice> devices() const = 0;
    [[nodiscard]] virtual std::optional<FleetDevice> device(qint64 id) const = 0;
    // The dashboard's figures over devices() (fleet/FleetSummary.h); `now` decides who counts
    // as online.
    [[nodiscard]] FleetSummary summary(
        const QDateTime& now = QDateTime::currentDateTimeUtc()) const;

    // The ids of the devices matching `expression` (fleet::DeviceQuery; empty: every device) at
    // `now`, worked out off the calling thread so a view can show a live count without waiting.
    // The future holds the filter's error (filter.*) for an expression that does not parse.
    // The default takes devices() as they are now and matches them on the global thread pool.
    [[nodiscard]] virtual QFuture<Result<QList<qint64>>> devicesMatching(
        const QString& expression, const QDateTime& now = QDateTime::currentDateTimeUtc()) const;

    // `uri` is HOST:PORT or scheme://...; the device is contacted right after it is added.
    // Errors: link.bad-uri, link.unknown-scheme, store.duplicate, store.*.
    [[nodiscard]] virtual Result<qint64> addDevice(const QString& uri, const QString& name) = 0;
    [[nodiscard]] virtual Status removeDevice(qint64 id) = 0;
    // A device that appeared by itself (hot-plug): in the fleet until detachDevice(uri), not
    // stored. A device of that URI already in the fleet is returned as it is. Errors: as
    // addDevice; fleet.unsupported where the fleet cannot hold such devices (the default).
    [[nodiscard]] virtual Result<qint64> attachDevice(const QString& uri, const QString& name);
    // The device attached by `uri` went away: it leaves the fleet (a running operation on it is
    // cancelled). Devices added by a technician stay.
    virtual void detachDevice(const QString& uri);

    // The fleet's devices read a page at a time from where they live, filtered and sorted there
    // (fleet/DevicePages.h): how a view shows a fleet too large for devices() (otafleetd's).
    // Null where devices() holds the whole fleet (the default; EmbeddedFleet).
    [[nodiscard]] virtual std::shared_ptr<DevicePageSource> devicePages();

    // Where this fleet lives; EmbeddedFleet is Local. connectionChanged() follows changes.
    [[nodiscard]] virtual FleetConnection connection() const;

    // Errors returned at once: fleet.unknown-device, link.busy, link.unsupported, and what
    // opening the device's link can report (plugin, credentials).
    [[nodiscard]] virtual Status refresh(qint64 id) = 0;
    virtual void refreshAll() = 0;
    [[nodiscard]] virtual Status startUpdate(qint64 id, const QString& bundlePath,
                                             const link::UpdateOptions& options) = 0;
    [[nodiscard]] virtual Status commit(qint64 id) = 0;
    [[nodiscard]] virtual Status rollback(qint64 id) = 0;
    [[nodiscard]] virtual Status reboot(qint64 id) = 0;
    virtual void cancel(qint64 id) = 0;

    // Reads and verifies a bundle off the GUI thread against the fleet's release trust and, with
    // a device (`deviceId` != 0), that device's hardware, stored security version and agent
    // version, exactly as the device will. Always ends with one bundleInspected() for `path`.
    virtual void inspectBundle(const QString& path, qint64 deviceId) = 0;

Q_SIGNALS:
    void deviceAdded(qint64 id);
    void deviceChanged(qint64 id);
    void deviceRemoved(qint64 id);
    // Everything may have changed (a backend reconnected): views reload from devices().
    void fleetReset();
    void connectionChanged();
    void operationStarted(qint64 id, otafleet::link::LinkOperation operation);
    void operationProgress(qint64 id, const QString& phase, qint64 done, qint64 total);
    void operationFinished(qint64 id, otafleet::link::LinkOperation operation,
                           const std::optional<otafleet::Error>& error);
    void bundleInspected(const QString& path, const otafleet::fleet::BundleReport& report);

protected:
    explicit FleetService(QObject* parent = nullptr);
};

}  // namespace otafleet::fleet

Q_DECLARE_METATYPE(std::optional<otafleet::Error>)
