#include "fleet/ReleaseJobs.h"

#include <QtConcurrent/QtConcurrentRun>

namespace otafleet::fleet {

ReleaseJobs::ReleaseJobs(QObject* parent) : ReleaseService(parent) {
    qRegisterMetaType<std::optional<otafleet::Error>>();
    qRegisterMetaType<otafleet::fleet::BundleReport>();
}

ReleaseJobs::~ReleaseJobs() {
    waitForJobs();
}

void ReleaseJobs::waitForJobs() {
    for (const Running& r : std::as_const(m_running))
        r.cancelled->store(true);
    for (const Running& r : std::as_const(m_running))
        r.watcher->waitForFinished();
}

quint64 ReleaseJobs::run(Job job, std::function<void(const Result<QString>&)> after) {
    const quint64 request = ++m_lastRequest;
    Running running;
    running.cancelled = std::make_shared<std::atomic_bool>(false);
    running.watcher = new QFutureWatcher<Result<QString>>(this);
    release::Control control;
    control.cancelled = [flag = running.cancelled] { return flag->load(); };
    // Queued to this object's thread; the destructor waits for the job, so `this` outlives it.
    control.progress = [this, request](const QString& phase, qint64 done, qint64 total) {
        QMetaObject::invokeMethod(
            this,
            [this, request, phase, done, total] {
                Q_EMIT requestProgress(request, phase, done, total);
            },
            Qt::QueuedConnection);
    };
    connect(running.watcher, &QFutureWatcherBase::finished, this,
            [this, request, after = std::move(after)] {
                const Running done = m_running.take(request);
                const Result<QString> result = done.watcher->result();
                done.watcher->deleteLater();
                if (after)
                    after(result);
                Q_EMIT requestFinished(
                    request, result ? *result : QString(),
                    result ? std::nullopt : std::optional<Error>(result.error()));
            });
    m_running.insert(request, running);
    running.watcher->setFuture(QtConcurrent::run(
        [job = std::move(job), control = std::move(control)] { return job(control); }));
    return request;
}

void ReleaseJobs::cancel(quint64 request) {
    if (auto it = m_running.find(request); it != m_running.end())
        it->cancelled->store(true);
}

}  // namespace otafleet::fleet
