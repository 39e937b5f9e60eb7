#include "fleet/RemoteFleet.h"

#include "consoleclient/ConsoleClient.h"
#include "fleet/BundleInspection.h"
#include "fleet/RemoteDevicePages.h"

#include <QFutureWatcher>
#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QTimer>
#include <QtConcurrentRun>

#include <algorithm>
#include <cmath>
#include <mutex>

Q_LOGGING_CATEGORY(lcRemoteFleet, "otafleet.fleet.remote")

namespace otafleet::fleet {
namespace {

constexpr quint32 kPageSize = 1000;

QDateTime fromUnixMs(qint64 ms) {
    return ms > 0 ? QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC) : QDateTime();
}

// What the console shows of a device the server knows: the inventory it last reported.
FleetDevice toFleetDevice(const client::cpb::FleetDevice& d) {
    FleetDevice out;
    const QString deviceId = QString::fromStdString(d.device_id());
    out.uri = QStringLiteral("otafleetd:") + deviceId;
    link::DeviceSnapshot s;
    s.deviceId = deviceId;
    s.name = QString::fromStdString(d.name());
    s.model = QString::fromStdString(d.model());
    s.hardware = QString::fromStdString(d.hardware());
    s.agentVersion = QString::fromStdString(d.agent_version());
    s.healthOk = d.health_ok();
    s.state = d.decommissioned() ? QStringLiteral("decommissioned") : QStringLiteral("idle");
    for (const auto& slot : d.slots()) {
        if (s.slots.size() >= link::DeviceSnapshot::kMaxSlots)
            break;
        link::SlotSnapshot ss;
        ss.name = QString::fromStdString(slot.name());
        ss.state = QString::fromStdString(slot.state());
        ss.version = QString::fromStdString(slot.version());
        ss.securityVersion = slot.security_version();
        if (ss.state == u"active" || ss.state == u"trial")
            s.activeSlot = ss.name;
        s.trial = s.trial || ss.state == u"trial";
        s.storedSecurityVersion = std::max(s.storedSecurityVersion, ss.securityVersion);
        s.slots.append(ss);
    }
    if (s.activeSlot.isEmpty() && !d.version().empty()) {
        // A device that reports no slots (an MCU behind a gateway): its running version only.
        link::SlotSnapshot running;
        running.name = QStringLiteral("running");
        running.state = QStringLiteral("active");
        running.version = QString::fromStdString(d.version());
        s.activeSlot = running.name;
        s.slots.append(running);
    }
    out.snapshot = s;
    out.lastSeen = fromUnixMs(d.last_seen_unix_ms());
    return out;
}

bool sameDevice(const FleetDevice& a, const FleetDevice& b) {
    return a.uri == b.uri && a.name == b.name && a.snapshot == b.snapshot &&
           a.lastSeen == b.lastSeen;
}

}  // namespace

// Talks to otafleetd on its own thread: connects and signs in, fetches every page of devices,
// and after a failure waits min(initial * 2^n, max) with jitter before it tries again.
class RemoteFleetWorker final : public QObject {
    Q_OBJECT
public:
    RemoteFleetWorker(client::ConsoleSettings settings, RemoteFleetOptions options)
        : m_settings(std::move(settings)), m_options(std::move(options)) {}
    ~RemoteFleetWorker() override {
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
        connect(m_timer, &QTimer::timeout, this, &RemoteFleetWorker::poll);
        poll();
    }
    void pollNow() {
        if (m_timer)
            m_timer->start(0);
    }

Q_SIGNALS:
    void connectionChanged(const otafleet::fleet::FleetConnection& connection);
    void devicesFetched(const QList<otafleet::fleet::FleetDevice>& devices);

private:
    void poll() {
        if (!m_client) {
            client::ConsoleSettings attempt = m_settings;  // open() wipes the copy's password
            attempt.password.detach();
            auto opened = client::ConsoleClient::open(attempt);
            if (!opened) {
                failed(opened.error());
                return;
            }
            m_client = std::move(*opened);
            auto me =
                call(&client::cpb::ConsoleService::Stub::WhoAmI, client::cpb::WhoAmIRequest());
            if (!me) {
                failed(me.error());
                return;
            }
            m_user = QString::fromStdString(me->name());
            m_role = client::roleToName(me->role());
        }
        QList<FleetDevice> devices;
        std::optional<Error> cut;
        for (quint32 page = 0;; ++page) {
            client::cpb::ListDevicesRequest request;
            request.set_page(page);
            request.set_page_size(kPageSize);
            auto reply = call(&client::cpb::ConsoleService::Stub::ListDevices, request);
            if (!reply) {
                failed(reply.error());
                return;
            }
            for (const auto& d : reply->devices())
                devices.append(toFleetDevice(d));
            if (reply->devices_size() < int(kPageSize) ||
                devices.size() >= qsizetype(reply->total()))
                break;
            if (devices.size() >= m_options.maxDevices) {
                cut = Error{QStringLiteral("fleet.mirror-full"),
                            QStringLiteral("The server has %1 devices; this console shows the "
                                           "first %2. Filter with otafleetctl fleet devices.")
                                .arg(reply->total())
                                .arg(m_options.maxDevices)};
                break;
            }
        }
        m_attempt = 0;
        Q_EMIT devicesFetched(devices);
        FleetConnection c = base(FleetConnection::State::Online);
        c.error = cut;
        Q_EMIT connectionChanged(c);
        m_timer->start(m_options.pollInterval);
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
        const grpc::Status status = ((m_client->stub()).*method)(ctx.get(), request, &reply);
        {
            std::lock_guard lock(m_callMutex);
            m_call = nullptr;
        }
        if (!status.ok())
            return fail(m_client->toError(status));
        return reply;
    }

    void failed(const Error& error) {
        // A new connection (and sign-in) next time: the server may have restarted or the
        // token expired.
        m_client.reset();
        if (!transient(error)) {
            // Trying the same credentials again would only be refused again (and fill the
            // server's audit log): wait for the user.
            qCWarning(lcRemoteFleet).noquote()
                << QStringLiteral("%1: %2").arg(m_settings.address, error.toString());
            FleetConnection c = base(FleetConnection::State::Refused);
            c.error = error;
            Q_EMIT connectionChanged(c);
            return;
        }
        const double ceiling = std::min(
            double(m_options.backoffMax.count()),
            double(m_options.backoffInitial.count()) * std::pow(2.0, std::min(m_attempt, 20)));
        ++m_attempt;
        const auto delay = std::chrono::milliseconds(
            qint64(ceiling * (0.5 + 0.5 * QRandomGenerator::global()->generateDouble())));
        qCInfo(lcRemoteFleet).noquote() << QStringLiteral("%1: %2; next attempt in %3 ms")
                                               .arg(m_settings.address, error.toString())
                                               .arg(delay.count());
        FleetConnection c = base(FleetConnection::State::Reconnecting);
        c.error = error;
        c.nextAttempt = QDateTime::currentDateTimeUtc().addMSecs(delay.count());
        Q_EMIT connectionChanged(c);
        m_timer->start(delay);
    }

    static bool transient(const Error& error) {
        return error.code.startsWith(u"server.") && error.code != u"server.login-failed" &&
               error.code != u"server.tls-rejected";
    }

    FleetConnection base(FleetConnection::State state) const {
        FleetConnection c;
        c.state = state;
        c.where = QStringLiteral("otafleetd at %1").arg(m_settings.address);
        c.user = m_user;
        c.role = m_role;
        return c;
    }

    client::ConsoleSettings m_settings;
    RemoteFleetOptions m_options;
    std::unique_ptr<client::ConsoleClient> m_client;
    QTimer* m_timer = nullptr;
    int m_attempt = 0;
    QString m_user;
    QString m_role;
    std::mutex m_callMutex;
    grpc::ClientContext* m_call = nullptr;
    bool m_aborted = false;
};

RemoteFleet::RemoteFleet(client::ConsoleSettings settings, RemoteFleetOptions options,
                         QObject* parent)
    : FleetService(parent), m_options(std::move(options)), m_pageSettings(settings) {
    m_pageSettings.password.detach();
    m_connection.state = FleetConnection::State::Connecting;
    m_connection.where = QStringLiteral("otafleetd at %1").arg(settings.address);
    m_worker = new RemoteFleetWorker(std::move(settings), m_options);
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(&m_thread, &QThread::started, m_worker, &RemoteFleetWorker::start);
    connect(m_worker, &RemoteFleetWorker::devicesFetched, this, &RemoteFleet::apply);
    connect(m_worker, &RemoteFleetWorker::connectionChanged, this, &RemoteFleet::setConnection);
    m_thread.setObjectName(QStringLiteral("otafleetd client"));
    m_thread.start();
}

RemoteFleet::~RemoteFleet() {
    m_worker->abort();
    m_thread.quit();
    m_thread.wait();
    std::fill(m_pageSettings.password.begin(), m_pageSettings.password.end(), '\0');
}

std::shared_ptr<DevicePageSource> RemoteFleet::devicePages() {
    if (!m_pages) {
        // The role is read on the GUI thread, where bulkBlocker() is asked.
        m_pages = std::make_shared<RemoteDevicePages>(m_pageSettings, [this] {
            return std::pair<QString, QString>(m_connection.user, m_connection.role);
        });
    }
    return m_pages;
}

QList<FleetDevice> RemoteFleet::devices() const {
    return m_devices.values();
}

std::optional<FleetDevice> RemoteFleet::device(qint64 id) const {
    const auto it = m_devices.constFind(id);
    if (it == m_devices.cend())
        return std::nullopt;
    return *it;
}

FleetConnection RemoteFleet::connection() const {
    return m_connection;
}

QString RemoteFleet::serverDeviceId(qint64 id) const {
    const auto it = m_devices.constFind(id);
    return it == m_devices.cend() || !it->snapshot ? QString() : it->snapshot->deviceId;
}

qint64 RemoteFleet::idFor(const QString& serverDeviceId) {
    qint64& id = m_ids[QStringLiteral("otafleetd:") + serverDeviceId];
    if (id == 0)
        id = ++m_nextId;
    return id;
}

void RemoteFleet::setConnection(const FleetConnection& connection) {
    const bool changed =
        connection.state != m_connection.state || connection.user != m_connection.user ||
        connection.error.has_value() != m_connection.error.has_value() ||
        (connection.error && connection.error->toString() != m_connection.error->toString()) ||
        connection.nextAttempt != m_connection.nextAttempt;
    m_connection = connection;
    if (changed)
        Q_EMIT connectionChanged();
}

void RemoteFleet::apply(const QList<FleetDevice>& fetched) {
    QSet<qint64> seen;
    for (FleetDevice d : fetched) {
        qint64& id = m_ids[d.uri];
        if (id == 0)
            id = ++m_nextId;
        d.id = id;
        seen.insert(id);
        auto it = m_devices.find(id);
        if (it == m_devices.end()) {
            m_devices.insert(id, d);
            Q_EMIT deviceAdded(id);
        } else if (!sameDevice(*it, d)) {
            *it = d;
            Q_EMIT deviceChanged(id);
        }
    }
    for (auto it = m_devices.begin(); it != m_devices.end();) {
        if (seen.contains(it.key())) {
            ++it;
            continue;
        }
        const qint64 id = it.key();
        it = m_devices.erase(it);
        Q_EMIT deviceRemoved(id);
    }
}

Status RemoteFleet::serverManaged(qint64 id, const QString& what) const {
    if (!m_devices.contains(id)) {
        return fail(QStringLiteral("fleet.unknown-device"),
                    QStringLiteral("Device %1 is not in this fleet.").arg(id));
    }
    return fail(QStringLiteral("fleet.server-managed"), what);
}

Result<qint64> RemoteFleet::addDevice(const QString& uri, const QString& name) {
    Q_UNUSED(uri);
    Q_UNUSED(name);
    return fail(QStringLiteral("fleet.server-managed"),
                QStringLiteral("Devices join otafleetd by themselves once enrolled (otafleetctl "
                               "enroll, or the factory station); to reach one directly, switch "
                               "the console to This workstation."));
}

Status RemoteFleet::removeDevice(qint64 id) {
    return serverManaged(id, QStringLiteral("otafleetd keeps every enrolled device; retire one "
                                            "with otafleetctl fleet decommission ID, which also "
                                            "revokes its identity."));
}

Status RemoteFleet::refresh(qint64 id) {
    if (!m_devices.contains(id)) {
        return fail(QStringLiteral("fleet.unknown-device"),
                    QStringLiteral("Device %1 is not in this fleet.").arg(id));
    }
    refreshAll();
    return {};
}

void RemoteFleet::refreshAll() {
    QMetaObject::invokeMethod(m_worker, &RemoteFleetWorker::pollNow, Qt::QueuedConnection);
}

Status RemoteFleet::startUpdate(qint64 id, const QString& bundlePath,
                                const link::UpdateOptions& options) {
    Q_UNUSED(bundlePath);
    Q_UNUSED(options);
    return serverManaged(id, QStringLiteral("otafleetd updates its devices through rollouts: "
                                            "upload the release and create a rollout that "
                                            "targets this device."));
}

Status RemoteFleet::commit(qint64 id) {
    return serverManaged(id, QStringLiteral("A device of otafleetd commits an update by itself "
                                            "once its health checks pass."));
}

Status RemoteFleet::rollback(qint64 id) {
    return serverManaged(id, QStringLiteral("otafleetd rolls devices back with a rollout of the "
                                            "earlier release."));
}

Status RemoteFleet::reboot(qint64 id) {
    return serverManaged(id, QStringLiteral("otafleetd does not reboot devices on request; "
                                            "connect to the device directly to reboot it."));
}

void RemoteFleet::cancel(qint64 id) {
    Q_UNUSED(id);  // nothing runs from this console on a server's device
}

void RemoteFleet::inspectBundle(const QString& path, qint64 deviceId) {
    BundleCheck check;
    check.bundlePath = path;
    check.trustPemPath = m_options.trustedRootFile;
    check.deviceId = deviceId;
    if (const auto d = device(deviceId); d && d->snapshot) {
        check.hardware = d->snapshot->hardware;
        check.minSecurityVersion = d->snapshot->storedSecurityVersion;
        check.agentVersion = d->snapshot->agentVersion;
    }
    auto* watcher = new QFutureWatcher<BundleReport>(this);
    connect(watcher, &QFutureWatcher<BundleReport>::finished, this, [this, watcher, path] {
        watcher->deleteLater();
        Q_EMIT bundleInspected(path, watcher->result());
    });
    watcher->setFuture(QtConcurrent::run([check] { return fleet::inspectBundle(check); }));
}

}  // namespace otafleet::fleet

#include "RemoteFleet.moc"
