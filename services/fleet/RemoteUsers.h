// otafleetd's users (UserService) through ConsoleService's admin calls (ListUsers, AddUser,
// SetUserRole, DisableUser: what `otafleetctl user ...` sends), on a worker thread with its own
// signed-in connection. The password of a new user crosses to that thread once and is wiped
// there after the call.
#pragma once

#include "consoleclient/ConsoleSettings.h"
#include "fleet/UserService.h"

#include <chrono>
#include <memory>

namespace otafleet::fleet {

class FleetService;

class RemoteUsers : public UserService {
    Q_OBJECT
public:
    // `fleet` (the same server's) tells the signed-in user and role; it must outlive this object.
    RemoteUsers(client::ConsoleSettings settings, FleetService& fleet,
                std::chrono::seconds callDeadline = std::chrono::seconds(15),
                QObject* parent = nullptr);
    ~RemoteUsers() override;

    [[nodiscard]] QList<UserAccount> users() const override { return m_users; }
    [[nodiscard]] std::optional<QString> manageBlocker() const override;
    [[nodiscard]] QString signedInUser() const override;

    void refresh() override;
    quint64 requestAdd(const QString& name, const QString& role, QByteArray password) override;
    quint64 requestSetRole(const QString& name, const QString& role) override;
    quint64 requestDisable(const QString& name) override;

    class Worker;

private:
    void onConnection();
    // A command ended: the list it fetched afterwards (none when it failed), then its outcome.
    void finish(quint64 request, std::optional<QList<UserAccount>> users,
                const std::optional<Error>& error);

    FleetService& m_fleet;
    QString m_user;
    QString m_role;
    QList<UserAccount> m_users;
    bool m_listed = false;
    quint64 m_next = 0;
    std::unique_ptr<Worker> m_worker;
};

}  // namespace otafleet::fleet
