// The one thread that owns otafleetd's FleetStore. Qt SQL connections belong to the thread that
// opened them, while gRPC runs handlers on its own threads; so every store access is a job run
// here, in order. gRPC callback threads must not wait on it (a slow transaction would starve
// them): they post() what needs no answer and queue telemetry with queueTelemetry(); run()
// (which waits for the result) is for the driver's ticker, ConsoleService and startup.
//
// Telemetry is written in batches: one transaction for up to kTelemetryBatch events, at most
// kTelemetryLatency after the oldest of them arrived, and whatever is queued when the worker
// stops is written before it ends, so no event a session took is lost on a clean shutdown.
// Each event may carry a callback, run on the worker thread once its batch is written (true) or
// could not be (false): the session acknowledges events to the agent only then, so an event
// the server had not yet stored when it died is sent again.
// At most kMaxQueuedTelemetry events wait; past that queueTelemetry() waits for room
// (backpressure on the sessions instead of dropping events the agents consider delivered).
#pragma once

#include "common/Error.h"
#include "store/DeviceTelemetryRepository.h"
#include "store/FleetDeviceRepository.h"
#include "store/FleetStore.h"

#include <QHash>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>

namespace otafleet::server {

class StoreWorker {
public:
    static constexpr qsizetype kTelemetryBatch = store::DeviceTelemetryRepository::kMaxBatch;
    static constexpr std::chrono::milliseconds kTelemetryLatency{100};
    static constexpr qsizetype kMaxQueuedTelemetry = 50'000;

    // Opens (and migrates) the database on the worker thread. Errors as FleetStore::open.
    [[nodiscard]] static Result<std::unique_ptr<StoreWorker>> start(const QString& path);
    ~StoreWorker();  // runs every posted job and writes every queued event first
    StoreWorker(const StoreWorker&) = delete;
    StoreWorker& operator=(const StoreWorker&) = delete;

    // Runs `job(store)` on the worker thread and returns what it returned.
    template <class F>
    auto run(F&& job) -> std::invoke_result_t<F, store::FleetStore&> {
        using R = std::invoke_result_t<F, store::FleetStore&>;
        auto task =
            std::make_shared<std::packaged_task<R(store::FleetStore&)>>(std::forward<F>(job));
        std::future<R> result = task->get_future();
        post([task](store::FleetStore& s) { (*task)(s); });
        return result.get();
    }

    // Runs `job(store)` on the worker thread later, in order with every other job; returns at
    // once. The job reports its own failures.
    void post(std::function<void(store::FleetStore&)> job);

    using Stored = std::function<void(bool stored)>;
    // Stores `record` in the next batch (see above); then runs `stored`, if given.
    void queueTelemetry(store::DeviceTelemetryRecord record, Stored stored = {});
    // Records a device's session state (fleet_devices online, last_seen) with the next batch;
    // only the latest note per device is written, so a heartbeat costs no transaction of its own.
    void notePresence(const QString& deviceId, bool online, const QDateTime& seen);

    // Jobs and telemetry events waiting: how far behind the store is (DeviceService turns new
    // devices away while it is far behind).
    [[nodiscard]] qsizetype backlog() const { return m_backlog.load(std::memory_order_relaxed); }

private:
    using Clock = std::chrono::steady_clock;

    StoreWorker() = default;
    void loop(const QString& path, std::promise<Status>& opened);
    // Which events of `batch` are stored, in its order.
    [[nodiscard]] static QList<bool> writeTelemetry(
        store::FleetStore& store, const QList<store::DeviceTelemetryRecord>& batch);
    // Telemetry and presence: something waits (called with m_mutex held).
    [[nodiscard]] bool batchWaiting() const {
        return !m_telemetry.isEmpty() || !m_presence.isEmpty();
    }

    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_room;  // telemetry queue below its bound again
    std::deque<std::function<void(store::FleetStore&)>> m_jobs;
    QList<store::DeviceTelemetryRecord> m_telemetry;
    QList<Stored> m_telemetryStored;  // beside m_telemetry, one per event
    QHash<QString, store::FleetDeviceRepository::Presence> m_presence;
    Clock::time_point m_oldestTelemetry{};
    std::atomic<qsizetype> m_backlog{0};
    bool m_stop = false;
    std::thread m_thread;
};

}  // namespace otafleet::server
