// The asynchronous half every ReleaseService shares: a request runs as a job on the global thread
// pool with a Cancel flag and a progress callback (fleet/ReleaseWork.h's Control); its progress
// and its end come back to this object's thread as requestProgress() and requestFinished().
// Subclasses call waitForJobs() first in their destructor: jobs may use what they own.
#pragma once

#include "fleet/ReleaseService.h"
#include "fleet/ReleaseWork.h"

#include <QFutureWatcher>
#include <QHash>

#include <atomic>
#include <functional>
#include <memory>

namespace otafleet::fleet {

class ReleaseJobs : public ReleaseService {
    Q_OBJECT
public:
    void cancel(quint64 request) override;

protected:
    explicit ReleaseJobs(QObject* parent = nullptr);
    ~ReleaseJobs() override;

    using Job = std::function<Result<QString>(const release::Control&)>;
    // Runs `job` as a new request; `after` (may be empty) runs on this object's thread when it
    // ended, before requestFinished().
    quint64 run(Job job, std::function<void(const Result<QString>&)> after = {});
    // Asks every job to stop and waits until none runs.
    void waitForJobs();

private:
    struct Running {
        QFutureWatcher<Result<QString>>* watcher = nullptr;
        std::shared_ptr<std::atomic_bool> cancelled;
    };
    QHash<quint64, Running> m_running;
    quint64 m_lastRequest = 0;
};

}  // namespace otafleet::fleet
