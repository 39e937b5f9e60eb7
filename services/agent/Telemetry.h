// What the agent tells its operators after the fact: update phases with durations, bytes and
// throughput, boots, health checks, free space and a few system metrics, each as an
// otafleet.agent.v1.Event in the durable EventQueue until a console or server acknowledges it.
//
// Telemetry never stops the device from doing its job: if the queue cannot be opened or written,
// the failure is logged and the agent carries on without it. The meters below are the hooks the
// agent's operations use, one object per operation, so the call sites stay one line each.
#pragma once

#include "agent/Agent.h"
#include "agent/EventQueue.h"

#include "otafleet/agent/v1/agent.pb.h"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace otafleet::agent {

class Telemetry {
public:
    // Requests larger than this are served in several batches.
    static constexpr int kMaxBatch = 256;
    static constexpr int kDefaultBatch = 100;

    // The queue in DATA/telemetry, bounded by [telemetry] max_bytes. Never fails (see above).
    [[nodiscard]] static std::unique_ptr<Telemetry> open(const AgentConfig& config);

    // Stamps the wall clock and queues the event.
    void record(v1::Event event);
    void phase(v1::PhaseEvent phase);
    // A milestone without sizes: reboot, commit, rollback.
    void milestone(v1::EventPhase phase, const QString& version, const QString& slot,
                   quint64 bootCount = 0);
    // Once per start, when the service listens: the boot (with the time the start took), a trial
    // or revert it brought, and a metrics snapshot.
    void serving(const AgentReport& report);
    // Free space of the data and slot directories, load average, available memory, uptime.
    void metrics();

    // For GetEvents/AckEvents. Error telemetry.unavailable when the queue could not be opened.
    [[nodiscard]] Result<v1::EventBatch> batch(quint64 afterSeq, quint32 max) const;
    [[nodiscard]] Result<v1::AckEventsReply> ack(quint64 upToSeq);

private:
    Telemetry(const AgentConfig& config, std::unique_ptr<EventQueue> queue, Error openError);
    QString m_dataDir;
    QString m_slotDir;
    std::unique_ptr<EventQueue> m_queue;  // null when unavailable
    Error m_openError;
};

// A metrics snapshot every `interval` while it lives ([telemetry] metrics_interval), so free
// space, load and memory are known between updates too, not only at boots and installs.
class MetricsTicker {
public:
    MetricsTicker(Telemetry& telemetry, std::chrono::seconds interval);
    ~MetricsTicker();
    MetricsTicker(const MetricsTicker&) = delete;
    MetricsTicker& operator=(const MetricsTicker&) = delete;

private:
    Telemetry& m_telemetry;
    std::chrono::seconds m_interval;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stop = false;
    std::thread m_thread;  // last: starts once the rest is initialised
};

// Install phases: each phase's end becomes an event with its duration; the install's end an
// install-done or install-failed event, then a metrics snapshot.
class InstallMeter {
public:
    InstallMeter(Telemetry& telemetry, QString transferId);
    // Forwards to `out` after measuring; the meter must outlive the returned function.
    [[nodiscard]] std::function<void(const InstallEvent&)> wrap(
        std::function<void(const InstallEvent&)> out);
    void finish(const Status& result);

private:
    void onEvent(const InstallEvent& event);
    [[nodiscard]] v1::PhaseEvent make(v1::EventPhase phase, quint64 bytes,
                                      std::chrono::steady_clock::time_point since) const;
    Telemetry& m_telemetry;
    QString m_transferId;
    QString m_version;
    QString m_slot;
    std::optional<InstallPhase> m_phase;
    quint64 m_total = 0;
    quint64 m_done = 0;
    std::chrono::steady_clock::time_point m_start;
    std::chrono::steady_clock::time_point m_phaseStart;
    // When the write phase reported its last byte (what follows until the next phase: fsync).
    std::optional<std::chrono::steady_clock::time_point> m_allWrittenAt;
};

// One upload stream: started (with the resume offset), then completed or interrupted with the
// bytes this stream carried and its throughput.
class UploadMeter {
public:
    explicit UploadMeter(Telemetry& telemetry);
    void chunk(const QString& transferId, quint64 offset, quint64 size,
               const UploadProgress& progress);
    void end(const Status& result);

private:
    [[nodiscard]] v1::PhaseEvent make(v1::EventPhase phase) const;
    Telemetry& m_telemetry;
    QString m_transferId;
    quint64 m_offset = 0;
    quint64 m_bytes = 0;
    quint64 m_total = 0;
    bool m_started = false;
    bool m_ended = false;
    std::chrono::steady_clock::time_point m_start;
};

// One run of the health command; recorded when the meter goes out of scope, as a failure unless
// finished() said otherwise.
class HealthMeter {
public:
    HealthMeter(Telemetry& telemetry, QString slot, QString version);
    ~HealthMeter();
    HealthMeter(const HealthMeter&) = delete;
    HealthMeter& operator=(const HealthMeter&) = delete;
    void finished(bool ok, int exitCode);
    void timedOut() { m_timedOut = true; }

private:
    Telemetry& m_telemetry;
    QString m_slot;
    QString m_version;
    bool m_ok = false;
    bool m_timedOut = false;
    int m_exitCode = -1;
    std::chrono::steady_clock::time_point m_start;
};

}  // namespace otafleet::agent
