// The fleet run inside the console: devices and their history in a FleetStore (SQLite), each
// device reached through a DeviceLink from the DeviceHub. The store is the memory across runs;
// the links are opened on first use and kept while the device is in the fleet.
#pragma once

#include "fleet/FleetService.h"

#include <QFutureWatcher>
#include <QJsonObject>
#include <QList>

#include <functional>
#include <map>
#include <memory>

namespace otafleet::link {
class DeviceHub;
}
namespace otafleet::store {
class FleetStore;
}

namespace otafleet::fleet {

class EmbeddedFleet : public FleetService {
    Q_OBJECT
public:
    // Errors: store.* when the saved devices cannot be read.
    [[nodiscard]] static Result<std::unique_ptr<EmbeddedFleet>> create(
        std::unique_ptr<store::FleetStore> store, link::DeviceHub& hub, QObject* parent = nullptr);
    ~EmbeddedFleet() override;

    [[nodiscard]] QList<FleetDevice> devices() const override;
    [[nodiscard]] std::optional<FleetDevice> device(qint64 id) const override;
    [[nodiscard]] Result<qint64> addDevice(const QString& uri, const QString& name) override;
    [[nodiscard]] Status removeDevice(qint64 id) override;
    // Attached devices get negative ids (stored ones are positive), so the two never meet.
    [[nodiscard]] Result<qint64> attachDevice(const QString& uri, const QString& name) override;
    void detachDevice(const QString& uri) override;
    [[nodiscard]] Status refresh(qint64 id) override;
    void refreshAll() override;
    [[nodiscard]] Status startUpdate(qint64 id, const QString& bundlePath,
                                     const link::UpdateOptions& options) override;
    [[nodiscard]] Status commit(qint64 id) override;
    [[nodiscard]] Status rollback(qint64 id) override;
    [[nodiscard]] Status reboot(qint64 id) override;
    void cancel(qint64 id) override;
    void inspectBundle(const QString& path, qint64 deviceId) override;

    // The fleet's release trust: PKI/root-ca.pem of the PKI the console runs with. Without it
    // inspections end Unchecked (the devices still verify).
    void setTrustedRootFile(const QString& pemPath) { m_trustedRootFile = pemPath; }
    // What MCUboot images are checked against: a public key PEM file or a PKI directory (its
    // release signer). Without it image inspections end Unchecked (the devices still verify).
    void setReleaseKey(const QString& pemFileOrPkiDirectory) {
        m_releaseKey = pemFileOrPkiDirectory;
    }

    [[nodiscard]] store::FleetStore& store() { return *m_store; }

private:
    struct Entry {
        FleetDevice device;
        std::unique_ptr<link::DeviceLink> link;
    };

    EmbeddedFleet(std::unique_ptr<store::FleetStore> store, link::DeviceHub& hub, QObject* parent);
    [[nodiscard]] Status load();
    [[nodiscard]] Result<Entry*> entry(qint64 id);
    [[nodiscard]] Result<link::DeviceLink*> linkFor(Entry& entry);
    [[nodiscard]] Status start(qint64 id, link::LinkOperation operation,
                               const std::function<Status(link::DeviceLink&)>& begin);
    void onInfo(qint64 id, const link::DeviceSnapshot& snapshot);
    // Stores a device's telemetry and tells its link what may now be acknowledged.
    void onTelemetry(qint64 id, const QList<QJsonObject>& events);
    void onFinished(qint64 id, link::LinkOperation operation, const std::optional<Error>& error);
    void setError(Entry& entry, const std::optional<Error>& error);
    void logEvent(qint64 id, const QString& kind, const QString& detail);
    [[nodiscard]] static bool isStored(qint64 id) { return id > 0; }

    std::unique_ptr<store::FleetStore> m_store;
    link::DeviceHub& m_hub;
    std::map<qint64, Entry> m_entries;  // ordered by id: the order devices were added
    QString m_trustedRootFile;
    QString m_releaseKey;
    qint64 m_lastAttachedId = 0;  // counts down
    // Inspections still running; the destructor waits for them (they hold no pointer to us).
    QList<QFutureWatcher<BundleReport>*> m_inspections;
};

}  // namespace otafleet::fleet
