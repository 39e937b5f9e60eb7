#include "fleet/RemoteRollouts.h"

#include "consoleclient/ConsoleClient.h"
#include "consoleclient/ReleaseUpload.h"
#include "fleet/RemoteFleet.h"

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QFile>
#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QScopeGuard>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <mutex>

Q_LOGGING_CATEGORY(lcRemoteRollouts, "otafleet.fleet.remote-rollouts")

namespace otafleet::fleet {
namespace {

constexpr quint32 kPageSize = 1000;

std::string str(const QString& s) {
    return s.toStdString();
}

QString text(const std::string& s) {
    return QString::fromStdString(s);
}

// What the views need of a rollout from what ListRollouts says (no waves: GetRollout has them).
RolloutSummary summaryOf(const client::cpb::Rollout& r) {
    RolloutSummary s;
    s.id = r.id();
    s.name = remoteRolloutName(text(r.release_version()), text(r.target()));
    // What the views print after "Release": the server holds the bundle, not this console.
    s.bundlePath =
        QStringLiteral("%1 (%2)").arg(text(r.release_version()), text(r.release_id()).left(12));
    s.status.state =
        rollout::rolloutStateFromName(text(r.state())).value_or(rollout::RolloutState::Draft);
    s.status.currentWave = int(r.current_wave());
    s.status.total = qint64(r.total());
    s.status.pauseReason = text(r.pause_reason());
    s.status.author = text(r.author());
    s.status.approvedBy = text(r.approved_by());
    for (const auto& [name, count] : r.counts()) {
        if (const auto state = rollout::deviceStateFromName(text(name)))
            s.status.counts[static_cast<std::size_t>(*state)] = qint64(count);
    }
    if (auto plan = rollout::RolloutPlan::fromJsonBytes(QByteArray::fromStdString(r.plan_json())))
        s.plan = *plan;
    s.plan.production = r.production();
    s.plan.emergency = r.emergency();
    return s;
}

client::cpb::RolloutPlanOptions toProto(const rollout::PlanOptions& o) {
    client::cpb::RolloutPlanOptions p;
    p.set_waves(str(o.waves));
    const auto set = [](const std::optional<QString>& value, auto setter) {
        if (value)
            setter(str(*value));
    };
    set(o.successThreshold, [&p](const std::string& v) { p.set_success_threshold(v); });
    set(o.failureThreshold, [&p](const std::string& v) { p.set_failure_threshold(v); });
    set(o.minExecuted, [&p](const std::string& v) { p.set_min_executed(v); });
    set(o.soak, [&p](const std::string& v) { p.set_soak(v); });
    set(o.rate, [&p](const std::string& v) { p.set_rate(v); });
    set(o.ramp, [&p](const std::string& v) { p.set_ramp(v); });
    set(o.deviceTimeout, [&p](const std::string& v) { p.set_device_timeout(v); });
    set(o.retries, [&p](const std::string& v) { p.set_retries(v); });
    set(o.window, [&p](const std::string& v) { p.set_window(v); });
    set(o.precheck, [&p](const std::string& v) { p.set_precheck(v); });
    p.set_production(o.production);
    p.set_emergency(o.emergency);
    p.set_include_late_joiners(o.includeLateJoiners);
    return p;
}

QString roleTitle(const QString& role) {
    return role == u"release-manager" ? QStringLiteral("release manager") : role;
}

}  // namespace

QString remoteRolloutName(const QString& releaseVersion, const QString& target) {
    return QStringLiteral("%1 to %2")
        .arg(releaseVersion,
             target.trimmed().isEmpty() ? QStringLiteral("all devices") : u'\'' + target + u'\'');
}

// Talks to otafleetd on its own thread: the mirror's polls and the commands, one at a time.
class RemoteRolloutsWorker final : public QObject {
    Q_OBJECT
public:
    RemoteRolloutsWorker(client::ConsoleSettings settings, RemoteRolloutsOptions options)
        : m_settings(std::move(settings)), m_options(options) {}
    ~RemoteRolloutsWorker() override {
        std::fill(m_settings.password.begin(), m_settings.password.end(), '\0');
    }

    // Stops a call in flight (any thread): the worker's thread is about to end.
    void abort() {
        std::lock_guard lock(m_callMutex);
        m_aborted = true;
        if (m_call)
            m_call->TryCancel();
    }

public Q_SLOTS:
    void start() {
        m_timer = new QTimer(this);
        m_timer->setSingleShot(true);
        connect(m_timer, &QTimer::timeout, this, &RemoteRolloutsWorker::poll);
        poll();
    }
    void pollNow() {
        if (m_timer)
            m_timer->start(0);
    }

    void create(quint64 request, const otafleet::fleet::RolloutDraft& draft) {
        const Result<client::cpb::Rollout> created = createRollout(draft);
        if (created)
            publishOne(*created);
        Q_EMIT finished(request, created ? created->id() : 0,
                        created ? std::nullopt : std::optional<Error>(created.error()));
        pollNow();
    }

    void act(quint64 request, qint64 id, otafleet::fleet::RolloutAction action) {
        using Stub = client::cpb::ConsoleService::Stub;
        using Method = grpc::Status (Stub::*)(
            grpc::ClientContext*, const client::cpb::RolloutRequest&, client::cpb::Rollout*);
        Method method = nullptr;
        switch (action) {
            case RolloutAction::Approve:
                method = &Stub::ApproveRollout;
                break;
            case RolloutAction::Start:
                method = &Stub::StartRollout;
                break;
            case RolloutAction::Pause:
                method = &Stub::PauseRollout;
                break;
            case RolloutAction::Resume:
                method = &Stub::ResumeRollout;
                break;
            case RolloutAction::Abort:
                method = &Stub::AbortRollout;
                break;
            case RolloutAction::RetryFailed:
                method = &Stub::RetryFailedRollout;
                break;
        }
        client::cpb::RolloutRequest r;
        r.set_id(id);
        Result<client::cpb::Rollout> done = [&]() -> Result<client::cpb::Rollout> {
            if (auto c = connected(); !c)
                return fail(c.error());
            return call(method, r);
        }();
        if (done)
            publishOne(*done);
        Q_EMIT finished(request, id, done ? std::nullopt : std::optional<Error>(done.error()));
        pollNow();
    }

Q_SIGNALS:
    void fetched(const QList<otafleet::fleet::RemoteRolloutState>& rollouts, bool complete);
    void finished(quint64 request, qint64 rolloutId, const std::optional<otafleet::Error>& error);

private:
    // A client signed in (a new one after a failure: the server may have restarted).
    Result<bool> connected() {
        if (m_client)
            return true;
        client::ConsoleSettings attempt = m_settings;  // open() wipes the copy's password
        attempt.password.detach();
        auto opened = client::ConsoleClient::open(attempt);
        if (!opened)
            return fail(opened.error());
        m_client = std::move(*opened);
        return true;
    }

    template <class Request, class Reply>
    Result<Reply> call(grpc::Status (client::cpb::ConsoleService::Stub::*method)(
                           grpc::ClientContext*, const Request&, Reply*),
                       const Request& request) {
        auto ctx = m_client->context(m_options.callDeadline);
        {
            std::lock_guard lock(m_callMutex);
            if (m_aborted)
                return fail(QStringLiteral("fleet.closing"),
                            QStringLiteral("The console is closing this connection."));
            m_call = ctx.get();
        }
        Reply reply;
        QElapsedTimer took;
        took.start();
        const grpc::Status status = ((m_client->stub()).*method)(ctx.get(), request, &reply);
        qCDebug(lcRemoteRollouts).noquote()
            << QStringLiteral("%1 in %2 ms: %3")
                   .arg(QString::fromLatin1(Request::descriptor()->name().c_str()))
                   .arg(took.elapsed())
                   .arg(QString::fromStdString(status.error_message()));
        {
            std::lock_guard lock(m_callMutex);
            m_call = nullptr;
        }
        if (!status.ok()) {
            Error error = m_client->toError(status);
            if (error.code == u"server.unreachable" || error.code == u"server.timeout" ||
                error.code == u"server.token-invalid")
                m_client.reset();
            return fail(std::move(error));
        }
        return reply;
    }

    // The release for `path`: the server's, or uploaded now.
    Result<QString> release(const QString& path) {
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            return fail(QStringLiteral("fleet.bundle-missing"),
                        QStringLiteral("Cannot read the bundle %1 (%2); choose the release's "
                                       "signed bundle again.")
                            .arg(path, file.errorString()));
        }
        QCryptographicHash sha(QCryptographicHash::Sha256);
        if (!sha.addData(&file)) {
            return fail(QStringLiteral("fleet.bundle-missing"),
                        QStringLiteral("Cannot read the bundle %1 to the end.").arg(path));
        }
        const QString id = QString::fromLatin1(sha.result().toHex());
        client::cpb::InspectReleaseRequest inspect;
        inspect.set_id(str(id));
        auto known = call(&client::cpb::ConsoleService::Stub::InspectRelease, inspect);
        if (known)
            return id;
        if (known.error().code != u"store.not-found")
            return fail(known.error());
        if (auto uploaded = upload(file, id); !uploaded)
            return fail(uploaded.error());
        return id;
    }

    Status upload(QFile& file, const QString& id) {
        auto ctx = m_client->context(
            std::chrono::duration_cast<std::chrono::seconds>(m_options.uploadDeadline));
        {
            std::lock_guard lock(m_callMutex);
            if (m_aborted)
                return fail(QStringLiteral("fleet.closing"),
                            QStringLiteral("The console is closing this connection."));
            m_call = ctx.get();
        }
        const auto done = qScopeGuard([this] {
            std::lock_guard lock(m_callMutex);
            m_call = nullptr;
        });
        auto uploaded = client::uploadRelease(*m_client, *ctx, file);
        if (!uploaded) {
            if (uploaded.error().code == u"store.duplicate")
                return {};  // another console uploaded it meanwhile
            return fail(uploaded.error());
        }
        const client::cpb::Release& reply = *uploaded;
        if (text(reply.id()) != id) {
            return fail(QStringLiteral("server.protocol"),
                        QStringLiteral("otafleetd stored the bundle under another id (%1); "
                                       "upload it again.")
                            .arg(text(reply.id()).left(16)));
        }
        qCInfo(lcRemoteRollouts).noquote()
            << QStringLiteral("uploaded release %1 (%2 bytes)").arg(id.left(16)).arg(file.size());
        return {};
    }

    Result<client::cpb::Rollout> createRollout(const RolloutDraft& draft) {
        if (auto c = connected(); !c)
            return fail(c.error());
        auto releaseId = release(draft.bundlePath);
        if (!releaseId)
            return fail(releaseId.error());
        client::cpb::CreateRolloutRequest r;
        r.set_release_id(str(*releaseId));
        r.set_target(str(draft.targetFilter));
        *r.mutable_plan() = toProto(draft.options);
        return call(&client::cpb::ConsoleService::Stub::CreateRollout, r);
    }

    // Details of one rollout: its status and plan (GetRollout) and its targets (a page at a
    // time, up to the limit).
    Result<RemoteRolloutState> details(const client::cpb::Rollout& listed) {
        client::cpb::RolloutRequest get;
        get.set_id(listed.id());
        auto full = call(&client::cpb::ConsoleService::Stub::GetRollout, get);
        if (!full)
            return fail(full.error());
        RemoteRolloutState state = stateOf(*full);
        for (quint32 page = 0;; ++page) {
            client::cpb::ListRolloutDevicesRequest r;
            r.set_id(listed.id());
            r.set_page(page);
            r.set_page_size(kPageSize);
            auto reply = call(&client::cpb::ConsoleService::Stub::ListRolloutDevices, r);
            if (!reply)
                return fail(reply.error());
            for (const auto& d : reply->devices()) {
                RolloutDevice device;
                device.state = rollout::deviceStateFromName(text(d.state()))
                                   .value_or(rollout::DeviceState::Pending);
                device.wave = int(d.wave());
                device.attempts = int(d.attempts());
                device.reason = text(d.reason());
                state.devices.append({text(d.device_id()), device});
            }
            if (reply->devices_size() < int(kPageSize) ||
                state.devices.size() >= m_options.maxDevicesPerRollout ||
                state.devices.size() >= qsizetype(reply->total()))
                break;
        }
        state.detailed = true;
        return state;
    }

    static RemoteRolloutState stateOf(const client::cpb::Rollout& r) {
        RemoteRolloutState state;
        state.summary = summaryOf(r);
        state.updatedMs = r.updated_unix_ms();
        if (!r.status_json().empty()) {
            auto status =
                rollout::RolloutStatus::fromJsonBytes(QByteArray::fromStdString(r.status_json()));
            if (status)
                state.summary.status = *status;
            else
                qCWarning(lcRemoteRollouts).noquote() << status.error().toString();
        }
        return state;
    }

    // A command's answer is the rollout as it is now: shown at once, devices on the next poll.
    void publishOne(const client::cpb::Rollout& r) {
        RemoteRolloutState state = stateOf(r);
        m_updated.remove(r.id());  // the poll fetches its devices again
        Q_EMIT fetched({state}, false);
    }

    void poll() {
        if (auto c = connected(); !c) {
            failed(c.error());
            return;
        }
        QList<RemoteRolloutState> out;
        for (quint32 page = 0;; ++page) {
            client::cpb::ListRolloutsRequest r;
            r.set_page(page);
            r.set_page_size(kPageSize);
            auto reply = call(&client::cpb::ConsoleService::Stub::ListRollouts, r);
            if (!reply) {
                failed(reply.error());
                return;
            }
            for (const client::cpb::Rollout& listed : reply->rollouts()) {
                // Only what changed since the last look is fetched in full.
                if (m_updated.value(listed.id(), -1) == listed.updated_unix_ms()) {
                    RemoteRolloutState same;
                    same.summary.id = listed.id();
                    same.unchanged = true;
                    out.append(same);
                    continue;
                }
                auto full = details(listed);
                if (!full) {
                    failed(full.error());
                    return;
                }
                m_updated.insert(listed.id(), listed.updated_unix_ms());
                out.append(std::move(*full));
            }
            if (reply->rollouts_size() < int(kPageSize) || out.size() >= m_options.maxRollouts ||
                out.size() >= qsizetype(reply->total()))
                break;
        }
        m_attempt = 0;
        Q_EMIT fetched(out, true);
        m_timer->start(m_options.pollInterval);
    }

    void failed(const Error& error) {
        m_client.reset();
        if (!error.code.startsWith(u"server.") || error.code == u"server.login-failed" ||
            error.code == u"server.tls-rejected") {
            // The same credentials would only be refused again (and fill the server's audit
            // log); the fleet's connection shows why, and refresh() tries again.
            qCWarning(lcRemoteRollouts).noquote()
                << QStringLiteral("%1: %2").arg(m_settings.address, error.toString());
            return;
        }
        const double ceiling = std::min(
            double(m_options.backoffMax.count()),
            double(m_options.backoffInitial.count()) * std::pow(2.0, std::min(m_attempt, 20)));
        ++m_attempt;
        const auto delay = std::chrono::milliseconds(
            qint64(ceiling * (0.5 + 0.5 * QRandomGenerator::global()->generateDouble())));
        qCInfo(lcRemoteRollouts).noquote() << QStringLiteral("%1: %2; next attempt in %3 ms")
                                                  .arg(m_settings.address, error.toString())
                                                  .arg(delay.count());
        m_timer->start(delay);
    }

    client::ConsoleSettings m_settings;
    RemoteRolloutsOptions m_options;
    std::unique_ptr<client::ConsoleClient> m_client;
    QTimer* m_timer = nullptr;
    int m_attempt = 0;
    QHash<qint64, qint64> m_updated;  // rollout id -> updated_unix_ms last fetched in full
    std::mutex m_callMutex;
    grpc::ClientContext* m_call = nullptr;
    bool m_aborted = false;
};

RemoteRollouts::RemoteRollouts(client::ConsoleSettings settings, RemoteFleet& fleet,
                               RemoteRolloutsOptions options, QObject* parent)
    : RolloutService(parent), m_fleet(fleet) {
    qRegisterMetaType<RemoteRolloutState>();
    qRegisterMetaType<QList<RemoteRolloutState>>();
    qRegisterMetaType<std::optional<Error>>();
    m_worker = new RemoteRolloutsWorker(std::move(settings), options);
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(&m_thread, &QThread::started, m_worker, &RemoteRolloutsWorker::start);
    connect(m_worker, &RemoteRolloutsWorker::fetched, this, &RemoteRollouts::apply);
    connect(m_worker, &RemoteRolloutsWorker::finished, this, &RolloutService::requestFinished);
    connect(&m_fleet, &FleetService::connectionChanged, this, &RemoteRollouts::onFleetConnection);
    m_thread.setObjectName(QStringLiteral("otafleetd rollouts"));
    m_thread.start();
    onFleetConnection();
}

RemoteRollouts::~RemoteRollouts() {
    m_worker->abort();
    m_thread.quit();
    m_thread.wait();
}

void RemoteRollouts::onFleetConnection() {
    const FleetConnection c = m_fleet.connection();
    // The role stays what the server last said while it is away.
    if (c.user.isEmpty() || (c.user == m_user && c.role == m_role))
        return;
    m_user = c.user;
    m_role = c.role;
    Q_EMIT permissionsChanged();
}

quint64 RemoteRollouts::requestCreate(const RolloutDraft& draft) {
    const quint64 request = ++m_lastRequest;
    QMetaObject::invokeMethod(
        m_worker, [worker = m_worker, request, draft] { worker->create(request, draft); },
        Qt::QueuedConnection);
    return request;
}

quint64 RemoteRollouts::requestAction(qint64 id, RolloutAction action, const QString& user) {
    Q_UNUSED(user);  // the server records its signed-in user
    const quint64 request = ++m_lastRequest;
    QMetaObject::invokeMethod(
        m_worker, [worker = m_worker, request, id, action] { worker->act(request, id, action); },
        Qt::QueuedConnection);
    return request;
}

QStringList RemoteRollouts::rolesAllowedToCreate() {
    return {QStringLiteral("release-manager"), QStringLiteral("admin")};
}

QStringList RemoteRollouts::rolesAllowedTo(RolloutAction action) {
    switch (action) {
        case RolloutAction::Approve:
            return {QStringLiteral("approver"), QStringLiteral("admin")};
        case RolloutAction::Start:
        case RolloutAction::Resume:
        case RolloutAction::RetryFailed:
            return rolesAllowedToCreate();
        case RolloutAction::Pause:
        case RolloutAction::Abort:
            return {QStringLiteral("release-manager"), QStringLiteral("approver"),
                    QStringLiteral("admin")};
    }
    return {};
}

std::optional<QString> RemoteRollouts::roleBlocker(const QStringList& allowed,
                                                   const QString& what) const {
    if (m_role.isEmpty())
        return tr("Waiting for otafleetd to say what your role allows.");
    if (allowed.contains(m_role))
        return std::nullopt;
    QStringList titles;
    for (const QString& role : allowed)
        titles << roleTitle(role);
    return tr("As %1 (%2) you may not %3 on this server; ask someone with the role %4.")
        .arg(m_user, roleTitle(m_role), what, titles.join(QStringLiteral(" or ")));
}

std::optional<QString> RemoteRollouts::createBlocker() const {
    return roleBlocker(rolesAllowedToCreate(), tr("create rollouts"));
}

std::optional<QString> RemoteRollouts::actionBlocker(RolloutAction action) const {
    QString what;
    switch (action) {
        case RolloutAction::Approve:
            what = tr("approve rollouts");
            break;
        case RolloutAction::Start:
            what = tr("start rollouts");
            break;
        case RolloutAction::Pause:
            what = tr("pause rollouts");
            break;
        case RolloutAction::Resume:
            what = tr("resume rollouts");
            break;
        case RolloutAction::Abort:
            what = tr("abort rollouts");
            break;
        case RolloutAction::RetryFailed:
            what = tr("retry failed devices");
            break;
    }
    return roleBlocker(rolesAllowedTo(action), what);
}

QString RemoteRollouts::signedInUser() const {
    return m_user;
}

QList<RolloutSummary> RemoteRollouts::rollouts() const {
    return m_rollouts.values();
}

std::optional<RolloutSummary> RemoteRollouts::rollout(qint64 id) const {
    const auto it = m_rollouts.constFind(id);
    if (it == m_rollouts.cend())
        return std::nullopt;
    return *it;
}

QList<RolloutDevice> RemoteRollouts::rolloutDevices(qint64 id) const {
    return m_devices.value(id);
}

void RemoteRollouts::refresh() {
    QMetaObject::invokeMethod(m_worker, &RemoteRolloutsWorker::pollNow, Qt::QueuedConnection);
}

void RemoteRollouts::apply(const QList<RemoteRolloutState>& fetched, bool complete) {
    QSet<qint64> seen;
    for (const RemoteRolloutState& r : fetched) {
        const qint64 id = r.summary.id;
        seen.insert(id);
        if (r.unchanged && m_rollouts.contains(id))
            continue;
        const bool added = !m_rollouts.contains(id);
        m_rollouts.insert(id, r.summary);
        if (r.detailed) {
            QList<RolloutDevice> devices;
            devices.reserve(r.devices.size());
            for (auto [serverId, device] : r.devices) {
                device.deviceId = m_fleet.idFor(serverId);
                devices.append(device);
            }
            m_devices.insert(id, devices);
        }
        if (added)
            Q_EMIT rolloutAdded(id);
        else
            Q_EMIT rolloutChanged(id);
    }
    // Rollouts are never deleted on the server: one the list no longer shows (past maxRollouts)
    // stays as it was last seen.
    Q_UNUSED(complete);
}

}  // namespace otafleet::fleet

#include "RemoteRollouts.moc"
