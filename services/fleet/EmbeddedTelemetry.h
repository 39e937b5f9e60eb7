// Telemetry of the fleet run inside the console: reports computed from the embedded fleet's
// store on a worker thread of its own, which opens its own connection to the same database (a
// SQLite file in WAL mode: it reads while the console writes). Sources, all stored:
//   rollout progress and failure reasons  the rollout's history (store::RolloutEventLog)
//   waves against thresholds              the rollout's saved engine state and plan
//   version adoption                      versions in devices' boot and commit telemetry, and
//                                         each device's last report
//   throughput, install durations         upload-completed and install-done telemetry
// Requests are served in order; one still waiting when a newer one arrives is answered with the
// newer one's work only (its number is skipped), so a burst of changes costs one report.
#pragma once

#include "fleet/TelemetryService.h"

#include <QThread>

#include <atomic>
#include <memory>

namespace otafleet::fleet {

class EmbeddedFleet;
class RolloutService;

class EmbeddedTelemetry : public TelemetryService {
    Q_OBJECT
public:
    // `rollouts` (may be null) tells when a rollout moved.
    EmbeddedTelemetry(EmbeddedFleet& fleet, RolloutService* rollouts, QObject* parent = nullptr);
    ~EmbeddedTelemetry() override;

    quint64 requestReport(qint64 rolloutId) override;

    class Worker;

private:
    QThread m_thread;
    Worker* m_worker = nullptr;  // lives in m_thread; deleted there when it finishes
    std::shared_ptr<std::atomic<quint64>> m_latest;
    quint64 m_next = 0;
};

}  // namespace otafleet::fleet
