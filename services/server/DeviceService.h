// DeviceService over gRPC's callback API: agents that dial out with their device certificate.
// The caller's identity is its certificate: issued by the fleet's device CA (checked with the
// CA's key) with the device id as common name; a decommissioned device is refused. A device is
// online while its Session stream is open; a session silent for three heartbeat intervals is
// cancelled, so a dead link does not keep a device "online". Each open session is registered
// with the RolloutDriver, which queues update offers on it (written one at a time) and receives
// the agent's progress.
#pragma once

#include "common/Error.h"
#include "crypto/Certificate.h"
#include "server/RolloutDriver.h"
#include "server/ServerConfig.h"
#include "server/StoreWorker.h"

#include "otafleet/device/v1/device.grpc.pb.h"

#include <grpcpp/grpcpp.h>

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
    // the device CA did not issue), server.decommissioned.
    [[nodiscard]] Result<QString> identify(const grpc::CallbackServerContext* context);
    // Records an inventory the device `deviceId` sent. Errors server.invalid-*,
    // server.device-mismatch (the inventory names another device).
    [[nodiscard]] Status record(const QString& deviceId, const dpb::Inventory& inventory);

    StoreWorker& store() { return m_store; }
    // Where sessions are registered and progress goes (otafleetd sets it before serving).
    void setRollouts(RolloutDriver* rollouts) { m_rollouts = rollouts; }
    RolloutDriver* rollouts() { return m_rollouts; }

private:
    DeviceService(StoreWorker& store, QList<crypto::Certificate> deviceCas)
        : m_store(store), m_deviceCas(std::move(deviceCas)) {}

    StoreWorker& m_store;
    QList<crypto::Certificate> m_deviceCas;
    RolloutDriver* m_rollouts = nullptr;
};

}  // namespace otafleet::server
