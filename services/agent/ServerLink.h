// ServerLink: the agent dialling out to otafleetd's DeviceService (device/v1/device.proto) with
// its device certificate over mutual TLS 1.3. It reports inventory, keeps one long-lived Session
// (heartbeats at the interval the server asked for, telemetry from the EventQueue), reconnects
// with jittered exponential backoff (plus the server's retry hint when it pushes back, and at
// most ConnectGate::kMaxConnecting links of one process handshaking at once), and handles update
// offers: pre-checks, Download into the agent's staging with resume by offset, SHA-256, then the
// same Agent::install a LAN push uses, a reboot through the owner, and after that boot the final
// state (commit or revert) decided by settleOffer() from the agent's boot stage.
//
// Everything network-bound runs on gRPC's callback threads or on the link's own offer worker;
// nothing blocks the owner's thread. One process may run hundreds of links (otafleetctl
// simulate): they share gRPC's callback executor and one timer thread.
#pragma once

#include "agent/Agent.h"
#include "common/Error.h"

#include "otafleet/device/v1/device.grpc.pb.h"

#include <QString>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace otafleet::agent {

namespace dpb = otafleet::device::v1;

struct ServerLinkOptions {
    static constexpr int kMaxMessageBytes = 2 * 1024 * 1024;  // a 1 MiB chunk plus framing

    QString address;                  // HOST:PORT of otafleetd's DeviceService
    std::string rootPem;              // the fleet root, pinned
    std::string certificateChainPem;  // device certificate (device CA) and chain
    std::string privateKeyPem;
    QString serial;                             // reported in the inventory
    std::optional<int> batteryPercent;          // only a device with a battery reports one
    std::chrono::milliseconds installDelay{0};  // simulate --install-time
    std::chrono::milliseconds backoffInitial{1000};
    std::chrono::milliseconds backoffMax{60000};
    // Sees every progress report the link makes (simulate's summary, tests); any thread.
    std::function<void(const dpb::Progress&)> onProgress;
};

struct ServerLinkStats {
    bool online = false;          // a session is open
    quint64 sessions = 0;         // sessions opened so far
    quint64 connectFailures = 0;  // failed connection attempts and ended sessions
    QString lastError;            // why the last connection attempt or session ended
    // The wait before the next attempt chosen last: jittered exponential backoff, plus the
    // server's retry hint when it pushed back (RESOURCE_EXHAUSTED/UNAVAILABLE, retry-after-ms).
    std::chrono::milliseconds lastBackoff{0};
};

// What became of an offer once the device booted again after installing it.
struct OfferOutcome {
    QString state;  // succeeded | failed | reverted
    QString errorCode;
    QString errorMessage;
};

// Decides the final state of an installed offer of `version` after the reboot, from the boot
// stage that already ran: a healthy trial of the offered version is committed (succeeded); a
// trial the boot stage reverted (failed health check, exhausted tries, a slot that did not
// verify) is reverted with the agent's error; anything else failed.
[[nodiscard]] OfferOutcome settleOffer(Agent& agent, const QString& version);

// The link's options from agent.conf: [server] address, the device identity ([identity] when
// enrolled) and the fleet root ([trust] bundle_root). Errors agent.not-enrolled (no device
// identity to dial with), agent.identity-*, agent.tls-unreadable.
[[nodiscard]] Result<ServerLinkOptions> serverLinkOptions(const AgentConfig& config,
                                                          const QString& configPath);

// A TLS channel to the server with the device identity, message-size limits and reconnect
// backoff bounds.
[[nodiscard]] std::shared_ptr<grpc::Channel> deviceChannel(const ServerLinkOptions& options);

struct DownloadControl {
    int maxAttempts = 5;
    std::chrono::milliseconds retryDelay{1000};  // doubled after each broken attempt
    // Asked after every chunk and between attempts; true stops the download (error
    // agent.download-cancelled), leaving what arrived staged for a resume.
    std::function<bool()> cancelled;
    // Sees each attempt's context so that another thread can cancel it (TryCancel), and nullptr
    // when that context is gone.
    std::function<void(grpc::ClientContext*)> attempt;
};

// Downloads release `releaseId` of `size` bytes into the agent's staging as transfer
// `transferId`, from what is staged already on: a broken stream resumes at the staged offset.
// progress(done, total) after each chunk. Errors agent.download-failed (the server refused or
// the link stayed broken), agent.download-cancelled, agent.* of the upload store.
[[nodiscard]] Status downloadRelease(dpb::DeviceService::Stub& stub, Agent& agent,
                                     const QString& releaseId, const QString& transferId,
                                     quint64 size,
                                     const std::function<void(quint64, quint64)>& progress,
                                     const DownloadControl& control = {});

class ServerLink {
public:
    // `onReboot` is called (from the offer worker) once an installed offer reported
    // "rebooting"; the owner reboots the agent: re-executes it, or for a simulated device makes
    // a new Agent and ServerLink on the same directory.
    ServerLink(Agent& agent, ServerLinkOptions options, std::function<void()> onReboot);
    ~ServerLink();  // stop()
    ServerLink(const ServerLink&) = delete;
    ServerLink& operator=(const ServerLink&) = delete;

    // Settles an offer installed before the last reboot, then connects. Returns at once.
    void start();
    // Cancels the session and a running download, waits for the offer worker and the calls.
    void stop();
    [[nodiscard]] ServerLinkStats stats() const;

    // What the session does with an offer; public so that tests can feed one directly.
    void handleOffer(const dpb::UpdateOffer& offer);
    // Tests: waits until no offer is being handled; false on timeout.
    [[nodiscard]] bool waitForOffers(std::chrono::milliseconds timeout);

    struct Impl;

private:
    std::shared_ptr<Impl> d;
};

}  // namespace otafleet::agent
