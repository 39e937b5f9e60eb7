#include "agent/Telemetry.h"

#include "agent/Logging.h"
#include "common/AtomicFile.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <sys/statvfs.h>

namespace otafleet::agent {
namespace {

using Clock = std::chrono::steady_clock;

// Taken while the program's static objects are built, i.e. as the process image starts (after a
// Reboot RPC the agent re-executes itself, so this is the start of the new boot too).
const Clock::time_point kProcessStart = Clock::now();

quint64 msSince(Clock::time_point since) {
    return quint64(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count());
}

// Measured in microseconds: a small payload on a fast device moves in a few milliseconds.
double throughput(quint64 bytes, Clock::time_point since) {
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - since).count();
    return double(bytes) * 1e6 / double(std::max<qint64>(us, 1));
}

std::string str(const QString& s) {
    return s.toStdString();
}

struct Space {
    quint64 free = 0;
    quint64 total = 0;
};

Space spaceOf(const QString& dir) {
    struct statvfs fs {};
    if (::statvfs(QFile::encodeName(dir).constData(), &fs) != 0)
        return {};
    return Space{quint64(fs.f_bavail) * fs.f_frsize, quint64(fs.f_blocks) * fs.f_frsize};
}

// /proc files are small; the bound only guards against a strange kernel.
QByteArray procFile(const char* path) {
    auto bytes = readFileBounded(QLatin1String(path), 64 * 1024);
    return bytes ? *bytes : QByteArray();
}

QByteArray serialize(const v1::Event& event) {
    std::string bytes;
    event.SerializeToString(&bytes);
    return QByteArray::fromStdString(bytes);
}

v1::Event stamped() {
    v1::Event event;
    event.set_time_unix_ms(QDateTime::currentMSecsSinceEpoch());
    return event;
}

}  // namespace

Telemetry::Telemetry(const AgentConfig& config, std::unique_ptr<EventQueue> queue, Error openError)
    : m_dataDir(config.dataDir),
      m_slotDir(QFileInfo(config.slotA).absolutePath()),
      m_queue(std::move(queue)),
      m_openError(std::move(openError)) {}

std::unique_ptr<Telemetry> Telemetry::open(const AgentConfig& config) {
    const QString dir = QDir(config.dataDir).filePath(QStringLiteral("telemetry"));
    auto queue = EventQueue::open(dir, config.telemetryMaxBytes, [](quint64 count, quint64 total) {
        v1::Event event = stamped();
        event.mutable_dropped()->set_count(count);
        event.mutable_dropped()->set_dropped_total(total);
        return serialize(event);
    });
    if (!queue) {
        qCWarning(lcAgent).noquote() << "telemetry disabled:" << queue.error().toString();
        return std::unique_ptr<Telemetry>(new Telemetry(config, nullptr, queue.error()));
    }
    return std::unique_ptr<Telemetry>(new Telemetry(config, std::move(*queue), Error{}));
}

void Telemetry::record(v1::Event event) {
    if (!m_queue)
        return;
    if (event.time_unix_ms() == 0)
        event.set_time_unix_ms(QDateTime::currentMSecsSinceEpoch());
    if (auto ok = m_queue->append(serialize(event)); !ok)
        qCWarning(lcAgent).noquote() << "telemetry event lost:" << ok.error().toString();
}

void Telemetry::phase(v1::PhaseEvent phase) {
    v1::Event event = stamped();
    *event.mutable_phase() = std::move(phase);
    record(std::move(event));
}

void Telemetry::milestone(v1::EventPhase phase, const QString& version, const QString& slot,
                          quint64 bootCount) {
    v1::PhaseEvent p;
    p.set_phase(phase);
    p.set_version(str(version));
    p.set_slot(str(slot));
    p.set_boot_count(bootCount);
    this->phase(std::move(p));
}

void Telemetry::serving(const AgentReport& report) {
    QString version;
    for (const SlotReport& slot : report.slots) {
        if (slot.name == report.activeSlot && slot.content)
            version = slot.content->version;
    }
    v1::Event event = stamped();
    v1::BootEvent* boot = event.mutable_boot();
    boot->set_boot_count(report.bootCount);
    boot->set_slot(str(report.activeSlot));
    boot->set_version(str(version));
    boot->set_trial(report.trial);
    boot->set_state(str(report.state));
    boot->set_start_to_serving_ms(msSince(kProcessStart));
    if (report.lastError) {
        boot->set_error_code(str(report.lastError->code));
        boot->set_error_message(str(report.lastError->message.left(512)));
    }
    record(std::move(event));
    if (report.trial)
        milestone(v1::EVENT_PHASE_TRIAL_BOOT, version, report.activeSlot, report.bootCount);
    if (report.state == u"reverted") {
        v1::PhaseEvent revert;
        revert.set_phase(v1::EVENT_PHASE_REVERT);
        revert.set_version(str(version));
        revert.set_slot(str(report.activeSlot));
        revert.set_boot_count(report.bootCount);
        if (report.lastError)
            revert.set_error_code(str(report.lastError->code));
        phase(std::move(revert));
    }
    metrics();
}

void Telemetry::metrics() {
    if (!m_queue)
        return;
    v1::Event event = stamped();
    v1::MetricsEvent* m = event.mutable_metrics();
    const Space data = spaceOf(m_dataDir);
    const Space slots = spaceOf(m_slotDir);
    m->set_data_free_bytes(data.free);
    m->set_data_total_bytes(data.total);
    m->set_slot_free_bytes(slots.free);
    m->set_slot_total_bytes(slots.total);
    const QList<QByteArray> load = procFile("/proc/loadavg").split(' ');
    if (load.size() >= 3) {
        m->set_load1(load[0].toDouble());
        m->set_load5(load[1].toDouble());
        m->set_load15(load[2].toDouble());
    }
    for (const QByteArray& line : procFile("/proc/meminfo").split('\n')) {
        if (line.startsWith("MemAvailable:")) {
            // "MemAvailable:   123456 kB"
            const QList<QByteArray> parts = line.simplified().split(' ');
            if (parts.size() >= 2)
                m->set_mem_available_bytes(parts[1].toULongLong() * 1024);
        }
    }
    const QList<QByteArray> uptime = procFile("/proc/uptime").split(' ');
    if (!uptime.isEmpty())
        m->set_uptime_s(quint64(uptime[0].toDouble()));
    record(std::move(event));
}

Result<v1::EventBatch> Telemetry::batch(quint64 afterSeq, quint32 max) const {
    if (!m_queue)
        return fail(m_openError);
    const int limit = max == 0 ? kDefaultBatch : int(std::min<quint32>(max, kMaxBatch));
    auto read = m_queue->read(afterSeq, limit);
    if (!read)
        return fail(read.error());
    v1::EventBatch out;
    for (const QueuedRecord& record : read->records) {
        v1::Event* event = out.add_events();
        // The CRC vouches for the bytes; a payload this build cannot parse still keeps its place.
        if (!event->ParseFromArray(record.payload.constData(), int(record.payload.size())))
            event->Clear();
        event->set_seq(record.seq);
    }
    out.set_dropped_total(read->droppedTotal);
    out.set_last_seq(read->lastSeq);
    out.set_acked_seq(read->ackedSeq);
    out.set_more(read->more);
    return out;
}

Result<v1::AckEventsReply> Telemetry::ack(quint64 upToSeq) {
    if (!m_queue)
        return fail(m_openError);
    if (auto ok = m_queue->ack(upToSeq); !ok)
        return fail(ok.error());
    v1::AckEventsReply reply;
    reply.set_acked_seq(m_queue->ackedSeq());
    reply.set_pending(m_queue->pending());
    return reply;
}

InstallMeter::InstallMeter(Telemetry& telemetry, QString transferId)
    : m_telemetry(telemetry),
      m_transferId(std::move(transferId)),
      m_start(Clock::now()),
      m_phaseStart(m_start) {}

std::function<void(const InstallEvent&)> InstallMeter::wrap(
    std::function<void(const InstallEvent&)> out) {
    return [this, out = std::move(out)](const InstallEvent& event) {
        onEvent(event);
        if (out)
            out(event);
    };
}

v1::PhaseEvent InstallMeter::make(v1::EventPhase phase, quint64 bytes,
                                  Clock::time_point since) const {
    v1::PhaseEvent p;
    p.set_phase(phase);
    p.set_transfer_id(str(m_transferId));
    p.set_version(str(m_version));
    p.set_slot(str(m_slot));
    p.set_bytes(bytes);
    p.set_total_bytes(m_total);
    p.set_duration_ms(msSince(since));
    if (bytes > 0)
        p.set_throughput_bytes_per_s(throughput(bytes, since));
    return p;
}

void InstallMeter::onEvent(const InstallEvent& event) {
    m_version = event.version;
    m_slot = event.slot;
    m_total = quint64(event.total);
    if (m_phase && *m_phase != event.phase) {
        // The phase that just ended: verifying and writing each moved the whole payload.
        switch (*m_phase) {
            case InstallPhase::Verifying:
                m_telemetry.phase(make(v1::EVENT_PHASE_INSTALL_VERIFYING, m_done, m_phaseStart));
                break;
            case InstallPhase::Writing: {
                v1::PhaseEvent written =
                    make(v1::EVENT_PHASE_INSTALL_WRITING, m_done, m_phaseStart);
                // The last bytes went in before the slot's fsync; the next phase starts after it.
                if (m_allWrittenAt)
                    written.set_sync_ms(msSince(*m_allWrittenAt));
                m_telemetry.phase(std::move(written));
                break;
            }
            case InstallPhase::Finalizing:
                m_telemetry.phase(make(v1::EVENT_PHASE_INSTALL_FINALIZING, 0, m_phaseStart));
                break;
            case InstallPhase::Done:
                break;
        }
    }
    if (!m_phase || *m_phase != event.phase)
        m_phaseStart = Clock::now();
    m_phase = event.phase;
    m_done = quint64(event.done);
    if (event.phase == InstallPhase::Writing && event.total > 0 && event.done == event.total &&
        !m_allWrittenAt) {
        m_allWrittenAt = Clock::now();
    }
    if (event.phase == InstallPhase::Done)
        m_telemetry.phase(make(v1::EVENT_PHASE_INSTALL_DONE, m_total, m_start));
}

void InstallMeter::finish(const Status& result) {
    if (!result) {
        v1::PhaseEvent failed = make(v1::EVENT_PHASE_INSTALL_FAILED, m_done, m_start);
        failed.set_error_code(str(result.error().code));
        m_telemetry.phase(std::move(failed));
    }
    m_telemetry.metrics();
}

UploadMeter::UploadMeter(Telemetry& telemetry) : m_telemetry(telemetry), m_start(Clock::now()) {}

v1::PhaseEvent UploadMeter::make(v1::EventPhase phase) const {
    v1::PhaseEvent p;
    p.set_phase(phase);
    p.set_transfer_id(str(m_transferId));
    p.set_offset(m_offset);
    p.set_total_bytes(m_total);
    if (phase != v1::EVENT_PHASE_UPLOAD_STARTED) {
        p.set_bytes(m_bytes);
        p.set_duration_ms(msSince(m_start));
        p.set_throughput_bytes_per_s(throughput(m_bytes, m_start));
    }
    return p;
}

void UploadMeter::chunk(const QString& transferId, quint64 offset, quint64 size,
                        const UploadProgress& progress) {
    m_total = progress.total;
    if (!m_started) {
        m_started = true;
        m_transferId = transferId;
        m_offset = offset;
        m_telemetry.phase(make(v1::EVENT_PHASE_UPLOAD_STARTED));
    }
    m_bytes += size;
    if (progress.complete() && !m_ended) {
        m_ended = true;
        v1::PhaseEvent completed = make(v1::EVENT_PHASE_UPLOAD_COMPLETED);
        completed.set_hash_ms(quint64(
            std::chrono::duration_cast<std::chrono::milliseconds>(progress.hashTime).count()));
        m_telemetry.phase(std::move(completed));
    }
}

void UploadMeter::end(const Status& result) {
    if (!m_started || m_ended)
        return;
    m_ended = true;
    v1::PhaseEvent p = make(v1::EVENT_PHASE_UPLOAD_INTERRUPTED);
    if (!result)
        p.set_error_code(str(result.error().code));
    m_telemetry.phase(std::move(p));
}

HealthMeter::HealthMeter(Telemetry& telemetry, QString slot, QString version)
    : m_telemetry(telemetry),
      m_slot(std::move(slot)),
      m_version(std::move(version)),
      m_start(Clock::now()) {}

void HealthMeter::finished(bool ok, int exitCode) {
    m_ok = ok;
    m_exitCode = exitCode;
}

HealthMeter::~HealthMeter() {
    v1::Event event = stamped();
    v1::HealthEvent* health = event.mutable_health();
    health->set_ok(m_ok && !m_timedOut);
    health->set_duration_ms(msSince(m_start));
    health->set_exit_code(m_timedOut ? -1 : m_exitCode);
    health->set_timed_out(m_timedOut);
    health->set_slot(str(m_slot));
    health->set_version(str(m_version));
    m_telemetry.record(std::move(event));
}

MetricsTicker::MetricsTicker(Telemetry& telemetry, std::chrono::seconds interval)
    : m_telemetry(telemetry), m_interval(interval), m_thread([this] {
          std::unique_lock lock(m_mutex);
          while (!m_wake.wait_for(lock, m_interval, [this] { return m_stop; })) {
              lock.unlock();
              m_telemetry.metrics();
              lock.lock();
          }
      }) {}

MetricsTicker::~MetricsTicker() {
    {
        const std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    m_thread.join();
}

}  // namespace otafleet::agent
