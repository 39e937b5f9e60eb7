// Blocking client of an otafleet-agent's AgentService over gRPC/TLS with an operator identity.
// Used by otafleetctl directly and by the LAN transport plugin from a worker thread; it never
// touches Qt GUI objects. Every call has a deadline; cancel() may be called from any thread.
//
// Errors the agent reports travel as grpc::Status with the stable code in error_details() and
// the sentence in error_message(); this client returns them unchanged. Its own errors:
// link.unreachable, link.tls-rejected, link.timeout, link.cancelled, link.protocol, link.stalled,
// link.retry-budget-exhausted.
//
// Uploads keep a window of chunks in flight: the next chunk goes out once the agent holds all but
// the last window - 1 handed over (fewer while the link's bandwidth-delay product needs fewer),
// so an interruption costs at most `window` chunks of re-sent bytes (one chunk per chunk in
// flight) while a long round trip does not idle the link. Confirmations are asked for on other
// threads while the chunks go out.
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
    // An update of another release that waits for a reboot or runs on trial: false refuses
    // (push.other-release-pending); true discards it (`--replace-pending`): a pending one in the
    // install that replaces it, a running trial by a rollback with reboot first.
    bool replacePending = false;
    qint64 chunkSize = 256 * 1024;
    // Most chunks in flight unconfirmed (1 to 64; 1 = stop and wait): fewer travel while the
    // link's bandwidth-delay product needs fewer, so on a short round trip the agent does not
    // hold chunks it has not written yet. An interruption re-sends at most window * chunkSize
    // bytes.
    int window = 64;
    std::chrono::seconds rebootTimeout = kDefaultRebootTimeout;

    // Network trouble. A chunk the agent has not confirmed within chunkDeadline (a dropped or
    // trickling link) ends the stream (link.stalled); the upload then resumes from the agent's
    // offset on a fresh connection after a pause (retryBackoff, doubling up to 4 s, reset after
    // progress). It gives up with link.retry-budget-exhausted after maxAttempts upload streams,
    // maxConnectAttempts failed connection attempts, or when retryBudget (wall clock for the
    // whole upload, retries included) runs out.
    std::chrono::milliseconds chunkDeadline{15000};
    int maxAttempts = 10;
    int maxConnectAttempts = 10;
    std::chrono::milliseconds retryBudget{30 * 60 * 1000};
    std::chrono::milliseconds retryBackoff{250};
};

// What the last resuming upload did, for logs and tests.
struct PushStats {
    int attempts = 0;         // upload streams started
    int connectFailures = 0;  // connection attempts that failed before a stream started
    int interruptions = 0;    // streams that ended early and were resumed (or gave up)
    qint64 bytesSent = 0;     // chunk bytes handed to the link, re-sent ones included
    qint64 bytesResent = 0;   // sum of resent
    QList<qint64> resent;     // per resume: bytes handed over before it minus the resume offset
    QString lastCause;        // error code of the last interruption
};

using PushProgress = std::function<void(PushPhase phase, qint64 done, qint64 total)>;

// One telemetry event of an agent (otafleet.agent.v1.Event), flattened: `type` is phase, boot,
// health, metrics or dropped; `fields` holds the kind's fields by their proto names (numbers as
// JSON numbers, enums as kebab-case names: "phase": "upload-completed").
struct AgentEvent {
    quint64 seq = 0;
    qint64 timeUnixMs = 0;
    QString type;
    QJsonObject fields;

    [[nodiscard]] QJsonObject toJson() const;  // {"seq", "time" (ISO 8601 UTC), "type", fields}
    [[nodiscard]] QString describe() const;    // one line for people
};

struct AgentEventBatch {
    QList<AgentEvent> events;
    quint64 droppedTotal = 0;  // discarded by the agent's full queue, unacknowledged
    quint64 lastSeq = 0;
    quint64 ackedSeq = 0;
    bool more = false;
};

struct AgentEventAck {
    quint64 ackedSeq = 0;
    quint64 pending = 0;
};

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
    // Uploads the bundle from the agent's received offset on, in one stream without retries (the
    // default chunk deadline applies); progress(done, total) after each chunk handed over.
    [[nodiscard]] Status upload(const QString& bundlePath, const QString& transferId,
                                qint64 chunkSize,
                                const std::function<void(qint64, qint64)>& progress);
    // Like upload(), but survives network trouble as `options` say (chunk deadline, resume on a
    // fresh connection, retry budget); `options.chunkSize` sets the chunk size.
    [[nodiscard]] Status uploadResuming(const QString& bundlePath, const QString& transferId,
                                        const PushOptions& options,
                                        const std::function<void(qint64, qint64)>& progress);
    // Counters of the last uploadResuming() (also run by push()).
    [[nodiscard]] PushStats lastPushStats() const;
    // `replacePending`: see PushOptions::replacePending (InstallRequest.replace_pending).
    [[nodiscard]] Status install(const QString& transferId, const PushProgress& progress,
                                 bool replacePending = false);
    [[nodiscard]] Result<AgentInfo> commit();
    // With `reboot`, waits (up to rebootTimeout) until the device runs the other slot.
    [[nodiscard]] Result<AgentInfo> rollback(
        bool reboot, std::chrono::seconds rebootTimeout = kDefaultRebootTimeout);
    // Asks for a reboot and waits until the agent answers again with a higher boot count.
    [[nodiscard]] Result<AgentInfo> rebootAndWait(std::chrono::seconds timeout);

    // Telemetry: unacknowledged events after `afterSeq` (at most `max`, capped by the agent), and
    // their acknowledgement, which removes them from the agent (error telemetry.ack-ahead for a
    // sequence number the agent has not assigned).
    [[nodiscard]] Result<AgentEventBatch> events(quint64 afterSeq, quint32 max);
    [[nodiscard]] Result<AgentEventAck> ackEvents(quint64 upToSeq);

    // The whole path: upload (resuming), install, reboot, health check, commit, as options say.
    // Succeeds only when the device reached the requested end state. It starts where the device
    // stands, so running it again after an interruption finishes the job: a staged upload
    // resumes, this release installed and awaiting a reboot is rebooted into, this release on
    // trial is committed, this release committed is done. Another release awaiting a reboot or
    // on trial: push.other-release-pending unless options.replacePending.
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
