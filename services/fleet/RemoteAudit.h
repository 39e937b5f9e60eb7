// The audit log of an otafleetd (AuditService): pages of ListAudit filtered on a worker thread
// with its own signed-in connection, and VerifyAudit, the check `otafleetctl audit verify` runs.
// Reading needs the role approver or admin (readBlocker() says so beforehand, from the role the
// fleet's connection reports; the server refuses anyway with server.permission-denied).
#pragma once

#include "consoleclient/ConsoleSettings.h"
#include "fleet/AuditService.h"

#include <chrono>
#include <memory>

namespace otafleet::fleet {

class FleetService;

class RemoteAudit : public AuditService {
    Q_OBJECT
public:
    // `fleet` (the same server's) tells the signed-in user's role; it must outlive this object.
    RemoteAudit(client::ConsoleSettings settings, FleetService& fleet,
                std::chrono::seconds callDeadline = std::chrono::seconds(15),
                QObject* parent = nullptr);
    ~RemoteAudit() override;

    quint64 requestEntries(const AuditFilter& filter) override;
    quint64 requestVerify() override;
    [[nodiscard]] std::optional<QString> readBlocker() const override;

    // The roles otafleetd lets read and verify the audit log (its Rbac.cpp).
    [[nodiscard]] static QStringList rolesAllowedToRead();

    class Worker;

private:
    FleetService& m_fleet;
    QString m_role;
    quint64 m_next = 0;
    std::unique_ptr<Worker> m_worker;
};

}  // namespace otafleet::fleet
