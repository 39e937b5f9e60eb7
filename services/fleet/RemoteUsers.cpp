#include "fleet/RemoteUsers.h"

#include "fleet/FleetService.h"
#include "fleet/RemoteCaller.h"
#include "fleet/RoleCheck.h"
#include "fleet/WorkerThread.h"

#include <algorithm>

namespace otafleet::fleet {
namespace {

namespace cpb = client::cpb;

const QString kAdmin = QStringLiteral("admin");

UserAccount accountOf(const cpb::User& u) {
    return UserAccount{QString::fromStdString(u.name()), client::roleToName(u.role()), u.disabled(),
                       u.certificate_bound(),
                       QDateTime::fromMSecsSinceEpoch(u.created_unix_ms(), Qt::UTC)};
}

Result<cpb::Role> roleOf(const QString& name) {
    const auto role = client::roleFromName(name);
    if (!role) {
        return fail(QStringLiteral("fleet.invalid-role"),
                    QStringLiteral("'%1' is not a role; choose viewer, technician, "
                                   "release-manager, approver or admin.")
                        .arg(name));
    }
    return *role;
}

Result<QList<UserAccount>> listUsers(RemoteCaller& caller) {
    auto reply = caller.call(&cpb::ConsoleService::Stub::ListUsers, cpb::ListUsersRequest());
    if (!reply)
        return std::unexpected(reply.error());
    QList<UserAccount> users;
    for (const cpb::User& u : reply->users())
        users.append(accountOf(u));
    std::sort(users.begin(), users.end(),
              [](const UserAccount& a, const UserAccount& b) { return a.name < b.name; });
    return users;
}

// A command's outcome and, when it went through, the list as it is now.
struct Outcome {
    std::optional<Error> error;
    std::optional<QList<UserAccount>> users;
};

template <class Request>
Outcome runCommand(RemoteCaller& caller,
                   grpc::Status (cpb::ConsoleService::Stub::*method)(grpc::ClientContext*,
                                                                     const Request&, cpb::User*),
                   const Request& request) {
    Outcome out;
    if (auto done = caller.call(method, request); !done) {
        out.error = done.error();
        return out;
    }
    if (auto users = listUsers(caller))
        out.users = std::move(*users);
    return out;
}

}  // namespace

class RemoteUsers::Worker : public WorkerThread<RemoteCaller> {
public:
    using WorkerThread::WorkerThread;
};

RemoteUsers::RemoteUsers(client::ConsoleSettings settings, FleetService& fleet,
                         std::chrono::seconds callDeadline, QObject* parent)
    : UserService(parent),
      m_fleet(fleet),
      m_worker(std::make_unique<Worker>(QStringLiteral("otafleetd users"), std::move(settings),
                                        callDeadline)) {
    qRegisterMetaType<std::optional<Error>>();
    connect(&m_fleet, &FleetService::connectionChanged, this, &RemoteUsers::onConnection);
    onConnection();
}

RemoteUsers::~RemoteUsers() {
    m_worker->state().abort();
}

void RemoteUsers::onConnection() {
    const FleetConnection c = m_fleet.connection();
    if (c.user.isEmpty() || (c.user == m_user && c.role == m_role))
        return;
    m_user = c.user;
    m_role = c.role;
    Q_EMIT permissionsChanged();
    // Only an admin asks: anyone else's ListUsers is refused and lands in the audit log.
    if (m_role == kAdmin && !m_listed)
        refresh();
}

std::optional<QString> RemoteUsers::manageBlocker() const {
    FleetConnection c = m_fleet.connection();
    c.user = m_user;
    c.role = m_role;
    return roleBlocker(c, {kAdmin}, QStringLiteral("manage users"));
}

QString RemoteUsers::signedInUser() const {
    return m_user;
}

void RemoteUsers::refresh() {
    if (m_role != kAdmin)
        return;
    m_worker->post(
        this, [](RemoteCaller& caller) { return listUsers(caller); },
        [this](const Result<QList<UserAccount>>& users) {
            if (!users) {
                Q_EMIT listFailed(users.error());
                return;
            }
            m_listed = true;
            m_users = *users;
            Q_EMIT usersChanged();
        });
}

void RemoteUsers::finish(quint64 request, std::optional<QList<UserAccount>> users,
                         const std::optional<Error>& error) {
    if (users) {
        m_users = std::move(*users);
        Q_EMIT usersChanged();
    }
    Q_EMIT requestFinished(request, error);
}

quint64 RemoteUsers::requestAdd(const QString& name, const QString& role, QByteArray password) {
    const quint64 request = ++m_next;
    m_worker->post(
        this,
        [name, role, password = std::move(password)](RemoteCaller& caller) mutable {
            cpb::AddUserRequest r;
            r.set_name(name.toStdString());
            r.set_password(password.toStdString());
            std::fill(password.begin(), password.end(), '\0');
            Outcome out;
            if (auto parsed = roleOf(role)) {
                r.set_role(*parsed);
                out = runCommand(caller, &cpb::ConsoleService::Stub::AddUser, r);
            } else {
                out.error = parsed.error();
            }
            std::fill(r.mutable_password()->begin(), r.mutable_password()->end(), '\0');
            return out;
        },
        [this, request](Outcome out) { finish(request, std::move(out.users), out.error); });
    return request;
}

quint64 RemoteUsers::requestSetRole(const QString& name, const QString& role) {
    const quint64 request = ++m_next;
    m_worker->post(
        this,
        [name, role](RemoteCaller& caller) {
            auto parsed = roleOf(role);
            if (!parsed)
                return Outcome{parsed.error(), std::nullopt};
            cpb::SetUserRoleRequest r;
            r.set_name(name.toStdString());
            r.set_role(*parsed);
            return runCommand(caller, &cpb::ConsoleService::Stub::SetUserRole, r);
        },
        [this, request](Outcome out) { finish(request, std::move(out.users), out.error); });
    return request;
}

quint64 RemoteUsers::requestDisable(const QString& name) {
    const quint64 request = ++m_next;
    m_worker->post(
        this,
        [name](RemoteCaller& caller) {
            cpb::DisableUserRequest r;
            r.set_name(name.toStdString());
            return runCommand(caller, &cpb::ConsoleService::Stub::DisableUser, r);
        },
        [this, request](Outcome out) { finish(request, std::move(out.users), out.error); });
    return request;
}

}  // namespace otafleet::fleet
