#include "fleet/EmbeddedRollouts.h"

#include "fleet/EmbeddedFleet.h"
#include "store/FleetStore.h"

#include <QFileInfo>
#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcRollouts, "otafleet.fleet.rollouts")

namespace otafleet::fleet {

using rollout::DeviceEvent;
using rollout::DeviceState;
using rollout::RolloutEngine;
using rollout::RolloutState;

namespace {

Error unknownRollout(qint64 id) {
    return Error{QStringLiteral("fleet.unknown-rollout"),
                 QStringLiteral("Rollout %1 does not exist; reload the rollout list.").arg(id)};
}

QString reasonOf(const Error& error) {
    return (error.code + QLatin1String(": ") + error.message).left(RolloutEngine::kMaxReasonLength);
}

bool isActive(RolloutState state) {
    return state == RolloutState::Scheduled || state == RolloutState::Running;
}

}  // namespace

EmbeddedRollouts::EmbeddedRollouts(EmbeddedFleet& fleet, const rollout::Clock& clock,
                                   QObject* parent)
    : RolloutService(parent), m_fleet(fleet), m_clock(clock) {
    m_timer.setInterval(kDefaultTickMs);
    connect(&m_timer, &QTimer::timeout, this, &EmbeddedRollouts::tick);
    connect(&m_fleet, &FleetService::operationProgress, this,
            [this](qint64 id, const QString&, qint64, qint64) { onProgress(id); });
    connect(&m_fleet, &FleetService::operationFinished, this, &EmbeddedRollouts::onFinished);
}

EmbeddedRollouts::~EmbeddedRollouts() = default;

Result<std::unique_ptr<EmbeddedRollouts>> EmbeddedRollouts::create(EmbeddedFleet& fleet,
                                                                   const rollout::Clock& clock,
                                                                   QObject* parent) {
    std::unique_ptr<EmbeddedRollouts> rollouts(new EmbeddedRollouts(fleet, clock, parent));
    if (auto loaded = rollouts->load(); !loaded)
        return fail(loaded.error());
    rollouts->updateTimer();
    return rollouts;
}

Status EmbeddedRollouts::load() {
    auto records = m_fleet.store().rollouts().all();
    if (!records)
        return fail(records.error());
    for (const store::RolloutRecord& r : std::as_const(*records)) {
        auto engine = RolloutEngine::fromJsonBytes(r.engineJson, m_clock);
        if (!engine) {
            return fail(engine.error().code,
                        QStringLiteral("Rollout %1 (%2) in the fleet database cannot be resumed: "
                                       "%3")
                            .arg(r.id)
                            .arg(r.name, engine.error().message));
        }
        m_entries.emplace(r.id, Entry{r.name, r.bundlePath, std::move(*engine)});
    }
    return {};
}

Result<EmbeddedRollouts::Entry*> EmbeddedRollouts::entry(qint64 id) {
    const auto it = m_entries.find(id);
    if (it == m_entries.end())
        return fail(unknownRollout(id));
    return &it->second;
}

Result<qint64> EmbeddedRollouts::createRollout(const QString& name, const QString& bundlePath,
                                               const rollout::RolloutPlan& plan,
                                               const QList<qint64>& deviceIds,
                                               const QString& author) {
    if (!QFileInfo(bundlePath).isFile()) {
        return fail(QStringLiteral("fleet.bundle-missing"),
                    QStringLiteral("The bundle %1 does not exist; choose the release's .otab "
                                   "file.")
                        .arg(bundlePath));
    }
    if (deviceIds.isEmpty()) {
        return fail(QStringLiteral("fleet.no-targets"),
                    QStringLiteral("A rollout needs at least one device; select its targets."));
    }
    QStringList targets;
    for (qint64 id : deviceIds) {
        const auto device = m_fleet.device(id);
        if (!device) {
            return fail(
                QStringLiteral("fleet.unknown-device"),
                QStringLiteral("Device %1 is not in the fleet; refresh the device list.").arg(id));
        }
        if (device->isMcu()) {
            // A rollout delivers a signed .otab bundle, which an MCUboot device cannot take.
            return fail(QStringLiteral("fleet.mcu-target"),
                        QStringLiteral("%1 is a microcontroller (MCUmgr); rollouts deliver "
                                       "otafleet bundles. Leave it out of the target and update "
                                       "it with Update… and an MCUboot image.")
                            .arg(device->displayName()));
        }
        targets.append(QString::number(id));
    }
    auto engine = RolloutEngine::create(plan, author, targets, m_clock);
    if (!engine)
        return fail(engine.error());
    auto id = m_fleet.store().rollouts().add(name, QFileInfo(bundlePath).absoluteFilePath(),
                                             rollout::rolloutStateName(engine->state()),
                                             engine->toJsonBytes(), m_clock.now());
    if (!id)
        return fail(id.error());
    m_entries.emplace(*id,
                      Entry{name, QFileInfo(bundlePath).absoluteFilePath(), std::move(*engine)});
    qCInfo(lcRollouts) << "created rollout" << *id << name << "of" << targets.size() << "devices";
    Q_EMIT rolloutAdded(*id);
    return *id;
}

Status EmbeddedRollouts::command(qint64 id, const std::function<Status(RolloutEngine&)>& action) {
    auto e = entry(id);
    if (!e)
        return fail(e.error());
    if (auto done = action((*e)->engine); !done)
        return done;
    auto saved = persist(id, **e);
    Q_EMIT rolloutChanged(id);
    updateTimer();
    return saved;
}

Status EmbeddedRollouts::approve(qint64 id, const QString& user) {
    return command(id, [&user](RolloutEngine& engine) { return engine.approve(user); });
}
Status EmbeddedRollouts::start(qint64 id, const QString& user) {
    return command(id, [&user](RolloutEngine& engine) { return engine.start(user); });
}
Status EmbeddedRollouts::pause(qint64 id, const QString& user) {
    return command(id, [&user](RolloutEngine& engine) { return engine.pause(user); });
}
Status EmbeddedRollouts::resume(qint64 id, const QString& user) {
    return command(id, [&user](RolloutEngine& engine) { return engine.resume(user); });
}
Status EmbeddedRollouts::abort(qint64 id, const QString& user) {
    return command(id, [&user](RolloutEngine& engine) { return engine.abort(user); });
}
Status EmbeddedRollouts::retryFailed(qint64 id, const QString& user) {
    return command(id, [this, id, &user](RolloutEngine& engine) {
        QStringList failed;
        for (const rollout::DeviceProgress& d : engine.devices())
            if (rollout::isFailure(d.state))
                failed.append(d.id);
        Status retried = engine.retryFailed(user);
        if (retried) {
            const Entry& e = m_entries.at(id);
            for (const QString& device : std::as_const(failed))
                record(id, e, device);
        }
        return retried;
    });
}

Status EmbeddedRollouts::act(qint64 id, RolloutAction action, const QString& user) {
    switch (action) {
        case RolloutAction::Approve:
            return approve(id, user);
        case RolloutAction::Start:
            return start(id, user);
        case RolloutAction::Pause:
            return pause(id, user);
        case RolloutAction::Resume:
            return resume(id, user);
        case RolloutAction::Abort:
            return abort(id, user);
        case RolloutAction::RetryFailed:
            return retryFailed(id, user);
    }
    return fail(QStringLiteral("fleet.unknown-action"),
                QStringLiteral("This console does not know that rollout command."));
}

quint64 EmbeddedRollouts::requestCreate(const RolloutDraft& draft) {
    const quint64 request = ++m_lastRequest;
    const Result<qint64> created =
        createRollout(draft.name, draft.bundlePath, draft.plan, draft.deviceIds, draft.author);
    answer(request, created ? *created : 0,
           created ? std::nullopt : std::optional<Error>(created.error()));
    return request;
}

quint64 EmbeddedRollouts::requestAction(qint64 id, RolloutAction action, const QString& user) {
    const quint64 request = ++m_lastRequest;
    const Status done = act(id, action, user);
    answer(request, id, done ? std::nullopt : std::optional<Error>(done.error()));
    return request;
}

void EmbeddedRollouts::answer(quint64 request, qint64 rolloutId,
                              const std::optional<Error>& error) {
    QMetaObject::invokeMethod(
        this,
        [this, request, rolloutId, error] { Q_EMIT requestFinished(request, rolloutId, error); },
        Qt::QueuedConnection);
}

void EmbeddedRollouts::record(qint64 rolloutId, const Entry& e, const QString& deviceId) {
    const auto progress = e.engine.device(deviceId);
    if (!progress)
        return;
    m_history.push_back({rolloutId, deviceId.toLongLong(), m_clock.now(), *progress});
}

Status EmbeddedRollouts::persist(qint64 id, const Entry& e) {
    if (!m_history.empty()) {
        QList<store::RolloutEventRecord> records;
        records.reserve(qsizetype(m_history.size()));
        for (const Move& m : m_history) {
            records.append({m.rolloutId, m.deviceId, m.time,
                            rollout::deviceStateName(m.progress.state), m.progress.wave + 1,
                            m.progress.reason});
        }
        m_history.clear();
        // The history is for the charts: a rollout never stops because it could not be noted.
        if (auto noted = m_fleet.store().rolloutEvents().append(records); !noted)
            qCWarning(lcRollouts) << "rollout history not saved:" << noted.error().toString();
    }
    auto saved = m_fleet.store().rollouts().save(id, rollout::rolloutStateName(e.engine.state()),
                                                 e.engine.toJsonBytes(), m_clock.now());
    if (!saved)
        qCWarning(lcRollouts) << "rollout" << id << "not saved:" << saved.error().toString();
    return saved;
}

QList<RolloutSummary> EmbeddedRollouts::rollouts() const {
    QList<RolloutSummary> list;
    for (const auto& [id, e] : m_entries)
        list.append({id, e.name, e.bundlePath, e.engine.plan(), e.engine.status()});
    return list;
}

std::optional<RolloutSummary> EmbeddedRollouts::rollout(qint64 id) const {
    const auto it = m_entries.find(id);
    if (it == m_entries.end())
        return std::nullopt;
    const Entry& e = it->second;
    return RolloutSummary{id, e.name, e.bundlePath, e.engine.plan(), e.engine.status()};
}

QList<RolloutDevice> EmbeddedRollouts::rolloutDevices(qint64 id) const {
    QList<RolloutDevice> list;
    const RolloutEngine* found = engine(id);
    if (!found)
        return list;
    list.reserve(static_cast<qsizetype>(found->devices().size()));
    for (const rollout::DeviceProgress& d : found->devices())
        list.append({d.id.toLongLong(), d.state, d.wave + 1, d.attempts, d.reason});
    return list;
}

const RolloutEngine* EmbeddedRollouts::engine(qint64 id) const {
    const auto it = m_entries.find(id);
    return it == m_entries.end() ? nullptr : &it->second.engine;
}

void EmbeddedRollouts::tick() {
    for (auto& [id, e] : m_entries) {
        if (!isActive(e.engine.state()))
            continue;
        const rollout::TickResult result = e.engine.tick();
        for (const QString& deviceId : result.timedOut) {
            record(id, e, deviceId);
            // The engine stopped waiting; stop the transfer too, so a retry can start cleanly.
            const qint64 device = deviceId.toLongLong();
            if (m_inFlight.value(device) == id) {
                m_inFlight.remove(device);
                m_fleet.cancel(device);
            }
        }
        for (const QString& deviceId : result.offers) {
            record(id, e, deviceId);  // offered, before anything the device reports
            offer(id, e, deviceId);
        }
        if (result.changed || !result.offers.isEmpty() || !result.timedOut.isEmpty()) {
            (void)persist(id, e);
            Q_EMIT rolloutChanged(id);
        }
    }
    updateTimer();
}

void EmbeddedRollouts::offer(qint64 rolloutId, Entry& e, const QString& deviceId) {
    bool isNumber = false;
    const qint64 device = deviceId.toLongLong(&isNumber);
    const auto current = isNumber ? m_fleet.device(device) : std::nullopt;
    Status started = [&]() -> Status {
        if (!current)
            return fail(QStringLiteral("fleet.unknown-device"),
                        QStringLiteral("The device was removed from the fleet."));
        if (m_inFlight.contains(device) || current->running)
            return fail(QStringLiteral("link.busy"),
                        QStringLiteral("The device is busy with another operation."));
        return m_fleet.startUpdate(device, e.bundlePath, link::UpdateOptions{});
    }();
    if (started) {
        m_inFlight.insert(device, rolloutId);
        qCInfo(lcRollouts) << "rollout" << rolloutId << "offered device" << device;
        return;
    }
    qCInfo(lcRollouts) << "rollout" << rolloutId << "could not offer device" << deviceId << ":"
                       << started.error().code;
    if (auto noted =
            e.engine.onDeviceEvent(deviceId, {DeviceState::Failed, reasonOf(started.error())});
        !noted)
        qCWarning(lcRollouts) << "rollout" << rolloutId << noted.error().toString();
    record(rolloutId, e, deviceId);
}

void EmbeddedRollouts::report(qint64 deviceId, const DeviceEvent& event) {
    const auto rolloutId = m_inFlight.constFind(deviceId);
    if (rolloutId == m_inFlight.cend())
        return;
    const qint64 id = *rolloutId;
    auto e = entry(id);
    if (!e)
        return;
    if (rollout::isFinished(event.kind))
        m_inFlight.remove(deviceId);
    if (auto noted = (*e)->engine.onDeviceEvent(QString::number(deviceId), event); !noted) {
        qCWarning(lcRollouts) << "rollout" << id << noted.error().toString();
        return;
    }
    record(id, **e, QString::number(deviceId));
    (void)persist(id, **e);
    Q_EMIT rolloutChanged(id);
    updateTimer();
}

void EmbeddedRollouts::onProgress(qint64 deviceId) {
    const auto rolloutId = m_inFlight.constFind(deviceId);
    if (rolloutId == m_inFlight.cend())
        return;
    const RolloutEngine* engine = this->engine(*rolloutId);
    const auto progress = engine ? engine->device(QString::number(deviceId)) : std::nullopt;
    // Only the first progress report moves the device on; the rest are the same step.
    if (progress && progress->state == DeviceState::Offered)
        report(deviceId, {DeviceState::Downloading, {}});
}

void EmbeddedRollouts::onFinished(qint64 deviceId, link::LinkOperation operation,
                                  const std::optional<Error>& error) {
    if (operation != link::LinkOperation::Update)
        return;
    if (error)
        report(deviceId, {DeviceState::Failed, reasonOf(*error)});
    else
        report(deviceId, {DeviceState::Succeeded, {}});
}

void EmbeddedRollouts::updateTimer() {
    const bool active = std::any_of(m_entries.begin(), m_entries.end(), [](const auto& item) {
        return isActive(item.second.engine.state());
    });
    if (active && !m_timer.isActive())
        m_timer.start();
    else if (!active && m_timer.isActive())
        m_timer.stop();
}

}  // namespace otafleet::fleet
