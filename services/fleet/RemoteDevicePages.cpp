#include "fleet/RemoteDevicePages.h"

#include "consoleclient/ConsoleClient.h"
#include "fleet/FleetDeviceSql.h"
#include "fleet/PoolTask.h"

#include <QCoreApplication>
#include <QPromise>

#include <mutex>

namespace otafleet::fleet {
namespace {

namespace cpb = client::cpb;

DeviceRow rowOf(const cpb::FleetDevice& d) {
    DeviceRow row;
    row.key = QString::fromStdString(d.device_id());
    row.name = QString::fromStdString(d.name());
    row.model = QString::fromStdString(d.model());
    row.hardware = QString::fromStdString(d.hardware());
    row.version = QString::fromStdString(d.version());
    row.group = QString::fromStdString(d.group());
    for (const auto& tag : d.tags())
        row.tags << QString::fromStdString(tag);
    row.online = d.online();
    row.decommissioned = d.decommissioned();
    row.healthOk = d.health_ok();
    if (d.last_seen_unix_ms() > 0)
        row.lastSeen = QDateTime::fromMSecsSinceEpoch(d.last_seen_unix_ms(), Qt::UTC);
    return row;
}

// A failure of this device alone: the others go on.
bool deviceOnly(const Error& error) {
    return error.code.startsWith(u"store.") || error.code.startsWith(u"request.");
}

QString roleTitle(const QString& role) {
    if (role == u"release-manager")
        return QCoreApplication::translate("RemoteDevicePages", "release manager");
    return role;
}

}  // namespace

struct RemoteDevicePages::Worker {
    client::ConsoleSettings settings;
    std::unique_ptr<client::ConsoleClient> client;

    std::mutex mutex;  // guards current and aborted, which abort() uses from another thread
    grpc::ClientContext* current = nullptr;
    bool aborted = false;

    ~Worker() { std::fill(settings.password.begin(), settings.password.end(), '\0'); }

    void abort() {
        std::lock_guard lock(mutex);
        aborted = true;
        if (current)
            current->TryCancel();
    }

    Result<client::ConsoleClient*> connected() {
        if (!client) {
            client::ConsoleSettings attempt = settings;  // open() wipes the copy's password
            attempt.password.detach();
            auto opened = client::ConsoleClient::open(attempt);
            if (!opened)
                return fail(opened.error());
            client = std::move(*opened);
        }
        return client.get();
    }

    template <class Request, class Reply>
    Result<Reply> call(grpc::Status (cpb::ConsoleService::Stub::*method)(grpc::ClientContext*,
                                                                         const Request&, Reply*),
                       const Request& request) {
        auto c = connected();
        if (!c)
            return fail(c.error());
        auto ctx = (*c)->context();
        {
            std::lock_guard lock(mutex);
            if (aborted)
                return fail(QStringLiteral("fleet.closing"),
                            QStringLiteral("The console is closing this connection."));
            current = ctx.get();
        }
        Reply reply;
        const grpc::Status status = (((*c)->stub()).*method)(ctx.get(), request, &reply);
        {
            std::lock_guard lock(mutex);
            current = nullptr;
        }
        if (status.ok())
            return reply;
        const Error error = (*c)->toError(status);
        // The server may have restarted or the token expired: sign in anew next time.
        if (error.code.startsWith(u"server."))
            client.reset();
        return fail(error);
    }

    Result<DeviceRowPage> fetch(const DevicePageRequest& request) {
        if (auto ok = checkPageRequest(request); !ok)
            return fail(ok.error());
        cpb::ListDevicesRequest r;
        r.set_filter(request.filter.toStdString());
        r.set_text(request.text.toStdString());
        r.set_sort(sortKeyName(request.sort).toStdString());
        r.set_descending(request.descending);
        r.set_page(quint32(std::max(request.page, 0)));
        r.set_page_size(quint32(std::clamp(request.pageSize, 1, DevicePageRequest::kMaxPageSize)));
        auto reply = call(&cpb::ConsoleService::Stub::ListDevices, r);
        if (!reply)
            return fail(reply.error());
        DeviceRowPage out;
        out.total = qint64(reply->total());
        for (const auto& d : reply->devices())
            out.rows.append(rowOf(d));
        return out;
    }

    Status change(const BulkRequest& request, const QString& key) {
        const std::string id = key.toStdString();
        switch (request.action) {
            case BulkAction::Tag:
            case BulkAction::Untag: {
                cpb::TagDeviceRequest r;
                r.set_device_id(id);
                r.set_tag(request.value.toStdString());
                auto reply = call(request.action == BulkAction::Tag
                                      ? &cpb::ConsoleService::Stub::TagDevice
                                      : &cpb::ConsoleService::Stub::UntagDevice,
                                  r);
                return reply ? Status{} : Status(fail(reply.error()));
            }
            case BulkAction::Group: {
                cpb::SetDeviceGroupRequest r;
                r.set_device_id(id);
                r.set_group(request.value.toStdString());
                auto reply = call(&cpb::ConsoleService::Stub::SetDeviceGroup, r);
                return reply ? Status{} : Status(fail(reply.error()));
            }
            case BulkAction::Decommission: {
                cpb::DecommissionDeviceRequest r;
                r.set_device_id(id);
                r.set_reason(request.reason.toStdString());
                auto reply = call(&cpb::ConsoleService::Stub::DecommissionDevice, r);
                return reply ? Status{} : Status(fail(reply.error()));
            }
        }
        return {};
    }

    void apply(QPromise<Result<BulkOutcome>>& promise, const BulkRequest& request) {
        if (auto ok = checkBulkRequest(request); !ok) {
            promise.addResult(Result<BulkOutcome>(fail(ok.error())));
            return;
        }
        BulkOutcome outcome;
        promise.setProgressRange(0, int(request.keys.size()));
        for (qsizetype i = 0; i < request.keys.size(); ++i) {
            if (promise.isCanceled() || request.stop->load()) {
                outcome.cancelled = true;
                break;
            }
            const QString& key = request.keys.at(i);
            if (Status changed = change(request, key); changed) {
                ++outcome.changed;
            } else if (deviceOnly(changed.error())) {
                outcome.failed.append({key, changed.error()});
            } else {
                // Refused (auth.*) or the server is gone: every other device would fail alike.
                promise.addResult(Result<BulkOutcome>(fail(changed.error())));
                return;
            }
            promise.setProgressValue(int(i + 1));
        }
        promise.addResult(Result<BulkOutcome>(std::move(outcome)));
    }
};

RemoteDevicePages::RemoteDevicePages(client::ConsoleSettings settings, RoleProvider role)
    : m_worker(std::make_shared<Worker>()), m_role(std::move(role)) {
    m_worker->settings = std::move(settings);
    m_pool.setMaxThreadCount(1);
    m_pool.setExpiryTimeout(-1);
    m_pool.setObjectName(QStringLiteral("otafleetd device pages"));
}

RemoteDevicePages::~RemoteDevicePages() {
    // The call in flight is cancelled, not waited for.
    m_worker->abort();
    m_pool.clear();
    m_pool.waitForDone();
}

QFuture<Result<DeviceRowPage>> RemoteDevicePages::fetch(const DevicePageRequest& request) {
    return runOnPool<Result<DeviceRowPage>>(
        m_pool, [worker = m_worker, request](QPromise<Result<DeviceRowPage>>& promise) {
            promise.addResult(worker->fetch(request));
        });
}

QFuture<Result<BulkOutcome>> RemoteDevicePages::apply(const BulkRequest& request) {
    return runOnPool<Result<BulkOutcome>>(
        m_pool, [worker = m_worker, request](QPromise<Result<BulkOutcome>>& promise) {
            worker->apply(promise, request);
        });
}

QStringList RemoteDevicePages::rolesAllowed(BulkAction action) {
    if (action == BulkAction::Decommission)
        return {QStringLiteral("admin")};
    return {QStringLiteral("technician"), QStringLiteral("release-manager"),
            QStringLiteral("admin")};
}

std::optional<QString> RemoteDevicePages::bulkBlocker(BulkAction action) const {
    const auto [user, role] = m_role ? m_role() : std::pair<QString, QString>();
    if (role.isEmpty()) {
        return QCoreApplication::translate("RemoteDevicePages",
                                           "Waiting for otafleetd to say what your role allows.");
    }
    const QStringList allowed = rolesAllowed(action);
    if (allowed.contains(role))
        return std::nullopt;
    QStringList titles;
    for (const QString& r : allowed)
        titles << roleTitle(r);
    return QCoreApplication::translate(
               "RemoteDevicePages",
               "As %1 (%2) you may not %3 devices on this server; ask someone with the role %4.")
        .arg(user, roleTitle(role), bulkActionName(action), titles.join(QStringLiteral(" or ")));
}

}  // namespace otafleet::fleet
