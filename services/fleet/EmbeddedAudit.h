// The audit log of the fleet run inside the console: the audit table of the console's own fleet
// file (store::AuditLog, the hash chain otafleetd uses), read, verified and appended to on a
// thread of its own with its own connection to the file (SQLite in WAL mode).
//
// What it appends, once watch() gave it the fleet and its rollouts (the console has no users:
// the actor is the person logged in to the workstation, or "system" for what the rollout engine
// decided by itself):
//   device.add, device.remove                    subject device:ID, detail the address
//   device.update|commit|rollback|reboot         detail "succeeded" or the error, when it ends
//   rollout.create                               subject rollout:ID, detail its name
//   rollout.<state> on every change of state     awaiting_approval, scheduled, running, paused
//                                                (detail: the engine's reason), completed, ...
//   rollout.approve                              detail who approved
#pragma once

#include "fleet/AuditService.h"
#include "link/DeviceLink.h"
#include "rollout/RolloutTypes.h"

#include <QHash>

#include <memory>

namespace otafleet::fleet {

class FleetService;
class RolloutService;

class EmbeddedAudit : public AuditService {
    Q_OBJECT
public:
    // `storePath`: the fleet's SQLite file (EmbeddedFleet::store().path()); `actor`: who works at
    // this console.
    EmbeddedAudit(QString storePath, QString actor, QObject* parent = nullptr);
    ~EmbeddedAudit() override;

    // Appends what `fleet` and `rollouts` (may be null) change from now on; both must outlive
    // this object or be watched no more (their destruction disconnects them).
    void watch(FleetService& fleet, RolloutService* rollouts);
    // Appends one entry as `actor` (the console's by default) on the worker; logChanged() follows.
    void record(const QString& subject, const QString& action, const QString& detail,
                const QString& actor = {});

    quint64 requestEntries(const AuditFilter& filter) override;
    quint64 requestVerify() override;

    class Worker;

private:
    void onOperationFinished(qint64 id, link::LinkOperation operation,
                             const std::optional<Error>& error);
    void onRollout(qint64 id, bool added);

    QString m_actor;
    RolloutService* m_rollouts = nullptr;
    QHash<qint64, rollout::RolloutState> m_rolloutStates;
    QHash<qint64, QString> m_approvedBy;
    quint64 m_next = 0;
    std::unique_ptr<Worker> m_worker;
};

}  // namespace otafleet::fleet
