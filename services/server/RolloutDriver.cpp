#include "server/RolloutDriver.h"

#include "server/DeviceFacts.h"
#include "server/FleetDeviceSql.h"
#include "server/ServerLogging.h"
#include "store/FleetStore.h"

#include <QJsonDocument>
#include <QSet>

#include <utility>

namespace otafleet::server {
namespace {

namespace cpb = otafleet::console::v1;
namespace dpb = otafleet::device::v1;
using rollout::DeviceState;
using rollout::RolloutEngine;
using rollout::RolloutState;
using store::FleetStore;

constexpr auto kSystem = "system";

std::string str(const QString& s) {
    return s.toStdString();
}

QString subjectOf(qint64 id) {
    return QStringLiteral("rollout:%1").arg(id);
}

Error unknownRollout(qint64 id) {
    return Error{QStringLiteral("server.unknown-rollout"),
                 QStringLiteral("Rollout %1 does not exist on this server; 'otafleetctl rollout "
                                "list' shows the rollouts.")
                     .arg(id)};
}

Error revokedRelease(const QString& releaseId) {
    return Error{QStringLiteral("server.release-revoked"),
                 QStringLiteral("Release %1 was revoked; it is offered to no device. Create a "
                                "rollout of a good release instead.")
                     .arg(releaseId.left(16))};
}

bool isActive(RolloutState state) {
    return state == RolloutState::Scheduled || state == RolloutState::Running;
}

}  // namespace

QString makeOfferId(qint64 rollout, const QString& device, int attempt) {
    return QStringLiteral("%1/%2/%3").arg(rollout).arg(device).arg(attempt);
}

std::optional<OfferId> parseOfferId(const QString& offerId) {
    const QStringList parts = offerId.split(u'/');
    if (parts.size() != 3 || parts.at(1).isEmpty())
        return std::nullopt;
    bool okRollout = false;
    bool okAttempt = false;
    OfferId out{parts.at(0).toLongLong(&okRollout), parts.at(1), parts.at(2).toInt(&okAttempt)};
    if (!okRollout || !okAttempt || out.rollout < 1 || out.attempt < 1)
        return std::nullopt;
    return out;
}

RolloutDriver::RolloutDriver(StoreWorker& store, const rollout::Clock& clock)
    : m_store(store), m_clock(clock) {}

RolloutDriver::~RolloutDriver() {
    {
        std::lock_guard lock(m_tickMutex);
        m_stop = true;
    }
    m_tickWake.notify_all();
    if (m_ticker.joinable())
        m_ticker.join();
    // Progress taken since the last tick is saved before the server goes.
    std::lock_guard lock(m_mutex);
    for (auto& [id, e] : m_entries) {
        if (e.dirty)
            (void)persist(e);
    }
}

Result<std::unique_ptr<RolloutDriver>> RolloutDriver::create(StoreWorker& store,
                                                             const rollout::Clock& clock) {
    std::unique_ptr<RolloutDriver> driver(new RolloutDriver(store, clock));
    if (auto loaded = driver->load(); !loaded)
        return fail(loaded.error());
    return driver;
}

Status RolloutDriver::load() {
    auto records = m_store.run([](FleetStore& s) { return s.rollouts().all(); });
    if (!records)
        return fail(records.error());
    for (const store::RolloutRecord& r : std::as_const(*records)) {
        if (r.releaseId.isEmpty())
            continue;  // the console's embedded rollouts
        const auto damaged = [&](const Error& error) {
            return fail(error.code,
                        QStringLiteral("Rollout %1 in %2 cannot be resumed (%3); restore the "
                                       "database from a backup or abort the rollout there.")
                            .arg(r.id)
                            .arg(QStringLiteral("the fleet database"), error.message));
        };
        auto engine = restoreEngine(r);
        if (!engine)
            return damaged(engine.error());
        auto filter = rollout::DeviceFilter::parse(r.target);
        if (!filter)
            return damaged(filter.error());
        auto release = m_store.run([&](FleetStore& s) { return s.releases().get(r.releaseId); });
        Entry e{r.id,
                r.releaseId,
                release ? release->version : QString(),
                release ? release->size : 0,
                r.target,
                std::move(*filter),
                std::move(*engine),
                r.created,
                r.updated,
                {}};
        e.revoked = !release || release->revoked;
        e.noted = e.engine.state();
        const auto [it, inserted] = m_entries.emplace(r.id, std::move(e));
        Q_UNUSED(inserted);
        if (!it->second.engine.changedDevices().empty()) {
            // Stored whole (before schema 7): its devices move to their rows now.
            if (auto saved = persist(it->second); !saved)
                return damaged(saved.error());
        }
        qCInfo(lcServer) << "resumed rollout" << r.id << "state" << r.state;
    }
    return {};
}

void RolloutDriver::startTicking() {
    m_ticker = std::thread([this] {
        std::unique_lock lock(m_tickMutex);
        while (!m_stop) {
            m_tickWake.wait_for(lock, kTickInterval, [this] { return m_stop; });
            if (m_stop)
                break;
            lock.unlock();
            tick();
            lock.lock();
        }
    });
}

void RolloutDriver::audit(const QString& subject, const QString& action,
                          const QString& detail) const {
    auto appended = m_store.run([&](FleetStore& s) {
        return s.audit().append(QString::fromLatin1(kSystem), subject, action, detail);
    });
    if (!appended) {
        qCCritical(lcServer).noquote()
            << "audit entry lost:" << action << subject << appended.error().toString();
    }
}

Result<RolloutEngine> RolloutDriver::restoreEngine(const store::RolloutRecord& r) const {
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(r.engineJson, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject() ||
        doc.object().contains(QLatin1StringView("devices"))) {
        // Stored whole (or damaged: fromJsonBytes says how); moved to rows by load().
        auto engine = RolloutEngine::fromJsonBytes(r.engineJson, m_clock);
        if (engine)
            engine->markAllDevicesChanged();
        return engine;
    }
    auto rows = m_store.run([&](FleetStore& s) { return s.rollouts().devices(r.id); });
    if (!rows)
        return fail(rows.error());
    std::vector<rollout::DeviceProgress> devices;
    devices.reserve(std::size_t(rows->size()));
    for (const store::RolloutDeviceRow& row : std::as_const(*rows)) {
        const auto state = rollout::deviceStateFromName(row.state);
        if (row.position != qint64(devices.size()) || !state) {
            return fail(QStringLiteral("rollout.state"),
                        QStringLiteral("device row %1 of the rollout is missing or malformed")
                            .arg(devices.size()));
        }
        devices.push_back(rollout::DeviceProgress{row.deviceId, *state, row.wave, row.attempts,
                                                  row.offeredAtMs, row.reason, row.queueSeq});
    }
    return RolloutEngine::fromParts(doc.object(), std::move(devices), m_clock);
}

QList<store::RolloutDeviceRow> RolloutDriver::changedRows(const RolloutEngine& engine) {
    QList<store::RolloutDeviceRow> rows;
    rows.reserve(qsizetype(engine.changedDevices().size()));
    for (const std::size_t position : engine.changedDevices()) {
        const rollout::DeviceProgress& d = engine.devices()[position];
        rows.append(store::RolloutDeviceRow{qint64(position), d.id,
                                            rollout::deviceStateName(d.state), d.wave, d.attempts,
                                            d.offeredAtMs, d.reason, d.queueSeq});
    }
    return rows;
}

Status RolloutDriver::persist(Entry& e) {
    e.updated = m_clock.now();
    // The header and the devices that changed, in one transaction: as much work for an event in a
    // rollout of 1,000,000 devices as in one of 10.
    const QByteArray header = QJsonDocument(e.engine.headerJson()).toJson(QJsonDocument::Compact);
    const QList<store::RolloutDeviceRow> rows = changedRows(e.engine);
    const QString state = rollout::rolloutStateName(e.engine.state());
    const QList<DeviceAudit> audits = std::exchange(e.pendingAudits, {});
    auto saved = m_store.run([&](FleetStore& s) -> Status {
        if (auto ok = s.rollouts().saveWithDevices(e.id, state, header, rows, e.updated); !ok)
            return ok;
        // A device's final word is audited once its count is saved, in the same job: a crash
        // before the save loses both, and the device's report after the restart makes both.
        for (const DeviceAudit& a : audits) {
            const QString who = QStringLiteral("device:%1").arg(a.deviceId);
            if (auto ok = s.audit().append(who, who, a.action, a.detail); !ok) {
                qCCritical(lcServer).noquote()
                    << "audit entry lost:" << a.action << who << ok.error().toString();
            }
        }
        return {};
    });
    if (!saved) {
        e.pendingAudits = audits + e.pendingAudits;
        // The changed devices stay marked: the next save writes them.
        qCCritical(lcServer).noquote()
            << "rollout" << e.id << "not saved:" << saved.error().toString();
        return saved;
    }
    e.engine.clearChangedDevices();
    e.dirty = false;
    return saved;
}

void RolloutDriver::noteEngineChange(Entry& e) {
    const RolloutState before = e.noted;
    const RolloutState now = e.engine.state();
    e.noted = now;
    if (now == before)
        return;
    if (now == RolloutState::Paused) {
        qCWarning(lcServer).noquote()
            << "rollout" << e.id << "paused itself:" << e.engine.pauseReason();
        audit(subjectOf(e.id), QStringLiteral("rollout.auto-pause"), e.engine.pauseReason());
    } else if (now == RolloutState::Completed) {
        qCInfo(lcServer) << "rollout" << e.id << "completed";
        audit(subjectOf(e.id), QStringLiteral("rollout.complete"),
              QStringLiteral("%1 devices").arg(e.engine.status().total));
    }
}

bool RolloutDriver::releaseRevoked(const Entry& e) const {
    auto release = m_store.run([&](FleetStore& s) { return s.releases().get(e.releaseId); });
    // A release that vanished from the store is as good as revoked.
    return !release || release->revoked;
}

void RolloutDriver::pauseForRevokedRelease(Entry& e) {
    if (!isActive(e.engine.state()))
        return;
    if (!e.engine.pause(
            QStringLiteral("the server: release %1 was revoked").arg(e.releaseId.left(16)))) {
        return;
    }
    (void)persist(e);
    noteEngineChange(e);
}

void RolloutDriver::scanLateJoiners(Entry& e) {
    const auto now = std::chrono::steady_clock::now();
    if (now - e.lastScan < kLateJoinerScan)
        return;
    e.lastScan = now;
    const DeviceSql sql = deviceSqlOf(e.filter);
    bool joined = false;
    auto scanned = m_store.run([&](FleetStore& s) {
        return s.fleetDevices().scan(sql.where, [&](const store::FleetDeviceRecord& d) {
            if (d.decommissioned || !e.filter.matches(factsOf(d)))
                return true;
            auto added = e.engine.addTarget(d.deviceId);
            if (added && *added) {
                joined = true;
                qCInfo(lcServer) << "device" << d.deviceId << "joined rollout" << e.id;
            }
            return true;
        });
    });
    if (!scanned)
        return;
    if (joined)
        (void)persist(e);
}

void RolloutDriver::offer(const Entry& e, const QString& deviceId) {
    const auto session = m_sessions.constFind(deviceId);
    if (session == m_sessions.cend())
        return;  // offline: it gets the offer when it connects (attach)
    const auto device = e.engine.device(deviceId);
    if (!device || !rollout::isInFlight(device->state))
        return;
    dpb::ServerMessage message;
    dpb::UpdateOffer* offer = message.mutable_offer();
    offer->set_offer_id(str(makeOfferId(e.id, deviceId, device->attempts)));
    offer->set_release_id(str(e.releaseId));
    offer->set_version(str(e.releaseVersion));
    offer->set_size(quint64(e.releaseSize));
    offer->set_sha256(str(e.releaseId));  // a release's id is its bundle's SHA-256
    offer->set_prechecks(str(e.engine.plan().prechecks.toString()));
    offer->set_rollout_id(str(QString::number(e.id)));
    offer->set_wave(quint32(device->wave + 1));
    if (!(*session)->send(message))
        qCInfo(lcServer) << "session of" << deviceId << "is closing; offer waits";
}

void RolloutDriver::tick() {
    // Revocations are read before the lock is taken: sessions' progress and downloads wait on
    // the lock, not on the store.
    QSet<QString> releases;
    {
        std::lock_guard lock(m_mutex);
        for (const auto& [id, e] : m_entries) {
            if (isActive(e.engine.state()) || e.engine.state() == RolloutState::Paused)
                releases.insert(e.releaseId);
        }
    }
    QSet<QString> revoked;
    for (const QString& releaseId : std::as_const(releases)) {
        auto release = m_store.run([&](FleetStore& s) { return s.releases().get(releaseId); });
        // A release that vanished from the store is as good as revoked.
        if (!release || release->revoked)
            revoked.insert(releaseId);
    }
    std::lock_guard lock(m_mutex);
    for (auto& [id, e] : m_entries) {
        if (releases.contains(e.releaseId))
            e.revoked = revoked.contains(e.releaseId);
        if (!isActive(e.engine.state())) {
            if (e.dirty) {
                // Progress of a paused rollout's devices.
                (void)persist(e);
                noteEngineChange(e);
            }
            continue;
        }
        if (e.revoked) {
            pauseForRevokedRelease(e);
            continue;
        }
        if (e.engine.plan().includeLateJoiners)
            scanLateJoiners(e);
        const rollout::TickResult result = e.engine.tick();
        if (!e.dirty && !result.changed && result.offers.isEmpty() && result.timedOut.isEmpty())
            continue;
        // Saved before any offer leaves: after a crash the engine never knows less than the
        // devices do.
        (void)persist(e);
        noteEngineChange(e);
        for (const QString& deviceId : result.timedOut)
            qCInfo(lcServer) << "rollout" << id << "timed out waiting for" << deviceId;
        for (const QString& deviceId : result.offers)
            offer(e, deviceId);
    }
}

Result<cpb::Rollout> RolloutDriver::createRollout(const QString& author, const QString& releaseId,
                                                  const QString& target,
                                                  const rollout::PlanOptions& options) {
    auto filter = rollout::DeviceFilter::parse(target);
    if (!filter)
        return fail(filter.error());
    auto plan = rollout::RolloutPlan::fromOptions(options);
    if (!plan)
        return fail(plan.error());
    auto release = m_store.run([&](FleetStore& s) { return s.releases().get(releaseId); });
    if (!release) {
        if (release.error().code == u"store.not-found") {
            return fail(QStringLiteral("store.not-found"),
                        QStringLiteral("Release %1 is not on this server; 'otafleetctl release "
                                       "list' shows the releases.")
                            .arg(releaseId.left(16)));
        }
        return fail(release.error());
    }
    if (release->revoked)
        return fail(revokedRelease(releaseId));
    QStringList targets;
    QStringList incompatible;
    const DeviceSql sql = deviceSqlOf(*filter);
    auto scanned = m_store.run([&](FleetStore& s) {
        return s.fleetDevices().scan(sql.where, [&](const store::FleetDeviceRecord& d) {
            if (d.decommissioned || !filter->matches(factsOf(d)))
                return true;
            if (!release->hardware.isEmpty() && !release->hardware.contains(d.hardware))
                incompatible << d.deviceId;
            targets << d.deviceId;
            return true;
        });
    });
    if (!scanned)
        return fail(scanned.error());
    if (!incompatible.isEmpty()) {
        return fail(QStringLiteral("server.incompatible-target"),
                    QStringLiteral("%1 targeted devices (first %2) have hardware that release %3 "
                                   "is not built for (%4); narrow --target, e.g. add 'and "
                                   "hardware=%5'.")
                        .arg(incompatible.size())
                        .arg(incompatible.first().left(64), release->version,
                             release->hardware.join(u','), release->hardware.first()));
    }
    if (targets.isEmpty() && !plan->includeLateJoiners) {
        return fail(QStringLiteral("server.no-targets"),
                    QStringLiteral("The target '%1' selects no device; check it with "
                                   "'otafleetctl fleet devices --filter'.")
                        .arg(target.left(128)));
    }
    auto engine = RolloutEngine::create(*plan, author, targets, m_clock);
    if (!engine)
        return fail(engine.error());
    store::RolloutRecord record;
    record.name = QStringLiteral("%1 %2 to %3")
                      .arg(release->product, release->version,
                           target.isEmpty() ? QStringLiteral("all devices") : target);
    record.releaseId = releaseId;
    record.target = target;
    record.state = rollout::rolloutStateName(engine->state());
    record.engineJson = QJsonDocument(engine->headerJson()).toJson(QJsonDocument::Compact);
    const QList<store::RolloutDeviceRow> rows = changedRows(*engine);
    const QDateTime now = m_clock.now();
    std::lock_guard lock(m_mutex);
    auto id =
        m_store.run([&](FleetStore& s) { return s.rollouts().addForRelease(record, rows, now); });
    if (!id)
        return fail(id.error());
    engine->clearChangedDevices();
    Entry e{*id,
            releaseId,
            release->version,
            release->size,
            target,
            std::move(*filter),
            std::move(*engine),
            now,
            now,
            std::chrono::steady_clock::now()};
    e.noted = e.engine.state();
    const auto [it, inserted] = m_entries.emplace(*id, std::move(e));
    Q_UNUSED(inserted);
    qCInfo(lcServer) << "rollout" << *id << "created by" << author << "for" << targets.size()
                     << "devices";
    return describe(it->second, true);
}

Result<cpb::Rollout> RolloutDriver::command(qint64 id, RolloutCommand command,
                                            const QString& user) {
    std::lock_guard lock(m_mutex);
    const auto it = m_entries.find(id);
    if (it == m_entries.end())
        return fail(unknownRollout(id));
    Entry& e = it->second;
    const bool offersAgain =
        command == RolloutCommand::Start || command == RolloutCommand::Resume ||
        command == RolloutCommand::RetryFailed || command == RolloutCommand::Approve;
    if (offersAgain && releaseRevoked(e))
        return fail(revokedRelease(e.releaseId));
    Status done = [&]() -> Status {
        switch (command) {
            case RolloutCommand::Approve:
                return e.engine.approve(user);
            case RolloutCommand::Start:
                return e.engine.start(user);
            case RolloutCommand::Pause:
                return e.engine.pause(user);
            case RolloutCommand::Resume:
                return e.engine.resume(user);
            case RolloutCommand::Abort:
                return e.engine.abort(user);
            case RolloutCommand::RetryFailed:
                return e.engine.retryFailed(user);
        }
        return {};
    }();
    if (!done)
        return fail(done.error());
    if (auto saved = persist(e); !saved)
        return fail(saved.error());
    e.noted = e.engine.state();  // an operator's command, audited by ConsoleService
    return describe(e, true);
}

Result<cpb::Rollout> RolloutDriver::get(qint64 id) const {
    std::lock_guard lock(m_mutex);
    const auto it = m_entries.find(id);
    if (it == m_entries.end())
        return fail(unknownRollout(id));
    return describe(it->second, true);
}

QList<cpb::Rollout> RolloutDriver::list(int page, int pageSize, qint64* total) const {
    std::lock_guard lock(m_mutex);
    QList<cpb::Rollout> out;
    const qint64 first = qint64(page) * pageSize;
    qint64 index = 0;
    for (const auto& [id, e] : m_entries) {
        if (index >= first && out.size() < pageSize)
            out.append(describe(e, false));
        ++index;
    }
    if (total)
        *total = qint64(m_entries.size());
    return out;
}

cpb::Rollout RolloutDriver::describe(const Entry& e, bool withStatus) const {
    const rollout::RolloutStatus status = e.engine.status();
    cpb::Rollout out;
    out.set_id(e.id);
    out.set_release_id(str(e.releaseId));
    out.set_release_version(str(e.releaseVersion));
    out.set_target(str(e.target));
    out.set_state(str(rollout::rolloutStateName(status.state)));
    out.set_current_wave(quint32(status.currentWave));
    out.set_pause_reason(str(status.pauseReason));
    out.set_author(str(status.author));
    out.set_approved_by(str(status.approvedBy));
    out.set_total(quint64(status.total));
    for (const DeviceState s : rollout::kAllDeviceStates)
        (*out.mutable_counts())[str(rollout::deviceStateName(s))] = quint64(status.count(s));
    if (withStatus) {
        out.set_status_json(
            QJsonDocument(status.toJson()).toJson(QJsonDocument::Compact).toStdString());
        out.set_plan_json(e.engine.plan().toJsonBytes().toStdString());
    }
    out.set_plan_summary(str(e.engine.plan().describe()));
    out.set_created_unix_ms(e.created.toMSecsSinceEpoch());
    out.set_updated_unix_ms(e.updated.toMSecsSinceEpoch());
    out.set_production(e.engine.plan().production);
    out.set_emergency(e.engine.plan().emergency);
    return out;
}

void RolloutDriver::attach(const QString& deviceId, std::shared_ptr<SessionLink> link) {
    std::lock_guard lock(m_mutex);
    m_sessions.insert(deviceId, std::move(link));
    // Every unfinished offer again: the device answers with where it is, or starts.
    for (const auto& [id, e] : m_entries) {
        const RolloutState state = e.engine.state();
        if (state == RolloutState::Aborted || state == RolloutState::Completed ||
            state == RolloutState::Draft)
            continue;
        const auto device = e.engine.device(deviceId);
        if (!device || !rollout::isInFlight(device->state))
            continue;
        if (e.revoked)
            continue;
        offer(e, deviceId);
    }
}

bool RolloutDriver::mayDownload(const QString& deviceId, const QString& releaseId) const {
    std::lock_guard lock(m_mutex);
    for (const auto& [id, e] : m_entries) {
        if (e.releaseId != releaseId || e.revoked || e.engine.state() == RolloutState::Aborted)
            continue;
        const auto device = e.engine.device(deviceId);
        if (device && rollout::isInFlight(device->state))
            return true;
    }
    return false;
}

void RolloutDriver::detach(const QString& deviceId, const SessionLink* link) {
    std::lock_guard lock(m_mutex);
    const auto it = m_sessions.find(deviceId);
    if (it != m_sessions.end() && it->get() == link)
        m_sessions.erase(it);
}

Result<bool> RolloutDriver::onProgress(const QString& deviceId, const QString& offerId,
                                       const rollout::DeviceEvent& event) {
    const auto parsed = parseOfferId(offerId);
    if (!parsed) {
        qCInfo(lcServer) << "progress of" << deviceId << "for an unknown offer ignored";
        return false;
    }
    if (parsed->device != deviceId) {
        return fail(QStringLiteral("server.device-mismatch"),
                    QStringLiteral("Device %1 reported progress of an offer made to %2.")
                        .arg(deviceId, parsed->device.left(128)));
    }
    std::lock_guard lock(m_mutex);
    const auto it = m_entries.find(parsed->rollout);
    if (it == m_entries.end())
        return false;
    Entry& e = it->second;
    const auto device = e.engine.device(deviceId);
    if (!device || device->attempts != parsed->attempt || device->state == event.kind)
        return false;  // an older attempt, or the same news again
    if (auto noted = e.engine.onDeviceEvent(deviceId, event); !noted) {
        qCInfo(lcServer).noquote() << "rollout" << e.id << noted.error().toString();
        return false;
    }
    e.dirty = true;
    if (rollout::isFinished(event.kind)) {
        e.pendingAudits.append(DeviceAudit{
            deviceId, QStringLiteral("device.update-%1").arg(rollout::deviceStateName(event.kind)),
            QStringLiteral("offer %1 %2").arg(offerId.left(256), event.reason)});
    }
    return true;
}

}  // namespace otafleet::server
