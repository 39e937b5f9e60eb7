#include "AgentClientPrivate.h"
#include "agentclient/AgentVerifier.h"

#include "bundle/Bundle.h"
#include "crypto/Cms.h"
#include "crypto/Sha256.h"

#include <QFile>
#include <QFileInfo>

Q_LOGGING_CATEGORY(lcAgentClient, "otafleet.agentclient")

namespace otafleet::agentclient {
namespace {

QString slotStateName(pb::SlotState s) {
    switch (s) {
        case pb::SLOT_STATE_ACTIVE:
            return QStringLiteral("active");
        case pb::SLOT_STATE_INACTIVE:
            return QStringLiteral("inactive");
        case pb::SLOT_STATE_TRIAL:
            return QStringLiteral("trial");
        case pb::SLOT_STATE_PENDING:
            return QStringLiteral("pending");
        case pb::SLOT_STATE_BAD:
            return QStringLiteral("bad");
        default:
            return QStringLiteral("empty");
    }
}

QString deviceStateName(pb::DeviceState s) {
    switch (s) {
        case pb::DEVICE_STATE_RECEIVING:
            return QStringLiteral("receiving");
        case pb::DEVICE_STATE_INSTALLING:
            return QStringLiteral("installing");
        case pb::DEVICE_STATE_PENDING_REBOOT:
            return QStringLiteral("pending-reboot");
        case pb::DEVICE_STATE_TRIAL:
            return QStringLiteral("trial");
        case pb::DEVICE_STATE_REVERTED:
            return QStringLiteral("reverted");
        case pb::DEVICE_STATE_ERROR:
            return QStringLiteral("error");
        default:
            return QStringLiteral("idle");
    }
}

}  // namespace

AgentInfo detail::toInfo(const pb::DeviceInfo& d) {
    AgentInfo i;
    i.deviceId = qs(d.device_id());
    i.name = qs(d.name());
    i.model = qs(d.model());
    i.hardware = qs(d.hardware());
    i.agentVersion = qs(d.agent_version());
    i.activeSlot = qs(d.active_slot());
    i.trial = d.trial();
    i.triesLeft = d.tries_left();
    i.storedSecurityVersion = d.stored_security_version();
    i.state = deviceStateName(d.state());
    i.healthOk = d.health_ok();
    i.lastErrorCode = qs(d.last_error_code());
    i.lastErrorMessage = qs(d.last_error_message());
    i.bootCount = d.boot_count();
    for (const pb::Slot& s : d.slots()) {
        i.slots << SlotInfo{qs(s.name()),         slotStateName(s.state()), qs(s.version()),
                            s.security_version(), qs(s.payload_sha256()),   s.size()};
    }
    return i;
}

AgentClient::AgentClient() : d(std::make_unique<Impl>()) {}
AgentClient::~AgentClient() = default;

Result<std::unique_ptr<AgentClient>> AgentClient::create(const QString& target,
                                                         const TlsIdentity& identity) {
    if (target.isEmpty() || !target.contains(u':')) {
        return fail(QStringLiteral("link.unreachable"),
                    QStringLiteral("The target '%1' is not HOST:PORT.").arg(target));
    }
    grpc::ChannelArguments args;
    // A rebooting agent is back within a second or two; do not let gRPC's backoff grow to minutes.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    args.SetMaxReceiveMessageSize(4 * 1024 * 1024);
    // Every channel gets its own connection, so reconnect() really leaves a stuck link behind.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    std::unique_ptr<AgentClient> client(new AgentClient());
    client->d->target = target;
    // Accepts the agent's server certificate (naming the target) or its device identity.
    client->d->credentials = agentCredentials(identity, target, client->d->peer);
    client->d->arguments = args;
    client->d->channel =
        grpc::CreateCustomChannel(target.toStdString(), client->d->credentials, args);
    client->d->stub = pb::AgentService::NewStub(client->d->channel);
    return client;
}

void AgentClient::cancel() {
    d->cancelled = true;
    std::lock_guard lock(d->mutex);
    if (d->active)
        d->active->TryCancel();
}

Result<AgentInfo> AgentClient::info() {
    Impl::Call call(*d, kShortCall);
    pb::DeviceInfo reply;
    const grpc::Status status = d->stub->GetInfo(&call.context, pb::GetInfoRequest(), &reply);
    if (!status.ok())
        return fail(d->toError(status));
    return d->checkedInfo(reply);
}

Result<quint64> AgentClient::uploadOffset(const QString& transferId) {
    Impl::Call call(*d, kShortCall);
    pb::UploadOffsetRequest request;
    request.set_transfer_id(transferId.toStdString());
    pb::UploadStatus reply;
    const grpc::Status status = d->stub->GetUploadOffset(&call.context, request, &reply);
    if (!status.ok())
        return fail(d->toError(status));
    return reply.received();
}

Status AgentClient::install(const QString& transferId, const PushProgress& progress,
                            bool replacePending) {
    Impl::Call call(*d, kLongCall);
    pb::InstallRequest request;
    request.set_transfer_id(transferId.toStdString());
    request.set_replace_pending(replacePending);
    std::unique_ptr<grpc::ClientReader<pb::InstallProgress>> reader =
        d->stub->Install(&call.context, request);
    pb::InstallProgress p;
    Error failed;
    while (reader->Read(&p)) {
        if (p.phase() == pb::INSTALL_PHASE_FAILED) {
            failed = Error{qs(p.error_code()), qs(p.error_message())};
            continue;
        }
        const PushPhase phase =
            p.phase() == pb::INSTALL_PHASE_VERIFYING ? PushPhase::Verifying : PushPhase::Writing;
        if (progress)
            progress(phase, qint64(p.done()), qint64(p.total()));
    }
    const grpc::Status status = reader->Finish();
    if (!status.ok())
        return fail(d->toError(status));
    if (!failed.code.isEmpty())
        return fail(failed);
    return {};
}

Result<AgentInfo> AgentClient::commit() {
    Impl::Call call(*d, kShortCall);
    pb::DeviceInfo reply;
    const grpc::Status status = d->stub->Commit(&call.context, pb::CommitRequest(), &reply);
    if (!status.ok())
        return fail(d->toError(status));
    return d->checkedInfo(reply);
}

Result<AgentInfo> AgentClient::rollback(bool reboot, std::chrono::seconds rebootTimeout) {
    quint64 before = 0;
    {
        Impl::Call call(*d, kShortCall);
        pb::RollbackRequest request;
        request.set_reboot(reboot);
        pb::DeviceInfo reply;
        const grpc::Status status = d->stub->Rollback(&call.context, request, &reply);
        if (!status.ok())
            return fail(d->toError(status));
        if (!reboot)
            return d->checkedInfo(reply);
        before = reply.boot_count();
    }
    return d->waitForBoot(before, rebootTimeout);
}

Result<AgentInfo> AgentClient::rebootAndWait(std::chrono::seconds timeout) {
    quint64 before = 0;
    {
        Impl::Call call(*d, kShortCall);
        pb::RebootReply reply;
        const grpc::Status status = d->stub->Reboot(&call.context, pb::RebootRequest(), &reply);
        if (!status.ok())
            return fail(d->toError(status));
        before = reply.boot_count();
    }
    return d->waitForBoot(before, timeout);
}

Result<QString> AgentClient::transferIdFor(const QString& bundlePath) {
    QFile file(bundlePath);
    if (!file.open(QIODevice::ReadOnly)) {
        return fail(QStringLiteral("io.read-failed"),
                    QStringLiteral("Could not read %1 (%2).").arg(bundlePath, file.errorString()));
    }
    const QByteArray header = file.read(bundle::kHeaderSize);
    const auto layout = bundle::parseFrameHeader(header, file.size());
    if (!layout) {
        return fail(layout.error().withContext(QFileInfo(bundlePath).fileName()));
    }
    // What the id covers: the header, the manifest and the signature in force (not the spare
    // copy, which may hold anything).
    QByteArray signedPart = header.first(layout->headerSize());
    if (file.seek(layout->headerSize()))
        signedPart += file.read(layout->manifestSize);
    if (file.seek(layout->signatureOffset(layout->activeCopy)))
        signedPart += file.read(layout->signatureSize);
    if (signedPart.size() != layout->headerSize() + layout->manifestSize + layout->signatureSize) {
        return fail(QStringLiteral("bundle.truncated"),
                    QStringLiteral("%1 ends inside its manifest or signature.").arg(bundlePath));
    }
    // The file size is part of the id: a truncated or padded copy of a bundle never resumes
    // into a transfer of the good one.
    QByteArray identity = signedPart;
    identity += QByteArray::number(file.size());
    return crypto::Sha256::hex(crypto::Sha256::hash(identity)).left(32);
}

}  // namespace otafleet::agentclient
