// The telemetry charts of an otafleetd's fleet (TelemetryService): a report put together on a
// worker thread from ConsoleService calls: the rollouts to choose from (ListRollouts), the chosen
// one's waves against its plan's thresholds (GetRollout), and the server's own aggregates over
// the last kRangeDays days (TelemetryReport with charts: upload throughput and install duration
// histograms, version adoption by day, the rollout's failure reasons), computed by otafleetd from
// its store with the arithmetic the embedded fleet uses.
//
// otafleetd keeps where each device of a rollout stands, not the history of its moves, so the
// progress-over-time chart is not available from a server and the report says so (as it says
// when a server predates chart data). Requests are served in order; one still waiting when a
// newer one arrives is answered by the newer one's work only (its number is skipped).
#pragma once

#include "consoleclient/ConsoleSettings.h"
#include "fleet/TelemetryService.h"

#include <QThread>

#include <atomic>
#include <chrono>
#include <memory>

namespace otafleet::fleet {

class RolloutService;

class RemoteTelemetry : public TelemetryService {
    Q_OBJECT
public:
    static constexpr int kRangeDays = 30;

    // `rollouts` (may be null; the same server's) tells when a rollout moved.
    RemoteTelemetry(client::ConsoleSettings settings, RolloutService* rollouts,
                    std::chrono::seconds callDeadline = std::chrono::seconds(15),
                    QObject* parent = nullptr);
    ~RemoteTelemetry() override;

    quint64 requestReport(qint64 rolloutId) override;

    class Worker;

private:
    QThread m_thread;
    Worker* m_worker = nullptr;  // lives in m_thread
    std::shared_ptr<std::atomic<quint64>> m_latest;
    quint64 m_next = 0;
};

}  // namespace otafleet::fleet
