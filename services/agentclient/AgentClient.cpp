#include "agentclient/AgentClient.h"

#include "bundle/Bundle.h"
#include "crypto/Cms.h"
#include "crypto/Sha256.h"

#include "otafleet/agent/v1/agent.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <QFile>
#include <QLoggingCategory>
#include <QtEndian>

#include <mutex>
#include <thread>

Q_LOGGING_CATEGORY(lcAgentClient, "otafleet.agentclient")

namespace otafleet::agentclient {
namespace {

namespace pb = otafleet::agent::v1;
using namespace std::chrono_literals;

constexpr auto kShortCall = 15s;
constexpr auto kLongCall = 30min;  // uploads and installs of large bundles
constexpr qint64 kMaxChunk = 1024 * 1024;

QString qs(const std::string& s) {
    return QString::fromStdString(s);
}

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

AgentInfo toInfo(const pb::DeviceInfo& d) {
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

}  // namespace

struct AgentClient::Impl {
    QString target;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<pb::AgentService::Stub> stub;
    std::shared_ptr<grpc::ChannelCredentials> credentials;
    grpc::ChannelArguments arguments;
    std::atomic<bool> cancelled{false};
    std::mutex mutex;
    grpc::ClientContext* active = nullptr;

    // One context per call, registered so cancel() can reach it from another thread.
    struct Call {
        Impl& impl;
        grpc::ClientContext context;
        Call(Impl& i, std::chrono::system_clock::duration timeout) : impl(i) {
            context.set_deadline(std::chrono::system_clock::now() + timeout);
            std::lock_guard lock(impl.mutex);
            impl.active = &context;
            if (impl.cancelled)
                context.TryCancel();
        }
        ~Call() {
            std::lock_guard lock(impl.mutex);
            impl.active = nullptr;
        }
    };

    Error toError(const grpc::Status& status) const {
        const QString details = qs(status.error_details());
        const QString message = qs(status.error_message());
        if (!details.isEmpty() && details.contains(u'.') && !details.contains(u' ')) {
            return Error{details, message};
        }
        if (cancelled || status.error_code() == grpc::StatusCode::CANCELLED) {
            return Error{QStringLiteral("link.cancelled"),
                         QStringLiteral("The operation on %1 was cancelled.").arg(target)};
        }
        switch (status.error_code()) {
            case grpc::StatusCode::DEADLINE_EXCEEDED:
                return Error{QStringLiteral("link.timeout"),
                             QStringLiteral("The agent at %1 did not answer in time; check that it "
                                            "runs and the network is up.")
                                 .arg(target)};
            case grpc::StatusCode::UNAUTHENTICATED:
                return Error{
                    QStringLiteral("link.tls-rejected"),
                    QStringLiteral("The agent at %1 refused the TLS connection (%2); check "
                                   "the operator certificate and the fleet CA.")
                        .arg(target, message)};
            case grpc::StatusCode::UNAVAILABLE:
                if (message.contains(QLatin1String("andshake")) ||
                    message.contains(QLatin1String("SSL")) ||
                    message.contains(QLatin1String("ssl"))) {
                    return Error{QStringLiteral("link.tls-rejected"),
                                 QStringLiteral("TLS with %1 failed (%2); check that the agent's "
                                                "certificate comes from this fleet's CA and names "
                                                "this address.")
                                     .arg(target, message)};
                }
                return Error{QStringLiteral("link.unreachable"),
                             QStringLiteral("Cannot reach the agent at %1 (%2); check the address "
                                            "and that the agent runs.")
                                 .arg(target, message)};
            default:
                return Error{
                    QStringLiteral("link.protocol"),
                    QStringLiteral("The agent at %1 answered with an unexpected error (%2).")
                        .arg(target, message)};
        }
    }

    // Polls GetInfo until the agent is back with a higher boot count.
    Result<AgentInfo> waitForBoot(quint64 bootCountBefore, std::chrono::seconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        Error last{QStringLiteral("link.timeout"), QString()};
        while (std::chrono::steady_clock::now() < deadline) {
            if (cancelled) {
                return fail(QStringLiteral("link.cancelled"),
                            QStringLiteral("Waiting for the reboot was cancelled."));
            }
            std::this_thread::sleep_for(200ms);
            // A fresh channel per attempt: the old one may hold a connection attempt to the
            // process that just went away, which would only time out.
            auto freshChannel =
                grpc::CreateCustomChannel(target.toStdString(), credentials, arguments);
            auto freshStub = pb::AgentService::NewStub(freshChannel);
            Impl::Call call(*this, 2s);
            pb::DeviceInfo reply;
            const grpc::Status status =
                freshStub->GetInfo(&call.context, pb::GetInfoRequest(), &reply);
            if (status.ok() && reply.boot_count() > bootCountBefore) {
                channel = std::move(freshChannel);
                stub = std::move(freshStub);
                return toInfo(reply);
            }
            if (!status.ok())
                last = toError(status);
        }
        return fail(QStringLiteral("link.timeout"),
                    QStringLiteral("The agent at %1 did not come back within %2 s after the reboot "
                                   "(%3).")
                        .arg(target)
                        .arg(timeout.count())
                        .arg(last.message));
    }
};

AgentClient::AgentClient() : d(std::make_unique<Impl>()) {}
AgentClient::~AgentClient() = default;

Result<std::unique_ptr<AgentClient>> AgentClient::create(const QString& target,
                                                         const TlsIdentity& identity) {
    if (target.isEmpty() || !target.contains(u':')) {
        return fail(QStringLiteral("link.unreachable"),
                    QStringLiteral("The target '%1' is not HOST:PORT.").arg(target));
    }
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = identity.rootCaPem.toStdString();
    tls.pem_cert_chain = identity.certChainPem.toStdString();
    tls.pem_private_key = identity.privateKeyPem.toStdString();
    grpc::ChannelArguments args;
    // A rebooting agent is back within a second or two; do not let gRPC's backoff grow to minutes.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    args.SetMaxReceiveMessageSize(4 * 1024 * 1024);
    std::unique_ptr<AgentClient> client(new AgentClient());
    client->d->target = target;
    client->d->credentials = grpc::SslCredentials(tls);
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
    return toInfo(reply);
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

Status AgentClient::upload(const QString& bundlePath, const QString& transferId, qint64 chunkSize,
                           const std::function<void(qint64, qint64)>& progress) {
    chunkSize = std::clamp<qint64>(chunkSize, 1, kMaxChunk);
    QFile file(bundlePath);
    if (!file.open(QIODevice::ReadOnly)) {
        return fail(QStringLiteral("io.read-failed"),
                    QStringLiteral("Could not read %1 (%2).").arg(bundlePath, file.errorString()));
    }
    const qint64 total = file.size();
    auto offset = uploadOffset(transferId);
    if (!offset)
        return fail(offset.error());
    qint64 position = qint64(*offset);
    if (position > total) {
        return fail(QStringLiteral("link.protocol"),
                    QStringLiteral("The agent holds %1 bytes of a %2-byte bundle; the transfer id "
                                   "belongs to another file.")
                        .arg(position)
                        .arg(total));
    }
    if (progress)
        progress(position, total);
    if (position == total && total > 0)
        return {};
    if (!file.seek(position)) {
        return fail(QStringLiteral("io.read-failed"),
                    QStringLiteral("Could not seek in %1.").arg(bundlePath));
    }
    Impl::Call call(*d, kLongCall);
    pb::UploadStatus reply;
    std::unique_ptr<grpc::ClientWriter<pb::UploadChunk>> writer =
        d->stub->Upload(&call.context, &reply);
    pb::UploadChunk chunk;
    bool first = true;
    while (position < total) {
        if (d->cancelled)
            break;
        const QByteArray data = file.read(chunkSize);
        if (data.isEmpty()) {
            return fail(
                QStringLiteral("io.read-failed"),
                QStringLiteral("Could not read %1 at offset %2.").arg(bundlePath).arg(position));
        }
        chunk.Clear();
        chunk.set_transfer_id(transferId.toStdString());
        if (first)
            chunk.set_total_size(quint64(total));
        chunk.set_offset(quint64(position));
        chunk.set_data(data.constData(), size_t(data.size()));
        first = false;
        if (!writer->Write(chunk))
            break;  // the agent ended the call; Finish says why
        position += data.size();
        if (progress)
            progress(position, total);
    }
    writer->WritesDone();
    const grpc::Status status = writer->Finish();
    if (!status.ok())
        return fail(d->toError(status));
    if (d->cancelled) {
        return fail(QStringLiteral("link.cancelled"), QStringLiteral("The upload was cancelled."));
    }
    if (qint64(reply.received()) != total) {
        return fail(QStringLiteral("link.protocol"),
                    QStringLiteral("The agent confirmed %1 of %2 bytes; upload again to resume.")
                        .arg(reply.received())
                        .arg(total));
    }
    return {};
}

Status AgentClient::install(const QString& transferId, const PushProgress& progress) {
    Impl::Call call(*d, kLongCall);
    pb::InstallRequest request;
    request.set_transfer_id(transferId.toStdString());
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
    return toInfo(reply);
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
            return toInfo(reply);
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

Result<AgentInfo> AgentClient::push(const QString& bundlePath, const PushOptions& options,
                                    const PushProgress& progress) {
    auto id = transferIdFor(bundlePath);
    if (!id)
        return fail(id.error());
    auto reader = bundle::BundleReader::open(bundlePath);
    if (!reader)
        return fail(reader.error());
    const QString version = reader->manifest().version.toString();

    const auto uploadProgress = [&](qint64 done, qint64 total) {
        if (progress)
            progress(PushPhase::Uploading, done, total);
    };
    Status uploaded = upload(bundlePath, *id, options.chunkSize, uploadProgress);
    if (!uploaded && uploaded.error().code == u"link.unreachable" && !d->cancelled) {
        qCInfo(lcAgentClient) << "upload interrupted; resuming once";
        std::this_thread::sleep_for(500ms);
        uploaded = upload(bundlePath, *id, options.chunkSize, uploadProgress);
    }
    if (!uploaded)
        return fail(uploaded.error());
    if (auto ok = install(*id, progress); !ok)
        return fail(ok.error());
    if (!options.reboot)
        return info();

    if (progress)
        progress(PushPhase::Rebooting, 0, 0);
    auto booted = rebootAndWait(options.rebootTimeout);
    if (!booted)
        return booted;
    if (progress)
        progress(PushPhase::HealthCheck, 0, 0);
    if (!booted->trial || !booted->healthOk) {
        if (!booted->lastErrorCode.isEmpty()) {
            return fail(booted->lastErrorCode, booted->lastErrorMessage);
        }
        return fail(QStringLiteral("agent.trial-not-started"),
                    QStringLiteral("After the reboot the device runs slot %1 without a healthy "
                                   "trial of version %2.")
                        .arg(booted->activeSlot, version));
    }
    if (!options.commit)
        return booted;
    if (progress)
        progress(PushPhase::Committing, 0, 0);
    auto committed = commit();
    if (!committed)
        return committed;
    if (committed->activeVersion() != version || committed->trial) {
        return fail(QStringLiteral("agent.commit-mismatch"),
                    QStringLiteral("After the commit the device runs version %1, not %2.")
                        .arg(committed->activeVersion(), version));
    }
    if (progress)
        progress(PushPhase::Done, 1, 1);
    return committed;
}

Result<QString> AgentClient::transferIdFor(const QString& bundlePath) {
    QFile file(bundlePath);
    if (!file.open(QIODevice::ReadOnly)) {
        return fail(QStringLiteral("io.read-failed"),
                    QStringLiteral("Could not read %1 (%2).").arg(bundlePath, file.errorString()));
    }
    const QByteArray header = file.read(bundle::kHeaderSize);
    if (header.size() != bundle::kHeaderSize || !header.startsWith(bundle::kMagic)) {
        return fail(QStringLiteral("bundle.not-a-bundle"),
                    QStringLiteral("%1 is not an otafleet bundle.").arg(bundlePath));
    }
    const quint32 manifestSize = qFromBigEndian<quint32>(header.constData() + 12);
    const quint32 signatureSize = qFromBigEndian<quint32>(header.constData() + 16);
    if (manifestSize > quint32(bundle::Manifest::kMaxSize) ||
        signatureSize > quint32(crypto::kMaxSignatureSize)) {
        return fail(QStringLiteral("bundle.not-a-bundle"),
                    QStringLiteral("%1 has an impossible header.").arg(bundlePath));
    }
    const QByteArray signedPart = header + file.read(qint64(manifestSize) + signatureSize);
    if (signedPart.size() != bundle::kHeaderSize + qint64(manifestSize) + signatureSize) {
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
