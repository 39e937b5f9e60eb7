#include "fleet/RemoteAudit.h"

#include "fleet/FleetService.h"
#include "fleet/RemoteCaller.h"
#include "fleet/RoleCheck.h"
#include "fleet/WorkerThread.h"

namespace otafleet::fleet {
namespace {

namespace cpb = client::cpb;

AuditRecord recordOf(const cpb::AuditEntry& e) {
    return AuditRecord{e.id(),
                       QDateTime::fromMSecsSinceEpoch(e.time_unix_ms(), Qt::UTC),
                       QString::fromStdString(e.actor()),
                       QString::fromStdString(e.subject()),
                       QString::fromStdString(e.action()),
                       QString::fromStdString(e.detail()),
                       QString::fromStdString(e.prev_hash()),
                       QString::fromStdString(e.entry_hash())};
}

}  // namespace

class RemoteAudit::Worker : public WorkerThread<RemoteCaller> {
public:
    using WorkerThread::WorkerThread;
};

RemoteAudit::RemoteAudit(client::ConsoleSettings settings, FleetService& fleet,
                         std::chrono::seconds callDeadline, QObject* parent)
    : AuditService(parent),
      m_fleet(fleet),
      m_worker(std::make_unique<Worker>(QStringLiteral("otafleetd audit"), std::move(settings),
                                        callDeadline)) {
    connect(&m_fleet, &FleetService::connectionChanged, this, [this] {
        const QString role = m_fleet.connection().role;
        if (role.isEmpty() || role == m_role)
            return;  // the role stays what the server last said while it is away
        m_role = role;
        Q_EMIT permissionsChanged();
    });
    m_role = m_fleet.connection().role;
}

RemoteAudit::~RemoteAudit() {
    m_worker->state().abort();
}

QStringList RemoteAudit::rolesAllowedToRead() {
    return {QStringLiteral("approver"), QStringLiteral("admin")};
}

std::optional<QString> RemoteAudit::readBlocker() const {
    FleetConnection c = m_fleet.connection();
    if (c.role.isEmpty())
        c.role = m_role;
    return roleBlocker(c, rolesAllowedToRead(), QStringLiteral("read the audit log"));
}

quint64 RemoteAudit::requestEntries(const AuditFilter& filter) {
    const quint64 request = ++m_next;
    m_worker->post(
        this,
        [filter](RemoteCaller& caller) -> Result<AuditEntries> {
            return collectAudit(
                [&caller](qint64 after, int limit) -> Result<QList<AuditRecord>> {
                    cpb::ListAuditRequest r;
                    r.set_after_id(after);
                    r.set_page_size(quint32(limit));
                    auto page = caller.call(&cpb::ConsoleService::Stub::ListAudit, r);
                    if (!page)
                        return std::unexpected(page.error());
                    QList<AuditRecord> out;
                    out.reserve(page->entries_size());
                    for (const cpb::AuditEntry& e : page->entries())
                        out.append(recordOf(e));
                    return out;
                },
                filter, kPageSize, kMaxShown);
        },
        [this, request](const Result<AuditEntries>& result) {
            if (result)
                Q_EMIT entriesReady(request, *result);
            else
                Q_EMIT requestFailed(request, result.error());
        });
    return request;
}

quint64 RemoteAudit::requestVerify() {
    const quint64 request = ++m_next;
    m_worker->post(
        this,
        [](RemoteCaller& caller) -> Result<AuditCheck> {
            auto verdict =
                caller.call(&cpb::ConsoleService::Stub::VerifyAudit, cpb::VerifyAuditRequest());
            if (!verdict)
                return std::unexpected(verdict.error());
            return AuditCheck{verdict->intact(), verdict->entries(), verdict->first_bad_id(),
                              QString::fromStdString(verdict->reason())};
        },
        [this, request](const Result<AuditCheck>& result) {
            if (result)
                Q_EMIT verified(request, *result);
            else
                Q_EMIT requestFailed(request, result.error());
        });
    return request;
}

}  // namespace otafleet::fleet
