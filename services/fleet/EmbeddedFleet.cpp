#include "fleet/EmbeddedFleet.h"

#include "fleet/BundleInspection.h"
#include "link/DeviceHub.h"
#include "store/FleetStore.h"

#include <QJsonDocument>
#include <QLoggingCategory>
#include <QtConcurrent/QtConcurrentRun>

Q_LOGGING_CATEGORY(lcFleet, "otafleet.fleet")

namespace otafleet::fleet {

using link::DeviceLink;
using link::DeviceSnapshot;
using link::LinkOperation;

namespace {

Error unknownDevice(qint64 id) {
    return Error{QStringLiteral("fleet.unknown-device"),
                 QStringLiteral("Device %1 is not in the fleet; refresh the device list.").arg(id)};
}

// An unreachable device that answers again has no error left; a failed update stays visible
// until another operation succeeds.
bool clearedByRefresh(const Error& error) {
    return error.code.startsWith(QLatin1String("link."));
}

}  // namespace

EmbeddedFleet::EmbeddedFleet(std::unique_ptr<store::FleetStore> store, link::DeviceHub& hub,
                             QObject* parent)
    : FleetService(parent), m_store(std::move(store)), m_hub(hub) {}

EmbeddedFleet::~EmbeddedFleet() {
    // A worker verifying a large bundle finishes its file read; its result is dropped.
    for (QFutureWatcher<BundleReport>* watcher : std::as_const(m_inspections)) {
        watcher->disconnect(this);
        watcher->waitForFinished();
    }
    // Links first: their destructors cancel and wait for running calls.
    m_entries.clear();
}

Result<std::unique_ptr<EmbeddedFleet>> EmbeddedFleet::create(
    std::unique_ptr<store::FleetStore> store, link::DeviceHub& hub, QObject* parent) {
    std::unique_ptr<EmbeddedFleet> fleet(new EmbeddedFleet(std::move(store), hub, parent));
    if (auto loaded = fleet->load(); !loaded)
        return fail(loaded.error());
    return fleet;
}

Status EmbeddedFleet::load() {
    auto records = m_store->devices().all();
    if (!records)
        return fail(records.error());
    for (const store::DeviceRecord& r : *records) {
        FleetDevice d;
        d.id = r.id;
        d.uri = r.uri;
        d.name = r.displayName;
        d.lastSeen = r.lastSeen;
        if (!r.snapshotJson.isEmpty()) {
            // A damaged report is dropped, not fatal: the next refresh replaces it.
            auto snapshot = DeviceSnapshot::parse(r.snapshotJson);
            if (snapshot)
                d.snapshot = *snapshot;
            else
                qCWarning(lcFleet) << "device" << r.id << snapshot.error().message;
        }
        if (!r.lastErrorCode.isEmpty())
            d.lastError = Error{r.lastErrorCode, r.lastErrorMessage};
        m_entries[r.id].device = d;
    }
    return {};
}

QList<FleetDevice> EmbeddedFleet::devices() const {
    QList<FleetDevice> list;
    list.reserve(static_cast<qsizetype>(m_entries.size()));
    for (const auto& [id, e] : m_entries)
        list.append(e.device);
    return list;
}

std::optional<FleetDevice> EmbeddedFleet::device(qint64 id) const {
    const auto it = m_entries.find(id);
    if (it == m_entries.end())
        return std::nullopt;
    return it->second.device;
}

Result<qint64> EmbeddedFleet::addDevice(const QString& uri, const QString& name) {
    auto canonical = link::DeviceHub::normalizeUri(uri);
    if (!canonical)
        return fail(canonical.error());
    const QString uriText = canonical->toString();
    if (auto transport = m_hub.transportFor(uriText); !transport)
        return fail(transport.error());
    auto id = m_store->devices().add(uriText, name.trimmed());
    if (!id)
        return fail(id.error());
    Entry& e = m_entries[*id];
    e.device.id = *id;
    e.device.uri = uriText;
    e.device.name = name.trimmed();
    logEvent(*id, QStringLiteral("device.added"), uriText);
    qCInfo(lcFleet) << "added device" << *id << uriText;
    Q_EMIT deviceAdded(*id);
    // Contact it at once so the table fills in; a failure shows as the device's last error.
    if (auto started = refresh(*id); !started)
        qCInfo(lcFleet) << "first contact with" << uriText << "failed:" << started.error().code;
    return *id;
}

Status EmbeddedFleet::removeDevice(qint64 id) {
    auto e = entry(id);
    if (!e)
        return fail(e.error());
    if (!isStored(id)) {
        m_entries.erase(id);
        Q_EMIT deviceRemoved(id);
        return {};
    }
    if (auto removed = m_store->devices().remove(id); !removed)
        return removed;
    logEvent(id, QStringLiteral("device.removed"), (*e)->device.uri);
    m_entries.erase(id);  // the link's destructor cancels what still runs
    Q_EMIT deviceRemoved(id);
    return {};
}

Result<qint64> EmbeddedFleet::attachDevice(const QString& uri, const QString& name) {
    auto canonical = link::DeviceHub::normalizeUri(uri);
    if (!canonical)
        return fail(canonical.error());
    const QString uriText = canonical->toString();
    for (const auto& [id, e] : m_entries) {
        if (e.device.uri == uriText)
            return id;
    }
    if (auto transport = m_hub.transportFor(uriText); !transport)
        return fail(transport.error());
    const qint64 id = --m_lastAttachedId;
    Entry& e = m_entries[id];
    e.device.id = id;
    e.device.uri = uriText;
    e.device.name = name.trimmed();
    e.device.attached = true;
    qCInfo(lcFleet) << "attached device" << id << uriText;
    Q_EMIT deviceAdded(id);
    if (auto started = refresh(id); !started)
        qCInfo(lcFleet) << "first contact with" << uriText << "failed:" << started.error().code;
    return id;
}

void EmbeddedFleet::detachDevice(const QString& uri) {
    auto canonical = link::DeviceHub::normalizeUri(uri);
    const QString uriText = canonical ? canonical->toString() : uri;
    for (auto it = m_entries.begin(); it != m_entries.end(); ++it) {
        if (it->second.device.attached && it->second.device.uri == uriText) {
            const qint64 id = it->first;
            const std::optional<LinkOperation> running = it->second.device.running;
            qCInfo(lcFleet) << "detached device" << id << uriText;
            m_entries.erase(it);  // the link's destructor cancels what still runs
            // Whoever follows the operation hears how it ended: the device left with it.
            if (running) {
                Q_EMIT operationFinished(
                    id, *running,
                    Error{QStringLiteral("link.device-gone"),
                          QStringLiteral("The device was unplugged during the %1. Plug it in "
                                         "again and repeat; an upload resumes where the device "
                                         "stopped.")
                              .arg(link::operationName(*running))});
            }
            Q_EMIT deviceRemoved(id);
            return;
        }
    }
}

Result<EmbeddedFleet::Entry*> EmbeddedFleet::entry(qint64 id) {
    const auto it = m_entries.find(id);
    if (it == m_entries.end())
        return fail(unknownDevice(id));
    return &it->second;
}

Result<DeviceLink*> EmbeddedFleet::linkFor(Entry& e) {
    if (e.link)
        return e.link.get();
    auto opened = m_hub.open(e.device.uri);
    if (!opened)
        return fail(opened.error());
    e.link = std::move(*opened);
    const qint64 id = e.device.id;
    DeviceLink* l = e.link.get();
    connect(l, &DeviceLink::infoReceived, this,
            [this, id](const DeviceSnapshot& snapshot) { onInfo(id, snapshot); });
    // Telemetry already in the store is acknowledged at the first refresh of this run.
    if (auto stored = m_store->telemetry().lastSeq(id))
        l->setTelemetryStoredThrough(*stored);
    connect(l, &DeviceLink::eventsReceived, this,
            [this, id](const QList<QJsonObject>& events) { onTelemetry(id, events); });
    connect(l, &DeviceLink::progress, this,
            [this, id](link::UpdatePhase phase, qint64 done, qint64 total) {
                Q_EMIT operationProgress(id, link::phaseText(phase), done, total);
            });
    connect(l, &DeviceLink::finished, this,
            [this, id](LinkOperation operation, const std::optional<Error>& error) {
                onFinished(id, operation, error);
            });
    return l;
}

Status EmbeddedFleet::start(qint64 id, LinkOperation operation,
                            const std::function<Status(DeviceLink&)>& begin) {
    auto e = entry(id);
    if (!e)
        return fail(e.error());
    auto l = linkFor(**e);
    Status started = l ? begin(**l) : Status(fail(l.error()));
    if (!started) {
        // A link that cannot even be opened is the device's problem to show, not a busy link.
        if (started.error().code != QLatin1String("link.busy")) {
            setError(**e, started.error());
            Q_EMIT deviceChanged(id);
        }
        return started;
    }
    (*e)->device.running = operation;
    Q_EMIT deviceChanged(id);
    Q_EMIT operationStarted(id, operation);
    return {};
}

Status EmbeddedFleet::refresh(qint64 id) {
    return start(id, LinkOperation::Refresh, [](DeviceLink& l) { return l.refresh(); });
}

void EmbeddedFleet::refreshAll() {
    for (const auto& [id, e] : m_entries) {
        if (!e.device.running)
            (void)refresh(id);  // a failure is recorded on the device and shown in the table
    }
}

Status EmbeddedFleet::startUpdate(qint64 id, const QString& bundlePath,
                                  const link::UpdateOptions& options) {
    auto started = start(id, LinkOperation::Update,
                         [&](DeviceLink& l) { return l.pushUpdate(bundlePath, options); });
    if (started)
        logEvent(id, QStringLiteral("update.started"), bundlePath);
    return started;
}

Status EmbeddedFleet::commit(qint64 id) {
    return start(id, LinkOperation::Commit, [](DeviceLink& l) { return l.commit(); });
}

Status EmbeddedFleet::rollback(qint64 id) {
    return start(id, LinkOperation::Rollback, [](DeviceLink& l) { return l.rollback(); });
}

Status EmbeddedFleet::reboot(qint64 id) {
    return start(id, LinkOperation::Reboot, [](DeviceLink& l) { return l.reboot(); });
}

void EmbeddedFleet::cancel(qint64 id) {
    const auto it = m_entries.find(id);
    if (it != m_entries.end() && it->second.link)
        it->second.link->cancel();
}

void EmbeddedFleet::inspectBundle(const QString& path, qint64 deviceId) {
    BundleCheck check;
    check.bundlePath = path;
    check.trustPemPath = m_trustedRootFile;
    check.releaseKeyPath = m_releaseKey;
    check.deviceId = deviceId;
    if (const auto it = m_entries.find(deviceId); it != m_entries.end()) {
        check.deviceClass = it->second.device.isMcu() ? DeviceClass::Mcu : DeviceClass::Linux;
        // A device never heard from is checked as a workstation would; it checks itself anyway.
        if (const auto& snapshot = it->second.device.snapshot) {
            check.hardware = snapshot->hardware;
            check.minSecurityVersion = snapshot->storedSecurityVersion;
            check.agentVersion = snapshot->agentVersion;
        }
    }
    auto* watcher = new QFutureWatcher<BundleReport>(this);
    m_inspections.append(watcher);
    connect(watcher, &QFutureWatcher<BundleReport>::finished, this, [this, watcher, path] {
        m_inspections.removeOne(watcher);
        watcher->deleteLater();
        const BundleReport report = watcher->result();
        qCInfo(lcFleet) << "inspected" << path << "for device" << report.deviceId << "->"
                        << (report.error ? report.error->code : QStringLiteral("verified"));
        Q_EMIT bundleInspected(path, report);
    });
    // The check is copied into the task: the worker never touches this object.
    watcher->setFuture(QtConcurrent::run([check] { return fleet::inspectBundle(check); }));
}

void EmbeddedFleet::onInfo(qint64 id, const DeviceSnapshot& snapshot) {
    auto e = entry(id);
    if (!e)
        return;
    FleetDevice& d = (*e)->device;
    d.snapshot = snapshot;
    d.lastSeen = QDateTime::currentDateTimeUtc();
    if (!isStored(id))
        return;
    const QByteArray json = QJsonDocument(snapshot.toJson()).toJson(QJsonDocument::Compact);
    if (auto saved = m_store->devices().recordSnapshot(id, json, d.lastSeen); !saved)
        qCWarning(lcFleet) << "could not save the report of device" << id << saved.error().message;
}

void EmbeddedFleet::onTelemetry(qint64 id, const QList<QJsonObject>& events) {
    auto e = entry(id);
    if (!e || !(*e)->link || !isStored(id))
        return;
    QList<store::TelemetryRecord> records;
    quint64 last = 0;
    for (const QJsonObject& event : events) {
        store::TelemetryRecord r;
        r.deviceId = id;
        r.seq = quint64(event.value(QStringLiteral("seq")).toDouble());
        r.time = QDateTime::fromString(event.value(QStringLiteral("time")).toString(),
                                       Qt::ISODateWithMs);
        const QString type = event.value(QStringLiteral("type")).toString();
        r.type =
            type == QLatin1String("phase") ? event.value(QStringLiteral("phase")).toString() : type;
        r.json = QJsonDocument(event).toJson(QJsonDocument::Compact);
        if (r.seq == 0)
            continue;  // not an agent event; nothing to acknowledge it by
        last = std::max(last, r.seq);
        records.append(std::move(r));
    }
    // Acknowledged only once stored: if the store fails, the device keeps the events.
    if (auto stored = m_store->telemetry().append(records); !stored) {
        qCWarning(lcFleet) << "could not store the telemetry of device" << id
                           << stored.error().message;
        return;
    }
    (*e)->link->setTelemetryStoredThrough(last);
}

void EmbeddedFleet::onFinished(qint64 id, LinkOperation operation,
                               const std::optional<Error>& error) {
    auto e = entry(id);
    if (!e)
        return;
    FleetDevice& d = (*e)->device;
    d.running.reset();
    const QString kind = link::operationName(operation);
    if (error) {
        setError(**e, error);
        logEvent(id, kind + QStringLiteral(".failed"), error->toString());
    } else {
        if (operation != LinkOperation::Refresh || (d.lastError && clearedByRefresh(*d.lastError)))
            setError(**e, std::nullopt);
        if (operation != LinkOperation::Refresh) {
            logEvent(id, kind + QStringLiteral(".finished"),
                     d.snapshot ? d.snapshot->activeVersion() : QString());
        }
    }
    Q_EMIT deviceChanged(id);
    Q_EMIT operationFinished(id, operation, error);
    // A failed or cancelled update may have left the device somewhere new (reverted, slot marked
    // bad, install finished after the client gave up): ask, unless it cannot be reached.
    if (error && operation != LinkOperation::Refresh &&
        (!clearedByRefresh(*error) || error->code == QLatin1String("link.cancelled")))
        (void)refresh(id);
}

void EmbeddedFleet::setError(Entry& e, const std::optional<Error>& error) {
    e.device.lastError = error;
    if (!isStored(e.device.id))
        return;
    const Status saved =
        error ? m_store->devices().recordError(e.device.id, error->code, error->message)
              : m_store->devices().clearError(e.device.id);
    if (!saved)
        qCWarning(lcFleet) << "could not save the error of device" << e.device.id;
}

void EmbeddedFleet::logEvent(qint64 id, const QString& kind, const QString& detail) {
    if (!isStored(id))
        return;
    if (auto logged = m_store->events().append(id, kind, detail); !logged)
        qCWarning(lcFleet) << "could not log" << kind << "for device" << id;
}

}  // namespace otafleet::fleet
