// ConsoleService over gRPC's callback API. Every handler first identifies the caller (a bearer
// token from Login, or an operator client certificate bound to a user), then checks the action
// against the caller's role (Rbac.h) before it reads the request: a refusal is PERMISSION_DENIED,
// changes nothing and is appended to the audit log as "denied:ACTION". Then the request is
// checked (RequestCheck.h), the store changed on its own thread and the change audited.
#pragma once

#include "common/Error.h"
#include "crypto/Cms.h"
#include "server/FleetDeviceSql.h"
#include "server/Rbac.h"
#include "server/RolloutDriver.h"
#include "server/ServerConfig.h"
#include "server/StoreWorker.h"
#include "server/Tokens.h"

#include "otafleet/console/v1/console.grpc.pb.h"

#include <grpcpp/grpcpp.h>

namespace otafleet::server {

namespace cpb = otafleet::console::v1;

struct Caller {
    QString name;
    store::Role role = store::Role::Viewer;
};

// grpc::Status with the stable code in error_details and the sentence as message; the gRPC code
// follows the otafleet code (server.permission-denied -> PERMISSION_DENIED, server.invalid-* ->
// INVALID_ARGUMENT, server.release-too-large -> RESOURCE_EXHAUSTED, store.not-found ->
// NOT_FOUND, ...).
[[nodiscard]] grpc::Status toGrpcStatus(const Error& error);
[[nodiscard]] grpc::StatusCode grpcCodeFor(const QString& code);

class ConsoleService final : public cpb::ConsoleService::CallbackService {
public:
    ConsoleService(StoreWorker& store, Tokens& tokens, ServerConfig config,
                   crypto::TrustStore releaseTrust);

    grpc::ServerUnaryReactor* Login(grpc::CallbackServerContext* c, const cpb::LoginRequest* r,
                                    cpb::LoginReply* reply) override;
    grpc::ServerUnaryReactor* WhoAmI(grpc::CallbackServerContext* c, const cpb::WhoAmIRequest* r,
                                     cpb::User* reply) override;
    grpc::ServerUnaryReactor* AddUser(grpc::CallbackServerContext* c, const cpb::AddUserRequest* r,
                                      cpb::User* reply) override;
    grpc::ServerUnaryReactor* ListUsers(grpc::CallbackServerContext* c,
                                        const cpb::ListUsersRequest* r,
                                        cpb::UserList* reply) override;
    grpc::ServerUnaryReactor* SetUserRole(grpc::CallbackServerContext* c,
                                          const cpb::SetUserRoleRequest* r,
                                          cpb::User* reply) override;
    grpc::ServerUnaryReactor* DisableUser(grpc::CallbackServerContext* c,
                                          const cpb::DisableUserRequest* r,
                                          cpb::User* reply) override;
    grpc::ServerUnaryReactor* ListAudit(grpc::CallbackServerContext* c,
                                        const cpb::ListAuditRequest* r,
                                        cpb::AuditPage* reply) override;
    grpc::ServerUnaryReactor* VerifyAudit(grpc::CallbackServerContext* c,
                                          const cpb::VerifyAuditRequest* r,
                                          cpb::AuditVerdict* reply) override;
    // ConsoleFleet.cpp
    grpc::ServerUnaryReactor* ListDevices(grpc::CallbackServerContext* c,
                                          const cpb::ListDevicesRequest* r,
                                          cpb::DevicePage* reply) override;
    grpc::ServerUnaryReactor* FleetSummary(grpc::CallbackServerContext* c,
                                           const cpb::FleetSummaryRequest* r,
                                           cpb::FleetSummaryReply* reply) override;
    grpc::ServerUnaryReactor* TagDevice(grpc::CallbackServerContext* c,
                                        const cpb::TagDeviceRequest* r,
                                        cpb::FleetDevice* reply) override;
    grpc::ServerUnaryReactor* UntagDevice(grpc::CallbackServerContext* c,
                                          const cpb::TagDeviceRequest* r,
                                          cpb::FleetDevice* reply) override;
    grpc::ServerUnaryReactor* SetDeviceGroup(grpc::CallbackServerContext* c,
                                             const cpb::SetDeviceGroupRequest* r,
                                             cpb::FleetDevice* reply) override;
    grpc::ServerUnaryReactor* DecommissionDevice(grpc::CallbackServerContext* c,
                                                 const cpb::DecommissionDeviceRequest* r,
                                                 cpb::FleetDevice* reply) override;
    // ConsoleTelemetry.cpp
    grpc::ServerUnaryReactor* TelemetryReport(grpc::CallbackServerContext* c,
                                              const cpb::TelemetryReportRequest* r,
                                              cpb::TelemetryReportReply* reply) override;
    grpc::ServerUnaryReactor* ListAnomalies(grpc::CallbackServerContext* c,
                                            const cpb::ListAnomaliesRequest* r,
                                            cpb::AnomalyList* reply) override;
    // ConsoleReleases.cpp
    grpc::ServerReadReactor<cpb::ReleaseChunk>* UploadRelease(grpc::CallbackServerContext* c,
                                                              cpb::Release* reply) override;
    grpc::ServerUnaryReactor* ListReleases(grpc::CallbackServerContext* c,
                                           const cpb::ListReleasesRequest* r,
                                           cpb::ReleaseList* reply) override;
    grpc::ServerUnaryReactor* InspectRelease(grpc::CallbackServerContext* c,
                                             const cpb::InspectReleaseRequest* r,
                                             cpb::Release* reply) override;
    grpc::ServerUnaryReactor* RevokeRelease(grpc::CallbackServerContext* c,
                                            const cpb::RevokeReleaseRequest* r,
                                            cpb::Release* reply) override;

    // ConsoleRollouts.cpp
    grpc::ServerUnaryReactor* CreateRollout(grpc::CallbackServerContext* c,
                                            const cpb::CreateRolloutRequest* r,
                                            cpb::Rollout* reply) override;
    grpc::ServerUnaryReactor* ApproveRollout(grpc::CallbackServerContext* c,
                                             const cpb::RolloutRequest* r,
                                             cpb::Rollout* reply) override;
    grpc::ServerUnaryReactor* StartRollout(grpc::CallbackServerContext* c,
                                           const cpb::RolloutRequest* r,
                                           cpb::Rollout* reply) override;
    grpc::ServerUnaryReactor* PauseRollout(grpc::CallbackServerContext* c,
                                           const cpb::RolloutRequest* r,
                                           cpb::Rollout* reply) override;
    grpc::ServerUnaryReactor* ResumeRollout(grpc::CallbackServerContext* c,
                                            const cpb::RolloutRequest* r,
                                            cpb::Rollout* reply) override;
    grpc::ServerUnaryReactor* AbortRollout(grpc::CallbackServerContext* c,
                                           const cpb::RolloutRequest* r,
                                           cpb::Rollout* reply) override;
    grpc::ServerUnaryReactor* RetryFailedRollout(grpc::CallbackServerContext* c,
                                                 const cpb::RolloutRequest* r,
                                                 cpb::Rollout* reply) override;
    grpc::ServerUnaryReactor* GetRollout(grpc::CallbackServerContext* c,
                                         const cpb::RolloutRequest* r,
                                         cpb::Rollout* reply) override;
    grpc::ServerUnaryReactor* ListRollouts(grpc::CallbackServerContext* c,
                                           const cpb::ListRolloutsRequest* r,
                                           cpb::RolloutList* reply) override;
    grpc::ServerUnaryReactor* ListRolloutDevices(grpc::CallbackServerContext* c,
                                                 const cpb::ListRolloutDevicesRequest* r,
                                                 cpb::RolloutDevicePage* reply) override;

    // The rollouts the rollout RPCs drive (otafleetd sets it before serving; without one they
    // fail with server.unavailable).
    void setRollouts(RolloutDriver* rollouts) { m_rollouts = rollouts; }

    // Identifies the caller and checks `action`. Errors server.unauthenticated,
    // server.token-invalid, server.user-disabled (audited), server.permission-denied (audited
    // with `subject`).
    [[nodiscard]] Result<Caller> authorize(const grpc::CallbackServerContext* context,
                                           Action action, const QString& subject);
    // Appends to the audit log on the store thread; a failure is logged, never swallowed
    // silently, and returned.
    [[nodiscard]] Status audit(const QString& actor, const QString& subject, const QString& action,
                               const QString& detail);

    StoreWorker& store() { return m_store; }
    const ServerConfig& config() const { return m_config; }
    const crypto::TrustStore& releaseTrust() const { return m_releaseTrust; }

private:
    [[nodiscard]] Result<Caller> identify(const grpc::CallbackServerContext* context);
    grpc::ServerUnaryReactor* rolloutCommand(grpc::CallbackServerContext* c,
                                             const cpb::RolloutRequest* r, cpb::Rollout* reply,
                                             Action action, RolloutCommand command);

    StoreWorker& m_store;
    Tokens& m_tokens;
    ServerConfig m_config;
    crypto::TrustStore m_releaseTrust;
    RolloutDriver* m_rollouts = nullptr;
    // ListDevices' paging (what an inexact filter matched); used in store jobs only, which run
    // one at a time on the store's thread.
    std::shared_ptr<fleet::DevicePager> m_pager = std::make_shared<fleet::DevicePager>();
};

// Ends a unary call with `result`'s status (OK on success).
grpc::ServerUnaryReactor* finishUnary(grpc::CallbackServerContext* context, const Status& result);

}  // namespace otafleet::server
