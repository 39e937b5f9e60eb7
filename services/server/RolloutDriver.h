// otafleetd's staged rollouts: the host of one rollout::RolloutEngine per rollout. It resolves a
// rollout's targets with the filter language over the devices that dialled in (fleet_devices),
// ticks the engines of scheduled and running rollouts on its own thread with the real clock,
// sends their offers over the devices' open DeviceService sessions, feeds the agents' progress
// back into the engines and writes what changed to the store after every change, before
// anything leaves the server, so a restart (kill -9 included) resumes exactly: the engine's
// header (rollouts table) and the rows of the devices that changed (rollout_devices, schema 7),
// in one transaction. A rollout stored whole by an older otafleetd moves to rows when loaded.
//
// Offers: offer_id is "ROLLOUT/DEVICE/ATTEMPT" (unique per rollout, device and attempt; a retry
// is a new offer). A device without an open session gets its offer when it connects; every
// device that holds an unfinished offer of a rollout that is not aborted gets that offer again
// each time it connects (after a server restart too), and answers with its latest progress for
// it, so nothing it reported while the server was away is lost or counted twice. Progress of an
// older attempt, of another device or repeating the state the engine already has is ignored.
// A revoked release makes no more offers: its running rollouts pause themselves, saying why, and
// cannot be resumed or retried.
//
// Late joiners (plan include_late_joiners): every few seconds the target expression is evaluated
// again and matching devices that are not targets yet join (RolloutEngine::addTarget).
//
// Audit (actor "system"): rollout.auto-pause (the engine paused itself, or the release was
// revoked; detail = the pause reason) and rollout.complete; (actor and subject "device:ID")
// device.update-STATE for a device's counted final state (succeeded, failed, reverted, skipped,
// timed_out as the agent reported it), written with the save that counts it. Operators' commands
// are audited by ConsoleService.
//
// Error codes: server.unknown-rollout, server.release-revoked, server.no-targets,
// server.incompatible-target, server.device-mismatch, the engine's rollout.* codes, plan.*,
// filter.* and store.*.
#pragma once

#include "common/Error.h"
#include "rollout/Clock.h"
#include "rollout/DeviceFilter.h"
#include "rollout/RolloutEngine.h"
#include "server/StoreWorker.h"
#include "store/RolloutRepository.h"

#include "otafleet/console/v1/console.pb.h"
#include "otafleet/device/v1/device.pb.h"

#include <QHash>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace otafleet::server {

// A device's open session as the driver sees it. send() queues the message (the session writes
// one at a time); false when the session is closing.
class SessionLink {
public:
    virtual ~SessionLink() = default;
    virtual bool send(const device::v1::ServerMessage& message) = 0;
};

enum class RolloutCommand { Approve, Start, Pause, Resume, Abort, RetryFailed };

class RolloutDriver {
public:
    static constexpr std::chrono::milliseconds kTickInterval{250};
    static constexpr std::chrono::milliseconds kLateJoinerScan{2000};

    // Loads otafleetd's rollouts from the store. `clock` must outlive the driver. Errors store.*,
    // rollout.state / plan.* for a damaged row (named).
    [[nodiscard]] static Result<std::unique_ptr<RolloutDriver>> create(StoreWorker& store,
                                                                       const rollout::Clock& clock);
    ~RolloutDriver();  // stops ticking and saves progress taken since the last tick
    RolloutDriver(const RolloutDriver&) = delete;
    RolloutDriver& operator=(const RolloutDriver&) = delete;

    // Ticks on a thread of its own every kTickInterval until destroyed.
    void startTicking();
    // One round of what the thread does (tests and the thread).
    void tick();

    // A draft rollout of `releaseId` to the devices `target` selects now (device id order).
    [[nodiscard]] Result<console::v1::Rollout> createRollout(const QString& author,
                                                             const QString& releaseId,
                                                             const QString& target,
                                                             const rollout::PlanOptions& options);
    [[nodiscard]] Result<console::v1::Rollout> command(qint64 id, RolloutCommand command,
                                                       const QString& user);
    [[nodiscard]] Result<console::v1::Rollout> get(qint64 id) const;
    // Oldest first; without status_json. `total` gets the number of rollouts.
    [[nodiscard]] QList<console::v1::Rollout> list(int page, int pageSize, qint64* total) const;

    // Sessions: the newest session of a device replaces an older one.
    void attach(const QString& deviceId, std::shared_ptr<SessionLink> link);
    void detach(const QString& deviceId, const SessionLink* link);
    // A device's checked progress report. Ok(true) when it changed a rollout (the device's state
    // was counted), Ok(false) when it was stale, repeated or for no rollout of this server.
    // Error server.device-mismatch when the offer was made to another device. Called on gRPC's
    // threads, it touches no store: the next tick saves the change (within kTickInterval). A
    // crash before that loses nothing: the device holds its offer and reports its latest state
    // for it again when it reconnects (see above).
    //
    // What DeviceService asks before serving a download: true while `releaseId` is the release
    // of an unfinished offer to `deviceId` (offered, downloading, installing, rebooting or
    // verifying) in a rollout that is not aborted and whose release is not revoked.
    [[nodiscard]] bool mayDownload(const QString& deviceId, const QString& releaseId) const;
    [[nodiscard]] Result<bool> onProgress(const QString& deviceId, const QString& offerId,
                                          const rollout::DeviceEvent& event);

private:
    struct DeviceAudit {
        QString deviceId;
        QString action;  // device.update-STATE
        QString detail;
    };
    struct Entry {
        qint64 id = 0;
        QString releaseId;
        QString releaseVersion;
        qint64 releaseSize = 0;
        QString target;
        rollout::DeviceFilter filter;
        rollout::RolloutEngine engine;
        QDateTime created;
        QDateTime updated;
        std::chrono::steady_clock::time_point lastScan{};
        // The release's revocation as the last tick read it (sessions and downloads ask here,
        // not the store, from gRPC's threads).
        bool revoked = false;
        // Progress changed the engine since the last save: the next tick saves it.
        bool dirty = false;
        // The state the audit last noted, so that what the engine did by itself between two
        // ticks (a pause on the failure threshold, completion) is audited once.
        rollout::RolloutState noted = rollout::RolloutState::Draft;
        // Devices' final words counted since the last save, audited with the next save.
        QList<DeviceAudit> pendingAudits{};
    };

    RolloutDriver(StoreWorker& store, const rollout::Clock& clock);
    [[nodiscard]] Status load();
    [[nodiscard]] Result<rollout::RolloutEngine> restoreEngine(
        const store::RolloutRecord& record) const;
    [[nodiscard]] static QList<store::RolloutDeviceRow> changedRows(
        const rollout::RolloutEngine& engine);
    // The engine's header and the devices that changed since the last save, in one transaction.
    [[nodiscard]] Status persist(Entry& e);
    // Audits what the engine did by itself since the state last noted.
    void noteEngineChange(Entry& e);
    [[nodiscard]] bool releaseRevoked(const Entry& e) const;
    void pauseForRevokedRelease(Entry& e);
    void scanLateJoiners(Entry& e);
    void offer(const Entry& e, const QString& deviceId);
    [[nodiscard]] console::v1::Rollout describe(const Entry& e, bool withStatus) const;
    void audit(const QString& subject, const QString& action, const QString& detail) const;

    StoreWorker& m_store;
    const rollout::Clock& m_clock;
    mutable std::mutex m_mutex;
    std::map<qint64, Entry> m_entries;
    QHash<QString, std::shared_ptr<SessionLink>> m_sessions;

    std::mutex m_tickMutex;
    std::condition_variable m_tickWake;
    bool m_stop = false;
    std::thread m_ticker;
};

// "ROLLOUT/DEVICE/ATTEMPT" and back (nullopt for anything else).
struct OfferId {
    qint64 rollout = 0;
    QString device;
    int attempt = 0;
};
[[nodiscard]] QString makeOfferId(qint64 rollout, const QString& device, int attempt);
[[nodiscard]] std::optional<OfferId> parseOfferId(const QString& offerId);

}  // namespace otafleet::server
