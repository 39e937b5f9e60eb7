// The one thread that owns otafleetd's FleetStore. Qt SQL connections belong to the thread that
// opened them, while gRPC runs handlers on its own threads; so every store access is a job run
// here, in order, and the calling handler waits for its result (store calls are short).
#pragma once

#include "common/Error.h"
#include "store/FleetStore.h"

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
    // Opens (and migrates) the database on the worker thread. Errors as FleetStore::open.
    [[nodiscard]] static Result<std::unique_ptr<StoreWorker>> start(const QString& path);
    ~StoreWorker();
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

private:
    StoreWorker() = default;
    void post(std::function<void(store::FleetStore&)> job);
    void loop(const QString& path, std::promise<Status>& opened);

    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<std::function<void(store::FleetStore&)>> m_jobs;
    bool m_stop = false;
    std::thread m_thread;
};

}  // namespace otafleet::server
