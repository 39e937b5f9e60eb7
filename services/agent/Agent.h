// The agent's core, independent of gRPC: the boot stage run at every start (trial countdown,
// boot verifier, health check, automatic revert), uploads, install into the inactive slot,
// commit and rollback. All methods are thread-safe; the service layer only translates.
#pragma once

#include "agent/AgentConfig.h"
#include "agent/BootControl.h"
#include "agent/SlotStore.h"
#include "agent/UploadStore.h"
#include "common/Error.h"
#include "crypto/Cms.h"

#include <functional>
#include <memory>
#include <mutex>
#include <optional>

namespace otafleet::agent {

class Telemetry;

enum class InstallPhase { Verifying, Writing, Finalizing, Done };

// What an install does with an installed update (or rollback) that waits for a reboot: refuse
// (agent.reboot-pending), or discard it once the new bundle is verified, in the same boot-state
// store that marks the target slot for writing.
enum class PendingRelease { Keep, Replace };

struct InstallEvent {
    InstallPhase phase;
    qint64 done = 0;
    qint64 total = 0;
    QString version;
    QString slot;
};

struct SlotReport {
    QString name;
    QString state;  // empty|active|inactive|trial|pending|bad
    std::optional<SlotContent> content;
};

struct AgentReport {
    QString activeSlot;
    bool trial = false;
    int triesLeft = 0;
    quint64 storedSecurityVersion = 0;
    QString state;  // idle|receiving|installing|pending-reboot|trial|reverted|error
    bool healthOk = false;
    std::optional<Error> lastError;
    quint64 bootCount = 0;
    QList<SlotReport> slots;
};

[[nodiscard]] QString agentVersion();

// The bundle root plus the configured CRLs ([trust] crl): a bundle or an installed slot signed
// by a revoked release signer is refused. Errors crypto.trust-unreadable, crypto.crl-unreadable.
[[nodiscard]] Result<crypto::TrustStore> bundleTrust(const AgentConfig& config);

class Agent {
public:
    // Loads trust anchors, CRLs and the boot backend; drops stale staged uploads. Errors
    // agent.boot-backend-unavailable, crypto.trust-unreadable, crypto.crl-unreadable.
    [[nodiscard]] static Result<std::unique_ptr<Agent>> create(const AgentConfig& config);
    // Waits for a running install (its thread may have outlived the client's call).
    ~Agent();
    Agent(const Agent&) = delete;
    Agent& operator=(const Agent&) = delete;

    // A simulated boot; see DESIGN.md section 6. Fails only when the boot state is unusable.
    [[nodiscard]] Status bootStage();

    [[nodiscard]] const AgentConfig& config() const { return m_config; }
    [[nodiscard]] AgentReport report() const;
    // The telemetry event queue (DATA/telemetry); usable from any thread.
    [[nodiscard]] Telemetry& telemetry() const { return *m_telemetry; }

    [[nodiscard]] Result<UploadProgress> uploadProgress(const QString& transferId) const;
    [[nodiscard]] Result<UploadProgress> uploadChunk(const QString& transferId, quint64 totalSize,
                                                     quint64 offset, QByteArrayView data);
    void setReceiving(bool receiving);
    // The end of an upload stream (its part file is not synced: UploadStore).
    [[nodiscard]] Status finishUpload(const QString& transferId);
    // The staged bundle file of a transfer (a download checks its SHA-256 before installing).
    [[nodiscard]] QString stagedBundlePath(const QString& transferId) const;
    // Drops a staged transfer that will never be installed (a download whose hash is wrong).
    void discardUpload(const QString& transferId);

    // Verifies the completely received bundle and writes it to the inactive slot for a trial.
    // A trial that runs now is never replaced here (agent.trial-running): it is committed or
    // rolled back with a reboot first, so the committed slot is never the one overwritten. A
    // staged copy whose hash fails only when read back after an agent restart (a power cut can
    // cost its unsynced pages) is discarded with agent.staging-damaged: send it again.
    [[nodiscard]] Status install(const QString& transferId,
                                 const std::function<void(const InstallEvent&)>& progress,
                                 PendingRelease pending = PendingRelease::Keep);
    // Commit and rollback refuse with agent.busy while another operation (an install) runs.
    [[nodiscard]] Status commit();
    [[nodiscard]] Status rollback();

    // Setup: verifies `bundlePath` and makes it the committed firmware of slot A.
    [[nodiscard]] static Status installFactoryImage(const AgentConfig& config,
                                                    const QString& bundlePath);

private:
    Agent(AgentConfig config, std::unique_ptr<BootControl> boot, crypto::TrustStore trust);
    [[nodiscard]] Status settle(BootState& state, int depth);
    [[nodiscard]] bool runHealthCheck(SlotId slot, const SlotContent& content);
    [[nodiscard]] Status installLocked(const QString& transferId,
                                       const std::function<void(const InstallEvent&)>& progress,
                                       PendingRelease pending);
    void setError(const Error& error);
    [[nodiscard]] static std::unexpected<Error> busy();
    // Discards a staged bundle whose bytes changed on the agent's disk: agent.staging-damaged.
    [[nodiscard]] std::unexpected<Error> stagingDamaged(const QString& transferId);

    AgentConfig m_config;
    std::unique_ptr<BootControl> m_boot;
    crypto::TrustStore m_trust;
    // m_trust without CRLs, for the boot verifier: revocation gates installs, not boots.
    crypto::TrustStore m_bootTrust;
    SlotStore m_slots;
    UploadStore m_uploads;
    std::unique_ptr<Telemetry> m_telemetry;

    mutable std::mutex m_mutex;  // guards the fields below
    BootState m_state;
    SlotId m_booted = SlotId::A;
    bool m_bootable = false;
    bool m_healthOk = false;
    bool m_reverted = false;
    bool m_installing = false;
    int m_receiving = 0;
    std::optional<Error> m_lastError;

    std::mutex m_operation;  // one install/commit/rollback at a time
};

}  // namespace otafleet::agent
