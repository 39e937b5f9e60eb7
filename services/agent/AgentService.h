// AgentService over gRPC's callback API: thin reactors that translate between protobuf and the
// Agent core. Install runs on a worker thread and its progress is written in order by the
// reactor; Reboot answers first and then asks the owner (otafleet-agent's main) to re-execute.
#pragma once

#include "agent/Agent.h"
#include "agent/OperatorCheck.h"

#include "otafleet/agent/v1/agent.grpc.pb.h"

#include <QStringList>

#include <functional>
#include <optional>

namespace otafleet::agent {

class AgentService final : public otafleet::agent::v1::AgentService::CallbackService {
public:
    // `onReboot` runs after the Reboot reply has been sent. `operatorIssuers` are the subjects
    // of the CAs whose certificates may operate this agent (RFC 2253); empty accepts any client
    // certificate that TLS verified.
    // Without `operators` every TLS-verified client is accepted (tests of the core only).
    AgentService(Agent& agent, std::function<void()> onReboot,
                 std::optional<OperatorCheck> operators = std::nullopt);

    grpc::ServerUnaryReactor* GetInfo(grpc::CallbackServerContext* context,
                                      const v1::GetInfoRequest* request,
                                      v1::DeviceInfo* reply) override;
    grpc::ServerUnaryReactor* GetUploadOffset(grpc::CallbackServerContext* context,
                                              const v1::UploadOffsetRequest* request,
                                              v1::UploadStatus* reply) override;
    grpc::ServerReadReactor<v1::UploadChunk>* Upload(grpc::CallbackServerContext* context,
                                                     v1::UploadStatus* reply) override;
    grpc::ServerWriteReactor<v1::InstallProgress>* Install(
        grpc::CallbackServerContext* context, const v1::InstallRequest* request) override;
    grpc::ServerUnaryReactor* Commit(grpc::CallbackServerContext* context,
                                     const v1::CommitRequest* request,
                                     v1::DeviceInfo* reply) override;
    grpc::ServerUnaryReactor* Rollback(grpc::CallbackServerContext* context,
                                       const v1::RollbackRequest* request,
                                       v1::DeviceInfo* reply) override;
    grpc::ServerUnaryReactor* Reboot(grpc::CallbackServerContext* context,
                                     const v1::RebootRequest* request,
                                     v1::RebootReply* reply) override;
    // Telemetry (see Telemetry.h): batches of at most Telemetry::kMaxBatch events.
    grpc::ServerUnaryReactor* GetEvents(grpc::CallbackServerContext* context,
                                        const v1::GetEventsRequest* request,
                                        v1::EventBatch* reply) override;
    grpc::ServerUnaryReactor* AckEvents(grpc::CallbackServerContext* context,
                                        const v1::AckEventsRequest* request,
                                        v1::AckEventsReply* reply) override;

private:
    // TLS lets through any certificate chaining to the root (the root is among the client CAs),
    // so each call also checks that the peer was issued by an operator CA, not, say, the device
    // CA, and is not revoked. Errors agent.not-an-operator, agent.operator-revoked.
    [[nodiscard]] grpc::Status checkOperator(const grpc::CallbackServerContext* context) const;

    Agent& m_agent;
    std::function<void()> m_onReboot;
    std::optional<OperatorCheck> m_operators;
};

// grpc::Status carrying the stable code in error_details and the sentence as message.
[[nodiscard]] grpc::Status toGrpcStatus(const Error& error);
void fillDeviceInfo(const Agent& agent, v1::DeviceInfo* info);

}  // namespace otafleet::agent
