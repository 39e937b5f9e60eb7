// Blocking client of an otafleet-agent's AgentService over gRPC/TLS with an operator identity.
// Used by otafleetctl directly and by the LAN transport plugin from a worker thread; it never
// touches Qt GUI objects. Every call has a deadline; cancel() may be called from any thread.
//
// Errors the agent reports travel as grpc::Status with the stable code in error_details() and
// the sentence in error_message(); this client returns them unchanged. Its own errors:
// link.unreachable, link.tls-rejected, link.timeout, link.cancelled, link.protocol.
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>

namespace otafleet::agentclient {

struct TlsIdentity {
    QByteArray rootCaPem;     // verifies the agent's server certificate (fleet root)
    QByteArray certChainPem;  // operator certificate + operator CA
    QByteArray privateKeyPem;

    // From a PKI directory made by `otafleetctl pki init` (root-ca.pem, operator.pem/.key).
    [[nodiscard]] static Result<TlsIdentity> fromPkiDirectory(const QString& pkiDir);
    [[nodiscard]] static Result<TlsIdentity> fromFiles(const QString& caPath,
                                                       const QString& certPath,
                                                       const QString& keyPath);
};

struct SlotInfo {
    QString name;   // "A" / "B"
    QString state;  // empty|active|inactive|trial|pending|bad
    QString version;
    quint64 securityVersion = 0;
    QString sha256;
    quint64 size = 0;
};

struct AgentInfo {
    QString deviceId, name, model, hardware, agentVersion;
    QString activeSlot;
    bool trial = false;
    quint32 triesLeft = 0;
    quint64 storedSecurityVersion = 0;
    QList<SlotInfo> slots;
    QString state;  // idle|receiving|installing|pending-reboot|trial|reverted|error
    bool healthOk = false;
    QString lastErrorCode, lastErrorMessage;
    quint64 bootCount = 0;

    [[nodiscard]] QJsonObject toJson() const;  // keys as in `device info --json`
    [[nodiscard]] const SlotInfo* slot(const QString& slotName) const;
    [[nodiscard]] QString activeVersion() const;
};

enum class PushPhase { Uploading, Verifying, Writing, Rebooting, HealthCheck, Committing, Done };
[[nodiscard]] QString phaseName(PushPhase phase);

inline constexpr std::chrono::seconds kDefaultRebootTimeout{60};

struct PushOptions {
    bool reboot = true;  // false: stop after install (`--no-reboot`)
    bool commit = true;  // false: stop after the trial boot's health check (`--no-commit`)
    qint64 chunkSize = 256 * 1024;
    std::chrono::seconds rebootTimeout = kDefaultRebootTimeout;
};

using PushProgress = std::function<void(PushPhase phase, qint64 done, qint64 total)>;

class AgentClient {
public:
    ~AgentClient();
    AgentClient(const AgentClient&) = delete;
    AgentClient& operator=(const AgentClient&) = delete;

    // `target` is HOST:PORT. Connects lazily; the first call reports unreachability.
    [[nodiscard]] static Result<std::unique_ptr<AgentClient>> create(const QString& target,
                                                                     const TlsIdentity& identity);

    [[nodiscard]] Result<AgentInfo> info();
    [[nodiscard]] Result<quint64> uploadOffset(const QString& transferId);
    // Uploads the bundle from the agent's received offset on; progress(done, total).
    [[nodiscard]] Status upload(const QString& bundlePath, const QString& transferId,
                                qint64 chunkSize,
                                const std::function<void(qint64, qint64)>& progress);
    [[nodiscard]] Status install(const QString& transferId, const PushProgress& progress);
    [[nodiscard]] Result<AgentInfo> commit();
    // With `reboot`, waits (up to rebootTimeout) until the device runs the other slot.
    [[nodiscard]] Result<AgentInfo> rollback(
        bool reboot, std::chrono::seconds rebootTimeout = kDefaultRebootTimeout);
    // Asks for a reboot and waits until the agent answers again with a higher boot count.
    [[nodiscard]] Result<AgentInfo> rebootAndWait(std::chrono::seconds timeout);

    // The whole path: upload (resuming), install, reboot, health check, commit, as options say.
    // Succeeds only when the device reached the requested end state.
    [[nodiscard]] Result<AgentInfo> push(const QString& bundlePath, const PushOptions& options,
                                         const PushProgress& progress);

    // Thread-safe; the running call returns link.cancelled soon after.
    void cancel();

    // Transfer id for a bundle: derived from its signed header so a re-signed bundle differs.
    [[nodiscard]] static Result<QString> transferIdFor(const QString& bundlePath);

private:
    AgentClient();
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace otafleet::agentclient
