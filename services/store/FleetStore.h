// The fleet's database: one SQLite file in WAL mode (so a reader never waits for the writer) or a
// PostgreSQL database (store/SqlDialect.h: a postgresql:// URL), its schema brought up to date on
// open by numbered migrations (each in a transaction), and the repositories that read and write
// it; the same repositories run on both. Each FleetStore owns its own
// uniquely named Qt SQL connection, so several stores (tests, threads) never share one.
#pragma once

#include "common/Error.h"
#include "store/AuditLog.h"
#include "store/DeviceRepository.h"
#include "store/DeviceTelemetryRepository.h"
#include "store/EventLog.h"
#include "store/FleetDeviceRepository.h"
#include "store/ReleaseRepository.h"
#include "store/RolloutEventLog.h"
#include "store/RolloutRepository.h"
#include "store/TelemetryRepository.h"
#include "store/UserRepository.h"

#include <QString>

#include <memory>

namespace otafleet::store {

class FleetStore {
public:
    // `path`: a SQLite file, or a postgresql:// URL. Errors: store.open-failed (location and
    // reason), store.migration-failed, store.too-new (written by a newer otafleet),
    // store.location-invalid and store.driver-missing (PostgreSQL only).
    [[nodiscard]] static Result<std::unique_ptr<FleetStore>> open(const QString& path);
    ~FleetStore();
    FleetStore(const FleetStore&) = delete;
    FleetStore& operator=(const FleetStore&) = delete;

    [[nodiscard]] QString path() const { return m_path; }
    [[nodiscard]] int schemaVersion() const;
    [[nodiscard]] QString journalMode() const;  // "wal" once open; "postgresql" there
    [[nodiscard]] bool isPostgres() const;

    [[nodiscard]] DeviceRepository& devices() { return *m_devices; }
    [[nodiscard]] EventLog& events() { return *m_events; }
    [[nodiscard]] TelemetryRepository& telemetry() { return *m_telemetry; }
    // otafleetd's tables.
    [[nodiscard]] UserRepository& users() { return *m_users; }
    [[nodiscard]] AuditLog& audit() { return *m_audit; }
    [[nodiscard]] FleetDeviceRepository& fleetDevices() { return *m_fleetDevices; }
    [[nodiscard]] ReleaseRepository& releases() { return *m_releases; }
    [[nodiscard]] RolloutRepository& rollouts() { return *m_rollouts; }
    [[nodiscard]] RolloutEventLog& rolloutEvents() { return *m_rolloutEvents; }
    [[nodiscard]] DeviceTelemetryRepository& deviceTelemetry() { return *m_deviceTelemetry; }

    // The newest schema this build knows.
    [[nodiscard]] static int latestSchemaVersion();

private:
    FleetStore(QString path, QString connectionName);
    [[nodiscard]] static Result<std::unique_ptr<FleetStore>> openPostgres(const QString& url);

    QString m_path;
    QString m_connectionName;
    std::unique_ptr<DeviceRepository> m_devices;
    std::unique_ptr<EventLog> m_events;
    std::unique_ptr<TelemetryRepository> m_telemetry;
    std::unique_ptr<UserRepository> m_users;
    std::unique_ptr<AuditLog> m_audit;
    std::unique_ptr<FleetDeviceRepository> m_fleetDevices;
    std::unique_ptr<ReleaseRepository> m_releases;
    std::unique_ptr<RolloutRepository> m_rollouts;
    std::unique_ptr<RolloutEventLog> m_rolloutEvents;
    std::unique_ptr<DeviceTelemetryRepository> m_deviceTelemetry;
};

}  // namespace otafleet::store
