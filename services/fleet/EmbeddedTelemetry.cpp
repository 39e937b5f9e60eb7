#include "fleet/EmbeddedTelemetry.h"

#include "fleet/EmbeddedFleet.h"
#include "fleet/RolloutService.h"
#include "link/DeviceSnapshot.h"
#include "rollout/Clock.h"
#include "rollout/RolloutEngine.h"
#include "store/FleetStore.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QPointer>

#include <algorithm>
#include <limits>

Q_LOGGING_CATEGORY(lcTelemetry, "otafleet.fleet.telemetry")

namespace otafleet::fleet {

namespace {

constexpr double kBytesPerMegabyte = 1e6;
constexpr double kMsPerSecond = 1000.0;

QJsonObject eventBody(const store::TelemetryRecord& r) {
    return QJsonDocument::fromJson(r.json).object();
}

Result<RolloutTelemetry> rolloutTelemetry(store::FleetStore& store,
                                          const store::RolloutRecord& record) {
    const rollout::SystemClock clock;  // the engine is only read, never ticked
    auto engine = rollout::RolloutEngine::fromJsonBytes(record.engineJson, clock);
    if (!engine)
        return fail(engine.error());
    const rollout::RolloutStatus status = engine->status();
    RolloutTelemetry t;
    t.id = record.id;
    t.name = record.name;
    t.state = rollout::rolloutStateName(status.state);
    t.successThreshold = engine->plan().successThreshold;
    t.failureThreshold = engine->plan().failureThreshold;
    t.minExecuted = engine->plan().minExecuted;
    t.total = status.total;
    for (const rollout::WaveStatus& w : status.waves) {
        if (w.phase == rollout::WaveStatus::Phase::Waiting)
            continue;
        t.waves.append(
            {w.number, w.size, w.succeeded, w.failed, w.skipped, w.inProgress + w.pending});
    }

    auto events = store.rolloutEvents().forRollout(record.id);
    if (!events)
        return fail(events.error());
    QList<DeviceStateChange> changes;
    changes.reserve(events->size());
    for (const store::RolloutEventRecord& e : std::as_const(*events)) {
        const auto state = rollout::deviceStateFromName(e.state);
        if (!state)
            continue;  // written by a newer console; its state is not one this build knows
        changes.append({e.deviceId, e.time, *state, e.reason});
    }
    // Recorded in order of arrival; what a device reported late still happened when it says.
    std::stable_sort(
        changes.begin(), changes.end(),
        [](const DeviceStateChange& a, const DeviceStateChange& b) { return a.time < b.time; });
    QDateTime start = !status.waves.isEmpty() && status.waves.first().startedAt.isValid()
                          ? status.waves.first().startedAt
                          : QDateTime();
    if (!changes.isEmpty() && (!start.isValid() || changes.first().time < start))
        start = changes.first().time;
    if (start.isValid())
        t.progress = replayProgress(status.total, start, changes);
    t.failureReasons = failureReasons(changes);
    return t;
}

Result<TelemetryReport> buildReport(store::FleetStore& store, qint64 rolloutId) {
    TelemetryReport report;
    report.generated = QDateTime::currentDateTimeUtc();
    auto rollouts = store.rollouts().all();
    if (!rollouts)
        return fail(rollouts.error());
    if (rolloutId == 0) {
        qint64 newest = 0;
        qint64 newestStarted = 0;
        for (const store::RolloutRecord& r : std::as_const(*rollouts)) {
            newest = r.id;
            const auto state = rollout::rolloutStateFromName(r.state);
            if (state && *state != rollout::RolloutState::Draft &&
                *state != rollout::RolloutState::AwaitingApproval)
                newestStarted = r.id;
        }
        rolloutId = newestStarted ? newestStarted : newest;
    }
    for (const store::RolloutRecord& r : std::as_const(*rollouts)) {
        report.rollouts.append({r.id, r.name, r.state});
        if (r.id != rolloutId)
            continue;
        auto chosen = rolloutTelemetry(store, r);
        if (!chosen)
            return fail(chosen.error());
        report.rollout = std::move(*chosen);
    }

    auto events = store.telemetry().ofTypes({QStringLiteral("upload-completed"),
                                             QStringLiteral("install-done"), QStringLiteral("boot"),
                                             QStringLiteral("commit")});
    if (!events)
        return fail(events.error());
    QList<double> throughput;
    QList<double> installSeconds;
    QList<VersionSighting> sightings;
    for (const store::TelemetryRecord& r : std::as_const(*events)) {
        const QJsonObject body = eventBody(r);
        if (r.type == QLatin1String("upload-completed")) {
            const double bytesPerSecond =
                body.value(QStringLiteral("throughput_bytes_per_s")).toDouble(-1);
            if (bytesPerSecond > 0)
                throughput.append(bytesPerSecond / kBytesPerMegabyte);
        } else if (r.type == QLatin1String("install-done")) {
            const double ms = body.value(QStringLiteral("duration_ms")).toDouble(-1);
            if (ms >= 0)
                installSeconds.append(ms / kMsPerSecond);
        } else {
            sightings.append(
                {r.deviceId, r.time, body.value(QStringLiteral("version")).toString()});
        }
    }
    // A device's last report is the latest sighting of what it runs.
    auto devices = store.devices().all();
    if (!devices)
        return fail(devices.error());
    for (const store::DeviceRecord& d : std::as_const(*devices)) {
        if (d.snapshotJson.isEmpty() || !d.lastSeen.isValid())
            continue;
        if (auto snapshot = link::DeviceSnapshot::parse(d.snapshotJson))
            sightings.append({d.id, d.lastSeen, snapshot->activeVersion()});
    }
    report.adoption = versionAdoption(std::move(sightings), report.generated);
    report.throughputMBps = histogram(throughput);
    report.installSeconds = histogram(installSeconds);
    return report;
}

}  // namespace

// Owns the worker thread's own store connection; everything it does runs in that thread.
class EmbeddedTelemetry::Worker : public QObject {
public:
    explicit Worker(QString path) : m_path(std::move(path)) {}

    void serve(quint64 request, qint64 rolloutId, const std::atomic<quint64>& latest,
               const QPointer<EmbeddedTelemetry>& owner) {
        if (request < latest.load())
            return;  // a newer request follows; it answers for this one
        Result<TelemetryReport> report = [&]() -> Result<TelemetryReport> {
            if (!m_store) {
                auto opened = store::FleetStore::open(m_path);
                if (!opened)
                    return fail(opened.error());
                m_store = std::move(*opened);
            }
            return buildReport(*m_store, rolloutId);
        }();
        QMetaObject::invokeMethod(
            owner.data(),
            [owner, request, report = std::move(report)] {
                if (!owner)
                    return;
                if (report)
                    Q_EMIT owner->reportReady(request, *report);
                else
                    Q_EMIT owner->reportFailed(request, report.error());
            },
            Qt::QueuedConnection);
    }

private:
    QString m_path;
    std::unique_ptr<store::FleetStore> m_store;
};

EmbeddedTelemetry::EmbeddedTelemetry(EmbeddedFleet& fleet, RolloutService* rollouts,
                                     QObject* parent)
    : TelemetryService(parent),
      m_worker(new Worker(fleet.store().path())),
      m_latest(std::make_shared<std::atomic<quint64>>(0)) {
    qRegisterMetaType<TelemetryReport>();
    m_thread.setObjectName(QStringLiteral("telemetry"));
    m_worker->moveToThread(&m_thread);
    // Deleted in its own thread, so its store connection is closed where it was opened.
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    m_thread.start(QThread::LowPriority);
    const auto changed = [this] { Q_EMIT dataChanged(); };
    connect(&fleet, &FleetService::operationFinished, this, changed);
    connect(&fleet, &FleetService::fleetReset, this, changed);
    if (rollouts) {
        connect(rollouts, &RolloutService::rolloutAdded, this, changed);
        connect(rollouts, &RolloutService::rolloutChanged, this, changed);
    }
}

EmbeddedTelemetry::~EmbeddedTelemetry() {
    m_latest->store(std::numeric_limits<quint64>::max());  // skip what is still queued
    m_thread.quit();
    m_thread.wait();
}

quint64 EmbeddedTelemetry::requestReport(qint64 rolloutId) {
    const quint64 request = ++m_next;
    m_latest->store(request);
    QPointer<EmbeddedTelemetry> owner(this);
    Worker* worker = m_worker;
    std::shared_ptr<std::atomic<quint64>> latest = m_latest;
    QMetaObject::invokeMethod(
        worker,
        [worker, request, rolloutId, latest, owner] {
            worker->serve(request, rolloutId, *latest, owner);
        },
        Qt::QueuedConnection);
    return request;
}

}  // namespace otafleet::fleet
