// DeviceService over gRPC's callback API: agents that dial out with their device certificate.
// The caller's identity is its certificate: issued by the fleet's device CA (checked with the
// CA's key) with the device id as common name; a decommissioned device is refused. A device is
// online while its Session stream is open; a session silent for three heartbeat intervals is
// cancelled, so a dead link does not keep a device "online". Each open session is registered
// with the RolloutDriver, which queues update offers on it (written one at a time) and receives
// the agent's progress.
//
// Download serves only a release that a rollout offered to the calling device and that is still
// its open offer (RolloutDriver::mayDownload: offered and unfinished, rollout not aborted, release
// not revoked); anything else is refused with PERMISSION_DENIED, code server.not-offered, and an
// audit entry (device.download-refused). No handler waits on the store except for the checks
// that decide whether a call may proceed at all (identity, the release's file): session state,
// inventory, telemetry and audit entries are written by the StoreWorker later, in batches.
//
// Overload: while the store is [limits] busy_backlog writes behind (default 20,000), new sessions
// and inventory reports are turned away with RESOURCE_EXHAUSTED (code server.busy) and a retry hint
// in the trailing metadata key "retry-after-ms", which the agents' backoff honours.
#pragma once

#include "common/Error.h"
#include "crypto/Certificate.h"
#include "server/RolloutDriver.h"
#include "server/ServerConfig.h"
#include "server/StoreWorker.h"

#include "otafleet/device/v1/device.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <optional>
#include <string_view>

namespace otafleet::server {

namespace dpb = otafleet::device::v1;

class DeviceService final : public dpb::DeviceService::CallbackService {
public:
    static constexpr int kHeartbeatSeconds = 30;

    // Error server.config-invalid when `deviceCaPath` holds no CA certificate.
    [[nodiscard]] static Result<std::unique_ptr<DeviceService>> create(StoreWorker& store,
                                                                       const ServerConfig& config);

    grpc::ServerUnaryReactor* ReportInventory(grpc::CallbackServerContext* c,
                                              const dpb::Inventory* r,
                                              dpb::InventoryAck* reply) override;
    grpc::ServerBidiReactor<dpb::AgentMessage, dpb::ServerMessage>* Session(
        grpc::CallbackServerContext* c) override;
    grpc::ServerWriteReactor<dpb::DownloadChunk>* Download(grpc::CallbackServerContext* c,
                                                           const dpb::DownloadRequest* r) override;

    // The device id of the peer's certificate. Errors server.not-a-device (no certificate, or one
    // the device CA did not issue), server.decommissioned (read from the store unless
    // `checkStore` is false: Session checks that on the store's thread instead).
    [[nodiscard]] Result<QString> identify(const grpc::CallbackServerContext* context,
                                           bool checkStore = true);
    [[nodiscard]] static Error decommissioned(const QString& deviceId);
    // Checks an inventory the device `deviceId` sent and has the store record it (a job on the
    // store's thread: the caller does not wait). Errors server.invalid-*, server.device-mismatch
    // (the inventory names another device).
    [[nodiscard]] Status recordLater(const QString& deviceId, const dpb::Inventory& inventory);
    // Appends an audit entry with the device as actor and subject, on the store's thread.
    void auditLater(const QString& deviceId, const QString& action, const QString& detail);

    StoreWorker& store() { return m_store; }
    // server.busy (with the retry hint set on `context`) while the store is far behind.
    [[nodiscard]] std::optional<Error> busy(grpc::CallbackServerContext* context) const;
    static constexpr std::string_view kRetryAfterKey = "retry-after-ms";
    // Where sessions are registered and progress goes (otafleetd sets it before serving).
    void setRollouts(RolloutDriver* rollouts) { m_rollouts = rollouts; }
    RolloutDriver* rollouts() { return m_rollouts; }

private:
    DeviceService(StoreWorker& store, QList<crypto::Certificate> deviceCas, qint64 busyBacklog)
        : m_store(store), m_deviceCas(std::move(deviceCas)), m_busyBacklog(busyBacklog) {}

    StoreWorker& m_store;
    QList<crypto::Certificate> m_deviceCas;
    qint64 m_busyBacklog;
    RolloutDriver* m_rollouts = nullptr;
};

}  // namespace otafleet::server
