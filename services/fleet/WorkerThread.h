// A thread of its own for the state a fleet service must not touch on the GUI thread (a store
// connection, a connection to otafleetd): tasks run there one at a time in the order posted, and
// each one's result is handed back on the owner's thread, unless the owner is gone by then. The
// state is made and destroyed on that thread (a Qt SQL connection must be).
#pragma once

#include <QObject>
#include <QPointer>
#include <QThread>

#include <memory>
#include <optional>
#include <utility>

namespace otafleet::fleet {

template <class State>
class WorkerThread {
public:
    template <class... Args>
    explicit WorkerThread(const QString& name, Args&&... args)
        : m_holder(new Holder(std::forward<Args>(args)...)) {
        m_thread.setObjectName(name);
        m_holder->moveToThread(&m_thread);
        // Deleted in its own thread, so the state is destroyed where it was used.
        QObject::connect(&m_thread, &QThread::finished, m_holder, &QObject::deleteLater);
        m_thread.start(QThread::LowPriority);
    }
    ~WorkerThread() {
        m_thread.quit();
        m_thread.wait();
    }
    WorkerThread(const WorkerThread&) = delete;
    WorkerThread& operator=(const WorkerThread&) = delete;

    // Runs task(State&) on the thread, then done(result) on `owner`'s thread.
    template <class Task, class Done>
    void post(QObject* owner, Task task, Done done) {
        Holder* holder = m_holder;
        QPointer<QObject> guard(owner);
        QMetaObject::invokeMethod(
            holder,
            [holder, guard, task = std::move(task), done = std::move(done)]() mutable {
                auto result = task(holder->state);
                if (!guard)
                    return;
                QMetaObject::invokeMethod(
                    guard.data(),
                    [guard, done = std::move(done), result = std::move(result)]() mutable {
                        if (guard)
                            done(std::move(result));
                    },
                    Qt::QueuedConnection);
            },
            Qt::QueuedConnection);
    }

    // Runs task(State&) on the thread; nothing comes back.
    template <class Task>
    void post(Task task) {
        Holder* holder = m_holder;
        QMetaObject::invokeMethod(
            holder, [holder, task = std::move(task)]() mutable { task(holder->state); },
            Qt::QueuedConnection);
    }

    // For what State allows from any thread (cancelling a call in flight).
    [[nodiscard]] State& state() { return m_holder->state; }

private:
    class Holder : public QObject {
    public:
        template <class... Args>
        explicit Holder(Args&&... args) : state(std::forward<Args>(args)...) {}
        State state;
    };

    QThread m_thread;
    Holder* m_holder;
};

}  // namespace otafleet::fleet
