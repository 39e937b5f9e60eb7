#include "store/FleetStore.h"

#include "store/Migrations.h"
#include "store/SqlDialect.h"
#include "store/SqlError.h"

#include <QDir>
#include <QFileInfo>
#include <QSqlDatabase>
#include <QSqlQuery>

#include <atomic>

namespace otafleet::store {

namespace {

constexpr int kBusyTimeoutMs = 5000;

QString uniqueConnectionName() {
    static std::atomic<quint64> counter{0};
    return QStringLiteral("otafleet-store-%1").arg(++counter);
}

Error openError(const QString& path, const QString& why) {
    return Error{QStringLiteral("store.open-failed"),
                 QStringLiteral("The fleet database %1 could not be opened (%2). Check that the "
                                "data directory exists and is writable.")
                     .arg(QDir::toNativeSeparators(path), why)};
}

}  // namespace

FleetStore::FleetStore(QString path, QString connectionName)
    : m_path(std::move(path)),
      m_connectionName(std::move(connectionName)),
      m_devices(std::make_unique<DeviceRepository>(m_connectionName)),
      m_events(std::make_unique<EventLog>(m_connectionName)),
      m_telemetry(std::make_unique<TelemetryRepository>(m_connectionName)),
      m_users(std::make_unique<UserRepository>(m_connectionName)),
      m_audit(std::make_unique<AuditLog>(m_connectionName)),
      m_fleetDevices(std::make_unique<FleetDeviceRepository>(m_connectionName)),
      m_releases(std::make_unique<ReleaseRepository>(m_connectionName)),
      m_rollouts(std::make_unique<RolloutRepository>(m_connectionName)),
      m_rolloutEvents(std::make_unique<RolloutEventLog>(m_connectionName)),
      m_deviceTelemetry(std::make_unique<DeviceTelemetryRepository>(m_connectionName)) {}

FleetStore::~FleetStore() {
    m_devices.reset();
    m_events.reset();
    m_telemetry.reset();
    m_users.reset();
    m_audit.reset();
    m_fleetDevices.reset();
    m_releases.reset();
    m_rollouts.reset();
    m_deviceTelemetry.reset();
    {
        QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
        db.close();
    }
    QSqlDatabase::removeDatabase(m_connectionName);
}

Result<std::unique_ptr<FleetStore>> FleetStore::open(const QString& path) {
    if (isPostgresLocation(path))
        return openPostgres(path);
    const QFileInfo info(path);
    if (!QDir().mkpath(info.absolutePath()))
        return fail(openError(path, QStringLiteral("its folder cannot be created")));

    const QString name = uniqueConnectionName();
    // From here on the destructor removes the connection, also on failure.
    std::unique_ptr<FleetStore> store(new FleetStore(info.absoluteFilePath(), name));
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
    db.setDatabaseName(info.absoluteFilePath());
    db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=%1").arg(kBusyTimeoutMs));
    if (!db.open())
        return fail(openError(path, db.lastError().text()));

    QSqlQuery pragma(db);
    if (!pragma.exec(QStringLiteral("PRAGMA journal_mode=WAL")) || !pragma.next() ||
        pragma.value(0).toString().toLower() != QLatin1String("wal")) {
        return fail(openError(path, QStringLiteral("write-ahead logging is not available")));
    }
    // NORMAL is durable across application crashes in WAL mode and much faster than FULL.
    if (!pragma.exec(QStringLiteral("PRAGMA synchronous=NORMAL")) ||
        !pragma.exec(QStringLiteral("PRAGMA foreign_keys=ON"))) {
        return fail(openError(path, pragma.lastError().text()));
    }
    if (auto migrated = migrate(db); !migrated)
        return fail(migrated.error());
    return store;
}

Result<std::unique_ptr<FleetStore>> FleetStore::openPostgres(const QString& url) {
    const QString name = uniqueConnectionName();
    std::unique_ptr<FleetStore> store(new FleetStore(url, name));
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), name);
    if (auto configured = configurePostgres(db, url); !configured)
        return fail(configured.error());
    if (!db.open()) {
        return fail(Error{QStringLiteral("store.open-failed"),
                          QStringLiteral("The PostgreSQL database %1 could not be opened (%2). "
                                         "Check that the server runs, the database exists and "
                                         "the user may connect.")
                              .arg(db.databaseName(), db.lastError().text().trimmed())});
    }
    if (auto migrated = migrate(db); !migrated)
        return fail(migrated.error());
    return store;
}

bool FleetStore::isPostgres() const {
    return backendOf(QSqlDatabase::database(m_connectionName, false)) == SqlBackend::Postgres;
}

int FleetStore::schemaVersion() const {
    QSqlDatabase db = QSqlDatabase::database(m_connectionName);
    auto version = schemaVersionOf(db);
    return version ? *version : -1;
}

QString FleetStore::journalMode() const {
    if (isPostgres())
        return QStringLiteral("postgresql");
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    if (!query.exec(QStringLiteral("PRAGMA journal_mode")) || !query.next())
        return QString();
    return query.value(0).toString().toLower();
}

int FleetStore::latestSchemaVersion() {
    return latestMigration();
}

}  // namespace otafleet::store
