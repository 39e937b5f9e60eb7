// What otafleet-agent answers over SMP (smp/SmpResponder.h), so a factory station or
// `otafleetctl mcu` flashes a Linux-class device with the same protocol as a microcontroller
// (README "SMP on a Linux agent" is the reference for station and firmware authors):
//   image state  slot 0 is the running slot (version, payload SHA-256, active, confirmed unless on
//                trial); slot 1 is a complete uploaded bundle waiting to be installed, else the
//                other slot (pending while an install waits for its trial boot).
//   upload       the bytes are an .otab bundle, staged through the agent's resumable UploadStore
//                (transfer "smp-upload": one staging file, bounded by max_bundle_size), with
//                SMP's off/len/sha: a new upload of the same len and sha resumes where the staged
//                file ends, across agent restarts too.
//   state write  test (confirm false) of the uploaded bundle's hash verifies and installs it
//                through Agent::install, exactly as the gRPC Install does (signature, CRL,
//                security version, hardware; a refusal leaves both slots as they were) and arms
//                the trial boot; confirm of the running image commits it.
//   reset        the agent's normal reboot path (the owner's callback).
//   group 96     identity ({"sn": device id}) and image format ("otab"); no csr/cert: an agent
//                gets its device certificate through its own enrolment (otafleet-agent enroll).
// Refusals carry the agent's stable code and sentence in "rsn".
#pragma once

#include "smp/SmpResponder.h"

#include <QString>

#include <optional>

namespace otafleet::agent {

class Agent;

class AgentSmpBackend final : public smp::DeviceBackend {
public:
    static constexpr int kBufSize = 4096;
    static constexpr int kBufCount = 4;

    explicit AgentSmpBackend(Agent& agent);

    [[nodiscard]] int bufSize() const override { return kBufSize; }
    [[nodiscard]] int bufCount() const override { return kBufCount; }
    [[nodiscard]] smp::DeviceResult<QCborMap> bootloaderInfo(const QString& query) const override;
    [[nodiscard]] QList<smp::image::SlotState> imageStates() const override;
    [[nodiscard]] smp::DeviceResult<QCborMap> upload(const QCborMap& request,
                                                     smp::ReplyActions& actions) override;
    [[nodiscard]] smp::DeviceResult<void> setImageState(const QByteArray& hash,
                                                        bool confirm) override;
    [[nodiscard]] smp::DeviceResult<void> eraseImage() override;
    [[nodiscard]] smp::DeviceResult<QCborMap> identity() const override;
    [[nodiscard]] smp::provision::ImageFormat imageFormat() const override {
        return smp::provision::ImageFormat::Bundle;
    }

private:
    struct Staged {
        QString version;
        QByteArray hash;  // the payload's SHA-256 as installed (what slot 0 reports after boot)
    };
    // A completely uploaded SMP transfer whose container and manifest parse (not yet verified).
    [[nodiscard]] std::optional<Staged> staged() const;
    [[nodiscard]] QByteArray uploadIdentity() const;  // len and sha of the upload under way
    void discardStaged();

    Agent& m_agent;
    QString m_identityPath;  // DATA/smp-upload.id
};

}  // namespace otafleet::agent
