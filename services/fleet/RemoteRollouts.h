// The rollouts of an otafleetd, as the console's rollout views see every fleet's rollouts
// (RolloutService): a mirror that a worker thread refreshes through ConsoleService (ListRollouts,
// and GetRollout with ListRolloutDevices for every rollout that changed since it last looked),
// and the commands (CreateRollout, Approve/Start/Pause/Resume/Abort/RetryFailedRollout) sent from
// that thread too, so the GUI thread never waits on the network. When the server is lost the
// mirror stays as it was, commands fail with the connection's error (server.unreachable, ...),
// and the worker tries again with growing pauses.
//
// Creating: the wizard names a bundle file; its SHA-256 is the server's release id. A release
// the server does not hold yet is uploaded first (UploadRelease), then the rollout is created
// for the filter expression that chose the targets; otafleetd evaluates it over its own devices.
// The server records who acts: its signed-in user, never a name typed here. What the user's
// role may do follows otafleetd's RBAC (WhoAmI through the RemoteFleet's connection); the views
// disable the rest with the reason, and the server refuses it anyway (server.permission-denied).
#pragma once

#include "consoleclient/ConsoleSettings.h"
#include "fleet/RolloutService.h"

#include <QHash>
#include <QMap>
#include <QThread>

#include <chrono>

namespace otafleet::fleet {

class RemoteFleet;

struct RemoteRolloutsOptions {
    std::chrono::milliseconds pollInterval{2000};  // while online
    std::chrono::milliseconds backoffInitial{1000};
    std::chrono::milliseconds backoffMax{30000};
    std::chrono::seconds callDeadline{10};
    std::chrono::seconds uploadDeadline{600};
    int maxRollouts = 10000;           // the newest ones beyond are not mirrored
    int maxDevicesPerRollout = 20000;  // the monitor lists at most this many targets
};

// One rollout as the worker fetched it: its summary and, when it fetched the details, its
// targets by the server's device ids.
struct RemoteRolloutState {
    RolloutSummary summary;
    qint64 updatedMs = 0;
    bool detailed = false;
    bool unchanged = false;  // the poll found it as it was: nothing else is filled
    QList<std::pair<QString, RolloutDevice>> devices;  // server device id, state (deviceId 0)
};

// A server rollout has no name of its own: "1.1.0 to 'model = gw-x1'" (or "to all devices").
[[nodiscard]] QString remoteRolloutName(const QString& releaseVersion, const QString& target);

class RemoteRolloutsWorker;

class RemoteRollouts final : public RolloutService {
    Q_OBJECT
public:
    // `fleet` (the same server's) gives the console's device ids and the signed-in user and role;
    // it must outlive this object.
    RemoteRollouts(client::ConsoleSettings settings, RemoteFleet& fleet,
                   RemoteRolloutsOptions options = {}, QObject* parent = nullptr);
    ~RemoteRollouts() override;

    quint64 requestCreate(const RolloutDraft& draft) override;
    quint64 requestAction(qint64 id, RolloutAction action, const QString& user) override;
    [[nodiscard]] std::optional<QString> createBlocker() const override;
    [[nodiscard]] std::optional<QString> actionBlocker(RolloutAction action) const override;
    [[nodiscard]] QString signedInUser() const override;

    [[nodiscard]] QList<RolloutSummary> rollouts() const override;
    [[nodiscard]] std::optional<RolloutSummary> rollout(qint64 id) const override;
    [[nodiscard]] QList<RolloutDevice> rolloutDevices(qint64 id) const override;

    // Asks the server again now (after a command the worker does so by itself).
    void refresh();

    // The roles otafleetd lets do each command (its Rbac.cpp), by role name ("release-manager").
    [[nodiscard]] static QStringList rolesAllowedToCreate();
    [[nodiscard]] static QStringList rolesAllowedTo(RolloutAction action);

private:
    void apply(const QList<otafleet::fleet::RemoteRolloutState>& fetched, bool complete);
    void onFleetConnection();
    [[nodiscard]] std::optional<QString> roleBlocker(const QStringList& allowed,
                                                     const QString& what) const;

    RemoteFleet& m_fleet;
    QThread m_thread;
    RemoteRolloutsWorker* m_worker = nullptr;  // lives in m_thread
    QMap<qint64, RolloutSummary> m_rollouts;
    QHash<qint64, QList<RolloutDevice>> m_devices;
    quint64 m_lastRequest = 0;
    QString m_user;
    QString m_role;
};

}  // namespace otafleet::fleet

Q_DECLARE_METATYPE(otafleet::fleet::RemoteRolloutState)
