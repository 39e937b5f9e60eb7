// Runs `work(promise)` on `pool` and returns its future, like QtConcurrent::run with a QPromise,
// but the future is not tied to a runnable: waiting on it never runs the work on the waiting
// thread (QtConcurrent "steals" a queued task into the thread that waits). Work that must stay
// on one thread, such as a Qt SQL connection's, needs that.
#pragma once

#include <QFuture>
#include <QPromise>
#include <QThreadPool>

#include <memory>

namespace otafleet::fleet {

template <class T, class Work>
[[nodiscard]] QFuture<T> runOnPool(QThreadPool& pool, Work work) {
    auto promise = std::make_shared<QPromise<T>>();
    QFuture<T> future = promise->future();
    promise->start();
    pool.start([promise, work = std::move(work)]() mutable {
        if (!promise->isCanceled())
            work(*promise);
        promise->finish();
    });
    return future;
}

}  // namespace otafleet::fleet
