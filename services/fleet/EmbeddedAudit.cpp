#include "fleet/EmbeddedAudit.h"

#include "fleet/FleetService.h"
#include "fleet/LazyStore.h"
#include "fleet/RolloutService.h"
#include "fleet/WorkerThread.h"
#include "store/FleetStore.h"

#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcEmbeddedAudit, "otafleet.fleet.audit")

namespace otafleet::fleet {
namespace {

const QString kSystem = QStringLiteral("system");

AuditRecord recordOf(const store::AuditEntry& e) {
    return AuditRecord{e.id,     e.time,   e.actor,    e.subject,
                       e.action, e.detail, e.prevHash, e.entryHash};
}

QString deviceSubject(qint64 id) {
    return QStringLiteral("device:%1").arg(id);
}

}  // namespace

class EmbeddedAudit::Worker : public WorkerThread<LazyStore> {
public:
    using WorkerThread::WorkerThread;
};

EmbeddedAudit::EmbeddedAudit(QString storePath, QString actor, QObject* parent)
    : AuditService(parent),
      m_actor(actor.isEmpty() ? QStringLiteral("console") : std::move(actor)),
      m_worker(std::make_unique<Worker>(QStringLiteral("audit"), std::move(storePath))) {}

EmbeddedAudit::~EmbeddedAudit() = default;

void EmbeddedAudit::watch(FleetService& fleet, RolloutService* rollouts) {
    connect(&fleet, &FleetService::deviceAdded, this, [this, &fleet](qint64 id) {
        const auto d = fleet.device(id);
        if (id > 0 && d)  // devices found by hot-plug are not the fleet's until added
            record(deviceSubject(id), QStringLiteral("device.add"), d->uri);
    });
    connect(&fleet, &FleetService::deviceRemoved, this, [this](qint64 id) {
        if (id > 0)
            record(deviceSubject(id), QStringLiteral("device.remove"), QString());
    });
    connect(&fleet, &FleetService::operationFinished, this, &EmbeddedAudit::onOperationFinished);
    m_rollouts = rollouts;
    if (!rollouts)
        return;
    for (const RolloutSummary& r : rollouts->rollouts()) {
        m_rolloutStates.insert(r.id, r.status.state);
        m_approvedBy.insert(r.id, r.status.approvedBy);
    }
    connect(rollouts, &RolloutService::rolloutAdded, this,
            [this](qint64 id) { onRollout(id, true); });
    connect(rollouts, &RolloutService::rolloutChanged, this,
            [this](qint64 id) { onRollout(id, false); });
}

void EmbeddedAudit::onOperationFinished(qint64 id, link::LinkOperation operation,
                                        const std::optional<Error>& error) {
    if (operation == link::LinkOperation::Refresh || id <= 0)
        return;
    record(deviceSubject(id), QStringLiteral("device.") + link::operationName(operation),
           error ? QStringLiteral("failed: ") + error->toString() : QStringLiteral("succeeded"));
}

void EmbeddedAudit::onRollout(qint64 id, bool added) {
    const auto r = m_rollouts->rollout(id);
    if (!r)
        return;
    const QString subject = QStringLiteral("rollout:%1").arg(id);
    const rollout::RolloutState state = r->status.state;
    if (added || !m_rolloutStates.contains(id)) {
        record(subject, QStringLiteral("rollout.create"),
               QStringLiteral("%1 (%2)").arg(r->name, r->bundlePath), r->status.author);
    }
    if (!r->status.approvedBy.isEmpty() && m_approvedBy.value(id) != r->status.approvedBy) {
        record(subject, QStringLiteral("rollout.approve"),
               QStringLiteral("approved by %1").arg(r->status.approvedBy), r->status.approvedBy);
    }
    m_approvedBy.insert(id, r->status.approvedBy);
    const auto previous = m_rolloutStates.find(id);
    const bool moved = previous == m_rolloutStates.end() ? !added : *previous != state;
    m_rolloutStates.insert(id, state);
    if (!moved || state == rollout::RolloutState::Draft)
        return;
    // A pause the engine decided (a threshold crossed) or a completion is the system's doing.
    const QString reason = r->status.pauseReason;
    const bool bySystem = state == rollout::RolloutState::Completed ||
                          (state == rollout::RolloutState::Paused &&
                           !reason.startsWith(QStringLiteral("Paused by ")));
    record(subject, QStringLiteral("rollout.") + rollout::rolloutStateName(state), reason,
           bySystem ? kSystem : QString());
}

void EmbeddedAudit::record(const QString& subject, const QString& action, const QString& detail,
                           const QString& actor) {
    const QString who = actor.isEmpty() ? m_actor : actor;
    m_worker->post(
        this,
        [who, subject, action, detail](LazyStore& w) -> Status {
            auto store = w.get();
            if (!store)
                return std::unexpected(store.error());
            auto appended = (*store)->audit().append(who, subject, action, detail);
            if (!appended)
                return std::unexpected(appended.error());
            return {};
        },
        [this, action](const Status& done) {
            if (!done) {
                qCWarning(lcEmbeddedAudit).noquote()
                    << "audit entry lost:" << action << done.error().toString();
                return;
            }
            Q_EMIT logChanged();
        });
}

quint64 EmbeddedAudit::requestEntries(const AuditFilter& filter) {
    const quint64 request = ++m_next;
    m_worker->post(
        this,
        [filter](LazyStore& w) -> Result<AuditEntries> {
            auto store = w.get();
            if (!store)
                return std::unexpected(store.error());
            store::AuditLog& log = (*store)->audit();
            return collectAudit(
                [&log](qint64 after, int limit) -> Result<QList<AuditRecord>> {
                    auto page = log.list(after, limit);
                    if (!page)
                        return std::unexpected(page.error());
                    QList<AuditRecord> out;
                    out.reserve(page->size());
                    for (const store::AuditEntry& e : *page)
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

quint64 EmbeddedAudit::requestVerify() {
    const quint64 request = ++m_next;
    m_worker->post(
        this,
        [](LazyStore& w) -> Result<AuditCheck> {
            auto store = w.get();
            if (!store)
                return std::unexpected(store.error());
            auto verdict = (*store)->audit().verify();
            if (!verdict)
                return std::unexpected(verdict.error());
            return AuditCheck{verdict->intact, verdict->entries, verdict->firstBadId,
                              verdict->reason};
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
