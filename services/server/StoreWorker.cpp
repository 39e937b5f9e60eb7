#include "server/StoreWorker.h"

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
    }
    m_wake.notify_one();
}

void StoreWorker::loop(const QString& path, std::promise<Status>& opened) {
    auto store = store::FleetStore::open(path);
    if (!store) {
        opened.set_value(fail(store.error()));
        return;
    }
    opened.set_value({});
    for (;;) {
        std::function<void(store::FleetStore&)> job;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return m_stop || !m_jobs.empty(); });
            if (m_jobs.empty())
                break;  // stopping, and every posted job has run
            job = std::move(m_jobs.front());
            m_jobs.pop_front();
        }
        job(**store);
    }
}

}  // namespace otafleet::server
