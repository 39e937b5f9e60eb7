// Uploads: one stream of chunks (stop-and-wait, with a per-chunk deadline) and the resuming loop
// around it that reconnects after network trouble until its retry budget is spent.
#include "AgentClientPrivate.h"

#include <QFile>

#include <condition_variable>

namespace otafleet::agentclient {
namespace {

using Clock = std::chrono::steady_clock;

// Cancels a call whose current step (a Write, the Finish) does not complete by its deadline:
// the blocking gRPC API has no per-message deadline of its own.
class Watchdog {
public:
    explicit Watchdog(grpc::ClientContext& context) : m_context(context) {}
    ~Watchdog() {
        {
            std::lock_guard lock(m_mutex);
            m_stop = true;
        }
        m_wake.notify_all();
        m_thread.join();
    }
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;

    void arm(Clock::time_point deadline) {
        {
            std::lock_guard lock(m_mutex);
            m_deadline = deadline;
            m_armed = true;
        }
        m_wake.notify_all();
    }
    void disarm() {
        std::lock_guard lock(m_mutex);
        m_armed = false;
    }
    [[nodiscard]] bool fired() {
        std::lock_guard lock(m_mutex);
        return m_fired;
    }

private:
    void run() {
        std::unique_lock lock(m_mutex);
        while (!m_stop) {
            if (!m_armed) {
                m_wake.wait(lock);
                continue;
            }
            m_wake.wait_until(lock, m_deadline);
            if (m_armed && !m_stop && Clock::now() >= m_deadline) {
                m_fired = true;
                m_armed = false;
                m_context.TryCancel();
            }
        }
    }

    grpc::ClientContext& m_context;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    Clock::time_point m_deadline;
    bool m_armed = false;
    bool m_fired = false;
    bool m_stop = false;
    std::thread m_thread{[this] { run(); }};  // last: starts once the rest is initialised
};

// Worth another attempt on a fresh connection; anything else (the agent refused the bundle, TLS
// trust, a full disk, cancel) is final.
bool retryable(const Error& e) {
    return e.code == u"link.unreachable" || e.code == u"link.timeout" ||
           e.code == u"link.stalled" || e.code == u"link.protocol" ||
           e.code == u"agent.upload-offset-mismatch";
}

}  // namespace

Error AgentClient::Impl::stalled(std::chrono::milliseconds chunkDeadline) const {
    return Error{QStringLiteral("link.stalled"),
                 QStringLiteral("The agent at %1 did not take a chunk within %2 ms; the link "
                                "dropped or is too slow.")
                     .arg(target)
                     .arg(chunkDeadline.count())};
}

Error AgentClient::Impl::outOfTime() const {
    return Error{
        QStringLiteral("link.timeout"),
        QStringLiteral("The transfer to %1 did not finish within its time budget.").arg(target)};
}

Result<quint64> AgentClient::Impl::offsetWithin(const QString& transferId,
                                                std::chrono::steady_clock::duration timeout) {
    Call call(*this, timeout);
    pb::UploadOffsetRequest request;
    request.set_transfer_id(transferId.toStdString());
    pb::UploadStatus reply;
    const grpc::Status status = stub->GetUploadOffset(&call.context, request, &reply);
    if (!status.ok())
        return fail(toError(status));
    return reply.received();
}

Result<qint64> AgentClient::Impl::waitConfirmed(const QString& transferId, qint64 wanted,
                                                Clock::time_point due) {
    pb::UploadOffsetRequest request;
    request.set_transfer_id(transferId.toStdString());
    auto pause = 0ms;
    for (;;) {
        if (cancelled) {
            return fail(QStringLiteral("link.cancelled"),
                        QStringLiteral("The upload was cancelled."));
        }
        const auto left = due - Clock::now();
        if (left <= 0s)
            return fail(QStringLiteral("link.stalled"), QString());
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + left);
        pb::UploadStatus reply;
        const grpc::Status status = stub->GetUploadOffset(&context, request, &reply);
        if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
            return fail(QStringLiteral("link.stalled"), QString());
        if (!status.ok())
            return fail(toError(status));
        if (qint64(reply.received()) >= wanted)
            return qint64(reply.received());
        std::this_thread::sleep_for(pause);
        pause = std::clamp(pause * 2, 1ms, 20ms);
    }
}

Status AgentClient::Impl::streamUpload(QIODevice& file, const QString& transferId, qint64 total,
                                       qint64 position, qint64 chunkSize, int window,
                                       std::chrono::milliseconds chunkDeadline,
                                       Clock::time_point giveUpAt,
                                       const std::function<void(qint64, qint64)>& progress,
                                       qint64& handedOver) {
    handedOver = position;
    if (!file.seek(position)) {
        return fail(QStringLiteral("io.read-failed"),
                    QStringLiteral("Could not seek in the bundle to offset %1.").arg(position));
    }
    Call call(*this, std::max<std::chrono::system_clock::duration>(
                         std::chrono::duration_cast<std::chrono::system_clock::duration>(
                             giveUpAt - Clock::now()),
                         1ms));
    pb::UploadStatus reply;
    std::unique_ptr<grpc::ClientWriter<pb::UploadChunk>> writer =
        stub->Upload(&call.context, &reply);
    Watchdog watchdog(call.context);
    pb::UploadChunk chunk;
    chunk.set_transfer_id(transferId.toStdString());
    chunk.set_total_size(quint64(total));  // read by the agent from the first message only
    std::string& buffer = *chunk.mutable_data();
    // What the agent is known to hold. Up to `window` chunks travel unconfirmed, so a long
    // round trip does not stall the link and an interruption re-sends at most `window` chunks.
    qint64 confirmed = position;
    const qint64 unconfirmedBound = std::max(window - 1, 0) * chunkSize;
    Error interrupted;
    while (position < total && !cancelled) {
        const qint64 length = std::min(chunkSize, total - position);
        buffer.resize(size_t(length));  // the file is read straight into the message
        if (file.read(buffer.data(), length) != length) {
            interrupted =
                Error{QStringLiteral("io.read-failed"),
                      QStringLiteral("Could not read the bundle at offset %1.").arg(position)};
            break;
        }
        chunk.set_offset(quint64(position));
        auto due = std::min(Clock::now() + chunkDeadline, giveUpAt);
        watchdog.arm(due);
        const bool written = writer->Write(chunk);
        watchdog.disarm();
        if (!written)
            break;  // the agent ended the call or the watchdog did; Finish says why
        chunk.clear_total_size();
        position += length;
        handedOver = position;
        stats.bytesSent += length;
        if (progress) {
            const auto before = Clock::now();
            progress(position, total);
            due += Clock::now() - before;  // a slow observer is not a slow link
        }
        // The next chunk goes out only once the agent holds all but the last window - 1 of those
        // handed over (window 1: stop and wait).
        const qint64 mustHold = std::min(position - unconfirmedBound, total);
        if (confirmed >= mustHold)
            continue;
        auto held = waitConfirmed(transferId, mustHold, due);
        if (!held) {
            interrupted = held.error();
            if (interrupted.code == u"link.stalled")
                interrupted = Clock::now() >= giveUpAt ? outOfTime() : stalled(chunkDeadline);
            break;
        }
        confirmed = *held;
    }
    if (!interrupted.code.isEmpty())
        call.context.TryCancel();
    else
        writer->WritesDone();
    watchdog.arm(std::min(Clock::now() + chunkDeadline, giveUpAt));
    const grpc::Status status = writer->Finish();
    watchdog.disarm();
    if (!interrupted.code.isEmpty())
        return fail(interrupted);
    if (watchdog.fired())
        return fail(Clock::now() >= giveUpAt ? outOfTime() : stalled(chunkDeadline));
    if (!status.ok())
        return fail(toError(status));
    if (cancelled) {
        return fail(QStringLiteral("link.cancelled"), QStringLiteral("The upload was cancelled."));
    }
    if (qint64(reply.received()) != total) {
        return fail(QStringLiteral("link.protocol"),
                    QStringLiteral("The agent confirmed %1 of %2 bytes; upload again to resume.")
                        .arg(reply.received())
                        .arg(total));
    }
    return {};
}

Status AgentClient::upload(const QString& bundlePath, const QString& transferId, qint64 chunkSize,
                           const std::function<void(qint64, qint64)>& progress) {
    chunkSize = std::clamp<qint64>(chunkSize, 1, kMaxChunk);
    QFile file(bundlePath);
    if (!file.open(QIODevice::ReadOnly)) {
        return fail(QStringLiteral("io.read-failed"),
                    QStringLiteral("Could not read %1 (%2).").arg(bundlePath, file.errorString()));
    }
    const qint64 total = file.size();
    auto offset = uploadOffset(transferId);
    if (!offset)
        return fail(offset.error());
    const qint64 position = qint64(*offset);
    if (position > total) {
        return fail(QStringLiteral("link.protocol"),
                    QStringLiteral("The agent holds %1 bytes of a %2-byte bundle; the transfer id "
                                   "belongs to another file.")
                        .arg(position)
                        .arg(total));
    }
    if (progress)
        progress(position, total);
    if (position == total && total > 0)
        return {};
    qint64 handedOver = 0;
    return d->streamUpload(file, transferId, total, position, chunkSize, PushOptions{}.window,
                           PushOptions{}.chunkDeadline, Clock::now() + kLongCall, progress,
                           handedOver);
}

Status AgentClient::uploadResuming(const QString& bundlePath, const QString& transferId,
                                   const PushOptions& options,
                                   const std::function<void(qint64, qint64)>& progress) {
    d->stats = PushStats{};
    return d->resumeUpload(bundlePath, transferId, options, progress);
}

Status AgentClient::Impl::resumeUpload(const QString& bundlePath, const QString& transferId,
                                       const PushOptions& options,
                                       const std::function<void(qint64, qint64)>& progress) {
    const qint64 chunkSize = std::clamp<qint64>(options.chunkSize, 1, kMaxChunk);
    QFile file(bundlePath);
    if (!file.open(QIODevice::ReadOnly)) {
        return fail(QStringLiteral("io.read-failed"),
                    QStringLiteral("Could not read %1 (%2).").arg(bundlePath, file.errorString()));
    }
    const qint64 total = file.size();
    const auto started = Clock::now();
    const auto budgetEnd = started + options.retryBudget;
    auto backoff = options.retryBackoff;
    qint64 handedOver = -1;  // of the interrupted stream; -1 while none was interrupted
    qint64 lastOffset = -1;
    // Called after a retryable failure: pause, then go on with a fresh connection, or give up.
    const auto again = [&](const Error& why) -> Status {
        const bool attemptsLeft = stats.attempts < options.maxAttempts &&
                                  stats.connectFailures < options.maxConnectAttempts;
        if (cancelled || !attemptsLeft || Clock::now() + backoff >= budgetEnd) {
            if (cancelled)
                return fail(why);
            const auto spent =
                std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
            return fail(QStringLiteral("link.retry-budget-exhausted"),
                        QStringLiteral("Gave up sending the bundle to %1 after %2 upload attempts "
                                       "and %3 failed connection attempts in %4 s; last cause: "
                                       "%5 (%6) Check the network; a new push resumes where this "
                                       "one stopped.")
                            .arg(target)
                            .arg(stats.attempts)
                            .arg(stats.connectFailures)
                            .arg(double(spent.count()) / 1000.0, 0, 'f', 1)
                            .arg(why.code, why.message));
        }
        qCInfo(lcAgentClient).noquote()
            << "transfer interrupted (" << why.code << "); retrying in" << backoff.count() << "ms";
        std::this_thread::sleep_for(backoff);
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, 4s);
        reconnect();
        return {};
    };
    for (;;) {
        if (cancelled) {
            return fail(QStringLiteral("link.cancelled"),
                        QStringLiteral("The upload was cancelled."));
        }
        const auto left = budgetEnd - Clock::now();
        Result<quint64> offset =
            offsetWithin(transferId, std::clamp<Clock::duration>(left, 1ms, options.chunkDeadline));
        if (!offset) {
            if (!retryable(offset.error()))
                return fail(offset.error());
            ++stats.connectFailures;
            if (Status go = again(offset.error()); !go)
                return go;
            continue;
        }
        const qint64 position = qint64(*offset);
        if (position > total) {
            return fail(QStringLiteral("link.protocol"),
                        QStringLiteral("The agent holds %1 bytes of a %2-byte bundle; the "
                                       "transfer id belongs to another file.")
                            .arg(position)
                            .arg(total));
        }
        if (handedOver >= 0) {
            const qint64 resent = std::max<qint64>(0, handedOver - position);
            stats.resent << resent;
            stats.bytesResent += resent;
            handedOver = -1;
        }
        if (position > lastOffset && lastOffset >= 0)
            backoff = options.retryBackoff;  // the link works, if badly
        lastOffset = position;
        if (progress)
            progress(position, total);
        if (position == total && total > 0)
            return {};
        ++stats.attempts;
        Status sent = streamUpload(file, transferId, total, position, chunkSize,
                                   std::clamp(options.window, 1, kMaxWindow), options.chunkDeadline,
                                   budgetEnd, progress, handedOver);
        if (sent)
            return {};
        if (!retryable(sent.error()))
            return sent;
        ++stats.interruptions;
        stats.lastCause = sent.error().code;
        if (Status go = again(sent.error()); !go)
            return go;
    }
}

PushStats AgentClient::lastPushStats() const {
    return d->stats;
}

}  // namespace otafleet::agentclient
