// ConsoleService: staged rollouts (create, approve, start, pause, resume, abort, retry-failed,
// status, list, the devices of one), run by the RolloutDriver. Every change is audited with the
// rollout as subject; an approval the engine refuses (its own author approving a production
// rollout) is audited as a refusal too.
#include "server/ConsoleService.h"

#include "server/RequestCheck.h"

namespace otafleet::server {
namespace {

QString rolloutSubject(qint64 id) {
    return QStringLiteral("rollout:%1").arg(id);
}

std::unexpected<Error> unavailable() {
    return fail(QStringLiteral("server.unavailable"),
                QStringLiteral("This server runs no rollouts; restart otafleetd."));
}

}  // namespace

grpc::ServerUnaryReactor* ConsoleService::CreateRollout(grpc::CallbackServerContext* c,
                                                        const cpb::CreateRolloutRequest* r,
                                                        cpb::Rollout* reply) {
    const QString releaseSubject =
        QStringLiteral("release:%1").arg(QString::fromStdString(r->release_id().substr(0, 64)));
    auto caller = authorize(c, Action::RolloutCreate, releaseSubject);
    if (!caller)
        return finishUnary(c, fail(caller.error()));
    auto options = checkRequest(*r);
    if (!options)
        return finishUnary(c, fail(options.error()));
    if (!m_rollouts)
        return finishUnary(c, unavailable());
    auto created = m_rollouts->createRollout(caller->name, QString::fromStdString(r->release_id()),
                                             QString::fromStdString(r->target()), *options);
    if (!created)
        return finishUnary(c, fail(created.error()));
    *reply = *created;
    return finishUnary(
        c, audit(caller->name, rolloutSubject(created->id()), QStringLiteral("rollout.create"),
                 QStringLiteral("release %1 target '%2' %3 devices: %4")
                     .arg(QString::fromStdString(r->release_id()).left(16),
                          QString::fromStdString(r->target()))
                     .arg(created->total())
                     .arg(QString::fromStdString(created->plan_summary()))));
}

grpc::ServerUnaryReactor* ConsoleService::rolloutCommand(grpc::CallbackServerContext* c,
                                                         const cpb::RolloutRequest* r,
                                                         cpb::Rollout* reply, Action action,
                                                         RolloutCommand command) {
    const QString subject = rolloutSubject(r->id());
    auto caller = authorize(c, action, subject);
    if (!caller)
        return finishUnary(c, fail(caller.error()));
    if (auto ok = checkRequest(*r); !ok)
        return finishUnary(c, ok);
    if (!m_rollouts)
        return finishUnary(c, unavailable());
    auto done = m_rollouts->command(r->id(), command, caller->name);
    if (!done) {
        if (done.error().code == u"rollout.self-approval") {
            (void)audit(caller->name, subject, QStringLiteral("denied:%1").arg(actionName(action)),
                        QStringLiteral("the author may not approve a production rollout"));
        }
        return finishUnary(c, fail(done.error()));
    }
    *reply = *done;
    QString detail = QStringLiteral("now %1").arg(QString::fromStdString(done->state()));
    if (!done->pause_reason().empty())
        detail += QStringLiteral(": ") + QString::fromStdString(done->pause_reason());
    return finishUnary(c, audit(caller->name, subject, actionName(action), detail));
}

grpc::ServerUnaryReactor* ConsoleService::ApproveRollout(grpc::CallbackServerContext* c,
                                                         const cpb::RolloutRequest* r,
                                                         cpb::Rollout* reply) {
    return rolloutCommand(c, r, reply, Action::RolloutApprove, RolloutCommand::Approve);
}

grpc::ServerUnaryReactor* ConsoleService::StartRollout(grpc::CallbackServerContext* c,
                                                       const cpb::RolloutRequest* r,
                                                       cpb::Rollout* reply) {
    return rolloutCommand(c, r, reply, Action::RolloutStart, RolloutCommand::Start);
}

grpc::ServerUnaryReactor* ConsoleService::PauseRollout(grpc::CallbackServerContext* c,
                                                       const cpb::RolloutRequest* r,
                                                       cpb::Rollout* reply) {
    return rolloutCommand(c, r, reply, Action::RolloutPause, RolloutCommand::Pause);
}

grpc::ServerUnaryReactor* ConsoleService::ResumeRollout(grpc::CallbackServerContext* c,
                                                        const cpb::RolloutRequest* r,
                                                        cpb::Rollout* reply) {
    return rolloutCommand(c, r, reply, Action::RolloutResume, RolloutCommand::Resume);
}

grpc::ServerUnaryReactor* ConsoleService::AbortRollout(grpc::CallbackServerContext* c,
                                                       const cpb::RolloutRequest* r,
                                                       cpb::Rollout* reply) {
    return rolloutCommand(c, r, reply, Action::RolloutAbort, RolloutCommand::Abort);
}

grpc::ServerUnaryReactor* ConsoleService::RetryFailedRollout(grpc::CallbackServerContext* c,
                                                             const cpb::RolloutRequest* r,
                                                             cpb::Rollout* reply) {
    return rolloutCommand(c, r, reply, Action::RolloutRetryFailed, RolloutCommand::RetryFailed);
}

grpc::ServerUnaryReactor* ConsoleService::GetRollout(grpc::CallbackServerContext* c,
                                                     const cpb::RolloutRequest* r,
                                                     cpb::Rollout* reply) {
    auto caller = authorize(c, Action::RolloutStatus, rolloutSubject(r->id()));
    if (!caller)
        return finishUnary(c, fail(caller.error()));
    if (auto ok = checkRequest(*r); !ok)
        return finishUnary(c, ok);
    if (!m_rollouts)
        return finishUnary(c, unavailable());
    auto rollout = m_rollouts->get(r->id());
    if (!rollout)
        return finishUnary(c, fail(rollout.error()));
    *reply = *rollout;
    return finishUnary(c, {});
}

grpc::ServerUnaryReactor* ConsoleService::ListRollouts(grpc::CallbackServerContext* c,
                                                       const cpb::ListRolloutsRequest* r,
                                                       cpb::RolloutList* reply) {
    auto caller = authorize(c, Action::RolloutList, QStringLiteral("rollouts"));
    if (!caller)
        return finishUnary(c, fail(caller.error()));
    auto paging = checkRequest(*r);
    if (!paging)
        return finishUnary(c, fail(paging.error()));
    if (!m_rollouts)
        return finishUnary(c, unavailable());
    qint64 total = 0;
    for (const cpb::Rollout& rollout : m_rollouts->list(paging->page, paging->pageSize, &total))
        *reply->add_rollouts() = rollout;
    reply->set_total(quint64(total));
    return finishUnary(c, {});
}

grpc::ServerUnaryReactor* ConsoleService::ListRolloutDevices(
    grpc::CallbackServerContext* c, const cpb::ListRolloutDevicesRequest* r,
    cpb::RolloutDevicePage* reply) {
    auto caller = authorize(c, Action::RolloutStatus, rolloutSubject(r->id()));
    if (!caller)
        return finishUnary(c, fail(caller.error()));
    auto paging = checkRequest(*r);
    if (!paging)
        return finishUnary(c, fail(paging.error()));
    if (!m_rollouts)
        return finishUnary(c, unavailable());
    // The driver knows which rollouts exist (server.unknown-rollout); the rows are the ones it
    // writes after every change, read a page at a time.
    auto rollout = m_rollouts->get(r->id());
    if (!rollout)
        return finishUnary(c, fail(rollout.error()));
    return finishUnary(c, m_store.run([&](store::FleetStore& s) -> Status {
        auto rows = s.rollouts().devicesPage(r->id(), qint64(paging->page) * paging->pageSize,
                                             paging->pageSize);
        if (!rows)
            return fail(rows.error());
        auto total = s.rollouts().deviceCount(r->id());
        if (!total)
            return fail(total.error());
        for (const store::RolloutDeviceRow& row : *rows) {
            cpb::RolloutDevice* d = reply->add_devices();
            d->set_device_id(row.deviceId.toStdString());
            d->set_state(row.state.toStdString());
            d->set_wave(quint32(std::max(0, row.wave + 1)));
            d->set_attempts(quint32(std::max(0, row.attempts)));
            d->set_reason(row.reason.toStdString());
        }
        reply->set_total(quint64(*total));
        return {};
    }));
}

}  // namespace otafleet::server
