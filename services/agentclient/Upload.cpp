// Uploads: one stream of chunks (a window of them in flight, with a per-chunk deadline) and the
// resuming loop around it that reconnects after network trouble until its retry budget is spent.
#include "AgentClientPrivate.h"

#include <QFile>

#include <algorithm>
#include <condition_variable>
#include <vector>

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

// Asks the agent how much of a transfer it holds while chunks are in flight, on threads of its
// own, so the writer does not stop for a round trip whenever it needs a confirmation. It asks
// once more than `early` bytes are unconfirmed, and keeps asking while that holds, with several
// questions in flight spaced a fraction of a round trip apart: an answer only counts the chunks
// that reached the agent before its question did, so with one question per round trip the
// chunks sent right after an answer would wait for the answer after next, and a long round trip
// would get half of the window's throughput.
class AgentClient::Impl::Confirmer {
public:
    Confirmer(Impl& impl, const QString& transferId, qint64 confirmed, qint64 early)
        : m_impl(impl), m_confirmed(confirmed), m_handedOver(confirmed), m_early(early) {
        m_request.set_transfer_id(transferId.toStdString());
        for (int i = 0; i < kAskers; ++i)
            m_threads.emplace_back([this] { run(); });
    }
    ~Confirmer() {
        {
            std::lock_guard lock(m_mutex);
            m_stop = true;
            for (grpc::ClientContext* asking : m_asking)
                asking->TryCancel();
        }
        m_wake.notify_all();
        for (std::thread& t : m_threads)
            t.join();
    }
    Confirmer(const Confirmer&) = delete;
    Confirmer& operator=(const Confirmer&) = delete;

    // The writer handed the bytes up to `position` to gRPC.
    void handedOver(qint64 position) {
        {
            std::lock_guard lock(m_mutex);
            m_handedOver = position;
        }
        m_wake.notify_all();
    }

    // How many bytes may travel unconfirmed, at most `most`: twice the link's bandwidth-delay
    // product (the best recent rate of confirmations times the shortest round trip), at least
    // `least`. While the window limits the rate, each round trip doubles it. A link with long round
    // trips gets the window it needs to stay busy; a short one does not fill the agent's memory
    // with chunks it has not written yet (on loopback the agent, not the link, sets the pace).
    [[nodiscard]] qint64 unconfirmedBound(qint64 least, qint64 most) {
        std::lock_guard lock(m_mutex);
        if (m_minRoundTrip == Clock::duration::max())
            return least;
        const double bdp = m_rate * std::chrono::duration<double>(m_minRoundTrip).count();
        return std::clamp(qint64(2 * bdp), least, most);
    }

    // What the agent holds once it holds `wanted` bytes; link.stalled when that takes past `due`.
    Result<qint64> wait(qint64 wanted, Clock::time_point due) {
        std::unique_lock lock(m_mutex);
        m_wanted = wanted;
        m_due = due;
        m_wake.notify_all();
        m_wake.wait_until(lock, due, [&] {
            return m_confirmed >= wanted || !m_error.code.isEmpty() || m_impl.cancelled;
        });
        m_wanted = 0;
        if (m_impl.cancelled) {
            return fail(QStringLiteral("link.cancelled"),
                        QStringLiteral("The upload was cancelled."));
        }
        if (m_confirmed >= wanted)
            return m_confirmed;
        if (!m_error.code.isEmpty())
            return fail(m_error);
        return fail(QStringLiteral("link.stalled"), QString());
    }

private:
    static constexpr int kAskers = 4;

    [[nodiscard]] bool needed() const {
        return m_wanted > m_confirmed || m_handedOver - m_confirmed > m_early;
    }

    void run() {
        std::unique_lock lock(m_mutex);
        while (!m_stop && m_error.code.isEmpty()) {
            if (!needed()) {
                m_wake.wait(lock);
                continue;
            }
            // The next question goes a quarter of a round trip after the last one (1 ms at
            // least), and not before a pause when the last answers brought nothing new (the
            // agent is writing).
            const auto next =
                m_lastAsked + std::max<Clock::duration>({m_roundTrip / kAskers, m_pause, 1ms});
            if (Clock::now() < next) {
                m_wake.wait_until(lock, next);
                continue;
            }
            m_lastAsked = Clock::now();
            grpc::ClientContext context;
            // A writer that waits allows until its chunk's deadline; an early question the
            // same (the next chunk's deadline is at least as late).
            const auto left = m_wanted > 0 ? m_due - Clock::now() : kShortCall;
            context.set_deadline(std::chrono::system_clock::now() +
                                 std::max<Clock::duration>(left, 1ms));
            m_asking.push_back(&context);
            const auto asked = Clock::now();
            lock.unlock();
            pb::UploadStatus reply;
            const grpc::Status status = m_impl.stub->GetUploadOffset(&context, m_request, &reply);
            lock.lock();
            std::erase(m_asking, &context);
            if (m_stop)
                break;
            if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
                m_error = Error{QStringLiteral("link.stalled"), QString()};
            } else if (!status.ok()) {
                m_error = m_impl.toError(status);
            } else {
                const auto took = Clock::now() - asked;
                m_roundTrip = (3 * m_roundTrip + took) / 4;
                m_minRoundTrip = std::min(m_minRoundTrip, took);
                const qint64 held = qint64(reply.received());
                // The rate over at least a round trip: the best recent one counts, older ones
                // fade.
                const auto now = Clock::now();
                if (m_sampleHeld < 0) {
                    m_sampleHeld = held;
                    m_sampleStart = now;
                } else if (now - m_sampleStart >= std::max<Clock::duration>(m_minRoundTrip, 5ms)) {
                    const double rate = double(held - m_sampleHeld) /
                                        std::chrono::duration<double>(now - m_sampleStart).count();
                    m_rate = std::max(rate, 0.9 * m_rate);
                    m_sampleHeld = held;
                    m_sampleStart = now;
                }
                m_pause = held > m_confirmed ? 0ms : std::clamp(m_pause * 2, 1ms, 20ms);
                m_confirmed = std::max(m_confirmed, held);
            }
            m_wake.notify_all();
        }
        m_wake.notify_all();
    }

    Impl& m_impl;
    pb::UploadOffsetRequest m_request;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    qint64 m_confirmed;
    qint64 m_handedOver;
    const qint64 m_early;
    qint64 m_wanted = 0;  // > 0 while the writer waits for it
    Clock::time_point m_due;
    Clock::time_point m_lastAsked;
    Clock::duration m_roundTrip{};  // of the questions, smoothed
    Clock::duration m_minRoundTrip = Clock::duration::max();
    qint64 m_sampleHeld = -1;  // where the current rate sample started
    Clock::time_point m_sampleStart;
    double m_rate = 0;  // bytes per second confirmed, recent best
    std::chrono::milliseconds m_pause{0};
    Error m_error;
    std::vector<grpc::ClientContext*> m_asking;
    bool m_stop = false;
    std::vector<std::thread> m_threads;  // last: they start once the rest is initialised
};

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
    // At most window - 1 chunks beyond the one being written travel unconfirmed, fewer while the
    // link's bandwidth-delay product needs fewer (Confirmer::unconfirmedBound), at least 7.
    const qint64 mostUnconfirmed = std::max(window - 1, 0) * chunkSize;
    const qint64 leastUnconfirmed = std::min<qint64>(7 * chunkSize, mostUnconfirmed);
    // Asks once a chunk is unconfirmed (declared after the writer: it stops first).
    Confirmer confirmer(*this, transferId, position, chunkSize - 1);
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
        confirmer.handedOver(position);
        stats.bytesSent += length;
        if (progress) {
            const auto before = Clock::now();
            progress(position, total);
            due += Clock::now() - before;  // a slow observer is not a slow link
        }
        // The next chunk goes out only once the agent holds all but the last window - 1 of those
        // handed over (window 1: stop and wait).
        const qint64 unconfirmedBound =
            confirmer.unconfirmedBound(leastUnconfirmed, mostUnconfirmed);
        const qint64 mustHold = std::min(position - unconfirmedBound, total);
        if (confirmed >= mustHold)
            continue;
        auto held = confirmer.wait(mustHold, due);
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
