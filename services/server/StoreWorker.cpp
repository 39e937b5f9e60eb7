#include "server/StoreWorker.h"

#include "server/ServerLogging.h"

namespace otafleet::server {

Result<std::unique_ptr<StoreWorker>> StoreWorker::start(const QString& path) {
    std::unique_ptr<StoreWorker> worker(new StoreWorker());
    std::promise<Status> opened;
    std::future<Status> openResult = opened.get_future();
    worker->m_thread = std::thread([w = worker.get(), path, &opened] { w->loop(path, opened); });
    Status status = openResult.get();
    if (!status) {
        worker->m_thread.join();
        worker->m_stop = true;
        return fail(status.error());
    }
    return worker;
}

StoreWorker::~StoreWorker() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable())
        m_thread.join();
}

void StoreWorker::post(std::function<void(store::FleetStore&)> job) {
    {
        std::lock_guard lock(m_mutex);
        m_jobs.push_back(std::move(job));
        ++m_backlog;
    }
    m_wake.notify_one();
}

// The worker sleeps without a deadline while no batch waits: the first event of a batch wakes it
// so that it waits for the batch's deadline instead (else a lone event on a quiet server would
// wait for the next job), and a full batch wakes it to write at once.
void StoreWorker::queueTelemetry(store::DeviceTelemetryRecord record, Stored stored) {
    bool wake = false;
    {
        std::unique_lock lock(m_mutex);
        m_room.wait(lock, [this] { return m_telemetry.size() < kMaxQueuedTelemetry || m_stop; });
        if (!batchWaiting()) {
            m_oldestTelemetry = Clock::now();
            wake = true;
        }
        m_telemetry.append(std::move(record));
        m_telemetryStored.append(std::move(stored));
        ++m_backlog;
        wake = wake || m_telemetry.size() >= kTelemetryBatch;
    }
    if (wake)
        m_wake.notify_one();
}

void StoreWorker::notePresence(const QString& deviceId, bool online, const QDateTime& seen) {
    bool wake = false;
    {
        std::lock_guard lock(m_mutex);
        if (!batchWaiting()) {
            m_oldestTelemetry = Clock::now();
            wake = true;
        }
        if (!m_presence.contains(deviceId))
            ++m_backlog;
        m_presence.insert(deviceId, store::FleetDeviceRepository::Presence{deviceId, online, seen});
    }
    if (wake)
        m_wake.notify_one();
}

QList<bool> StoreWorker::writeTelemetry(store::FleetStore& store,
                                        const QList<store::DeviceTelemetryRecord>& batch) {
    QList<bool> stored(batch.size(), true);
    if (store.deviceTelemetry().append(batch))
        return stored;
    // One bad event must not take the batch with it: each on its own, naming what failed.
    for (qsizetype i = 0; i < batch.size(); ++i) {
        const store::DeviceTelemetryRecord& r = batch[i];
        if (auto one = store.deviceTelemetry().append({r}); !one) {
            stored[i] = false;
            qCWarning(lcServer).noquote() << "telemetry event" << r.deviceId << r.seq
                                          << "not stored:" << one.error().toString();
        }
    }
    return stored;
}

void StoreWorker::loop(const QString& path, std::promise<Status>& opened) {
    auto store = store::FleetStore::open(path);
    if (!store) {
        opened.set_value(fail(store.error()));
        return;
    }
    opened.set_value({});
    bool jobNext = false;  // after a batch, a waiting job goes first: neither starves the other
    for (;;) {
        std::function<void(store::FleetStore&)> job;
        QList<store::DeviceTelemetryRecord> batch;
        QList<Stored> batchStored;
        QList<store::FleetDeviceRepository::Presence> presence;
        {
            std::unique_lock lock(m_mutex);
            const auto telemetryDue = [this] {
                return batchWaiting() && (m_stop || m_telemetry.size() >= kTelemetryBatch ||
                                          Clock::now() >= m_oldestTelemetry + kTelemetryLatency);
            };
            const auto ready = [&] { return m_stop || !m_jobs.empty() || telemetryDue(); };
            if (!batchWaiting()) {
                // Until something arrives; a first event then starts its batch's deadline below.
                m_wake.wait(lock, [&] { return m_stop || !m_jobs.empty() || batchWaiting(); });
            } else {
                m_wake.wait_until(lock, m_oldestTelemetry + kTelemetryLatency, ready);
            }
            if (telemetryDue() && !(jobNext && !m_jobs.empty())) {
                const qsizetype n = std::min(kTelemetryBatch, m_telemetry.size());
                batch = m_telemetry.first(n);
                m_telemetry.remove(0, n);
                batchStored = m_telemetryStored.first(n);
                m_telemetryStored.remove(0, n);
                presence = m_presence.values();
                m_presence.clear();
                m_oldestTelemetry = Clock::now();  // the rest waited at least as long
                m_backlog -= n + presence.size();
            } else if (!m_jobs.empty()) {
                job = std::move(m_jobs.front());
                m_jobs.pop_front();
                --m_backlog;
            } else if (m_stop && !batchWaiting()) {
                break;  // stopping, and every posted job and event is written
            } else {
                continue;
            }
        }
        jobNext = !job;
        if (!job) {
            m_room.notify_all();
            if (auto ok = (*store)->fleetDevices().setPresence(presence); !ok) {
                qCWarning(lcServer).noquote()
                    << presence.size() << "session states not stored:" << ok.error().toString();
            }
            const QList<bool> stored = writeTelemetry(**store, batch);
            for (qsizetype i = 0; i < batchStored.size(); ++i) {
                if (batchStored[i])
                    batchStored[i](stored[i]);
            }
        } else {
            job(**store);
        }
    }
}

}  // namespace otafleet::server
