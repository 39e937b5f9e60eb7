// Internals shared by the agent client's translation units (AgentClient.cpp, Upload.cpp): the
// channel, the registered call context that cancel() reaches, and gRPC status to Error mapping.
#pragma once

#include "agentclient/AgentClient.h"
#include "agentclient/AgentVerifier.h"

#include "otafleet/agent/v1/agent.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <QLoggingCategory>

#include <mutex>
#include <thread>

Q_DECLARE_LOGGING_CATEGORY(lcAgentClient)

namespace otafleet::agentclient {
namespace detail {

namespace pb = otafleet::agent::v1;
using namespace std::chrono_literals;

inline constexpr auto kShortCall = 15s;
inline constexpr auto kLongCall = 30min;  // uploads and installs of large bundles
inline constexpr qint64 kMaxChunk = 1024 * 1024;
inline constexpr int kMaxWindow = 64;

inline QString qs(const std::string& s) {
    return QString::fromStdString(s);
}

[[nodiscard]] AgentInfo toInfo(const pb::DeviceInfo& d);

}  // namespace detail

using namespace detail;

struct AgentClient::Impl {
    QString target;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<pb::AgentService::Stub> stub;
    std::shared_ptr<grpc::ChannelCredentials> credentials;
    std::shared_ptr<PeerIdentity> peer = std::make_shared<PeerIdentity>();
    grpc::ChannelArguments arguments;
    std::atomic<bool> cancelled{false};
    std::mutex mutex;
    grpc::ClientContext* active = nullptr;
    PushStats stats;  // of the last uploadResuming()

    // A new channel, hence a new TCP connection (channels do not share subchannels, see
    // create()): after an interruption the old one may be stuck on a dead or stalled link.
    void reconnect() {
        channel = grpc::CreateCustomChannel(target.toStdString(), credentials, arguments);
        stub = pb::AgentService::NewStub(channel);
    }

    // One stream of chunks from `position` on, at most `window` of them unconfirmed (see
    // Upload.cpp).
    [[nodiscard]] Status streamUpload(QIODevice& file, const QString& transferId, qint64 total,
                                      qint64 position, qint64 chunkSize, int window,
                                      std::chrono::milliseconds chunkDeadline,
                                      std::chrono::steady_clock::time_point giveUpAt,
                                      const std::function<void(qint64, qint64)>& progress,
                                      qint64& handedOver);
    class Confirmer;  // asks for the agent's offset while chunks are in flight (Upload.cpp)
    // uploadResuming() without resetting `stats`: push() counts its state probe in them.
    [[nodiscard]] Status resumeUpload(const QString& bundlePath, const QString& transferId,
                                      const PushOptions& options,
                                      const std::function<void(qint64, qint64)>& progress);
    // GetUploadOffset within `timeout` (a connection attempt of a resuming upload).
    [[nodiscard]] Result<quint64> offsetWithin(const QString& transferId,
                                               std::chrono::steady_clock::duration timeout);
    // The reply as AgentInfo, once the device id it reports matches the one its certificate
    // names (an enrolled agent): a device that claims another's id is refused.
    [[nodiscard]] Result<AgentInfo> checkedInfo(const pb::DeviceInfo& reply) const {
        const QString presented = peer->deviceId();
        const QString claimed = QString::fromStdString(reply.device_id());
        if (!presented.isEmpty() && presented != claimed) {
            return fail(QStringLiteral("link.agent-identity-mismatch"),
                        QStringLiteral("The agent at %1 presents the certificate of device %2 but "
                                       "calls itself %3: it is not the device it claims to be. Do "
                                       "not update it; check the address and the device.")
                            .arg(target, presented, claimed));
        }
        return toInfo(reply);
    }

    [[nodiscard]] Error stalled(std::chrono::milliseconds chunkDeadline) const;
    [[nodiscard]] Error outOfTime() const;

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
        if (auto rejected = verifierError(message)) {  // AgentVerifier.h: the agent's certificate
            return *rejected;
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
                return checkedInfo(reply);
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

}  // namespace otafleet::agentclient
