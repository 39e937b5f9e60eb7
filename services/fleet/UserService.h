// The users of an otafleetd as the console's user management sees them (server mode only: an
// embedded fleet has no users, and the console offers no UserService for it). An admin lists
// them, adds one with a role and a password, changes a role and disables a user (users are never
// deleted, so the audit log's actors stay meaningful). Commands return a request number at once
// and end with one requestFinished(); the list is refreshed after every command and on refresh().
#pragma once

#include "common/Error.h"
#include "fleet/FleetService.h"  // std::optional<Error> as a signal argument

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

#include <optional>

namespace otafleet::fleet {

struct UserAccount {
    QString name;
    QString role;  // viewer | technician | release-manager | approver | admin
    bool disabled = false;
    bool certificateBound = false;  // signs in with an operator certificate
    QDateTime created;

    friend bool operator==(const UserAccount&, const UserAccount&) = default;
};

// The roles otafleetd knows, in the order a chooser lists them.
[[nodiscard]] QStringList userRoles();

class UserService : public QObject {
    Q_OBJECT
public:
    ~UserService() override;

    [[nodiscard]] virtual QList<UserAccount> users() const = 0;  // by name
    // Why the signed-in user may not manage users (not an admin), as a sentence for a tooltip;
    // none when they may.
    [[nodiscard]] virtual std::optional<QString> manageBlocker() const = 0;
    // The user the server signed in (empty until known).
    [[nodiscard]] virtual QString signedInUser() const = 0;

    virtual void refresh() = 0;
    // Errors: server.invalid-argument (name, role, a password of 8 to 1024 bytes), store.duplicate,
    // store.not-found, server.permission-denied, server.*.
    virtual quint64 requestAdd(const QString& name, const QString& role, QByteArray password) = 0;
    virtual quint64 requestSetRole(const QString& name, const QString& role) = 0;
    virtual quint64 requestDisable(const QString& name) = 0;

Q_SIGNALS:
    void usersChanged();
    // The list could not be fetched (the view says why).
    void listFailed(const otafleet::Error& error);
    void requestFinished(quint64 request, const std::optional<otafleet::Error>& error);
    void permissionsChanged();

protected:
    explicit UserService(QObject* parent = nullptr);
};

}  // namespace otafleet::fleet
