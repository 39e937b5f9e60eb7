// The fleet of an otafleetd, as the console's views see every fleet (FleetService): the devices
// the server knows, kept in a mirror that a worker thread refreshes through ConsoleService
// (ListDevices, page by page) so that the GUI thread never waits on the network. When the
// server is lost the mirror stays as it was and the worker reconnects with growing pauses,
// signing in again when its token expired; connection() says where it stands.
//
// Devices reach otafleetd by themselves (they enrol and dial in), and the server updates them
// through rollouts: adding, removing and direct device operations are refused with
// fleet.server-managed and a sentence that says what to do instead.
#pragma once

#include "consoleclient/ConsoleSettings.h"
#include "fleet/FleetService.h"

#include <QHash>
#include <QMap>
#include <QThread>

#include <chrono>
#include <memory>

namespace otafleet::fleet {

struct RemoteFleetOptions {
    std::chrono::milliseconds pollInterval{5000};  // while online
    std::chrono::milliseconds backoffInitial{1000};
    std::chrono::milliseconds backoffMax{30000};
    std::chrono::seconds callDeadline{10};
    // The mirror holds at most this many devices (the server pages them 1,000 at a time); a
    // larger fleet is cut there and connection().error says so.
    int maxDevices = 100000;
    QString trustedRootFile;  // for inspectBundle(): the fleet root; empty: unchecked
};

class RemoteFleetWorker;

class RemoteFleet final : public FleetService {
    Q_OBJECT
public:
    // Starts connecting at once (connection() is Connecting until the first answer).
    // `settings.password` is kept, in memory only, to sign in again after a reconnect.
    explicit RemoteFleet(client::ConsoleSettings settings, RemoteFleetOptions options = {},
                         QObject* parent = nullptr);
    ~RemoteFleet() override;

    [[nodiscard]] QList<FleetDevice> devices() const override;
    [[nodiscard]] std::optional<FleetDevice> device(qint64 id) const override;
    [[nodiscard]] FleetConnection connection() const override;
    // ListDevices page by page on a connection of its own (fleet/RemoteDevicePages.h): the
    // console's device table, for fleets of any size (the mirror stops at maxDevices).
    [[nodiscard]] std::shared_ptr<DevicePageSource> devicePages() override;
    // The server's id of a device (its certificate's common name), empty for an unknown id.
    [[nodiscard]] QString serverDeviceId(qint64 id) const;
    // The console's id of the server's device `serverDeviceId`: the one the mirror uses, given
    // now for a device the mirror has not fetched yet (it keeps it when the device arrives).
    [[nodiscard]] qint64 idFor(const QString& serverDeviceId);

    [[nodiscard]] Result<qint64> addDevice(const QString& uri, const QString& name) override;
    [[nodiscard]] Status removeDevice(qint64 id) override;
    [[nodiscard]] Status refresh(qint64 id) override;
    void refreshAll() override;
    [[nodiscard]] Status startUpdate(qint64 id, const QString& bundlePath,
                                     const link::UpdateOptions& options) override;
    [[nodiscard]] Status commit(qint64 id) override;
    [[nodiscard]] Status rollback(qint64 id) override;
    [[nodiscard]] Status reboot(qint64 id) override;
    void cancel(qint64 id) override;
    void inspectBundle(const QString& path, qint64 deviceId) override;

private:
    void apply(const QList<FleetDevice>& fetched);
    void setConnection(const FleetConnection& connection);
    [[nodiscard]] Status serverManaged(qint64 id, const QString& what) const;

    RemoteFleetOptions m_options;
    client::ConsoleSettings m_pageSettings;  // for devicePages(); the password in memory only
    std::shared_ptr<DevicePageSource> m_pages;
    QThread m_thread;
    RemoteFleetWorker* m_worker = nullptr;  // lives in m_thread
    FleetConnection m_connection;
    QMap<qint64, FleetDevice> m_devices;
    QHash<QString, qint64> m_ids;  // server device id -> console id, stable while it runs
    qint64 m_nextId = 0;
};

}  // namespace otafleet::fleet
