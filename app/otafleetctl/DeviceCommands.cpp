// otafleetctl device ...: talk to one otafleet-agent directly over the LAN (gRPC/TLS).
#include "Cli.h"

#include "agentclient/AgentClient.h"

#include <QJsonArray>

#include <atomic>
#include <csignal>
#include <optional>
#include <thread>

#include <pthread.h>

namespace otafleet::cli {
namespace {

using agentclient::AgentClient;
using agentclient::AgentInfo;

const QCommandLineOption kTarget(QStringLiteral("target"), QStringLiteral("The agent's address."),
                                 QStringLiteral("HOST:PORT"));
const QCommandLineOption kPki(QStringLiteral("pki"),
                              QStringLiteral("PKI directory: its root CA and operator identity."),
                              QStringLiteral("PKI"));
const QCommandLineOption kCa(QStringLiteral("ca"),
                             QStringLiteral("Root CA PEM the agent's "
                                            "certificate chains to."),
                             QStringLiteral("FILE"));
const QCommandLineOption kCert(QStringLiteral("cert"),
                               QStringLiteral("Operator client certificate PEM (with chain)."),
                               QStringLiteral("FILE"));
const QCommandLineOption kKey(QStringLiteral("key"), QStringLiteral("Operator client key PEM."),
                              QStringLiteral("FILE"));
const QCommandLineOption kJson(QStringLiteral("json"), QStringLiteral("Print JSON."));
const QCommandLineOption kNoReboot(QStringLiteral("no-reboot"),
                                   QStringLiteral("Stop after installing (push) or after marking "
                                                  "the other slot (rollback)."));
const QCommandLineOption kNoCommit(QStringLiteral("no-commit"),
                                   QStringLiteral("Stop after the trial boot's health check; the "
                                                  "device reverts unless committed."));
const QCommandLineOption kReplacePending(
    QStringLiteral("replace-pending"),
    QStringLiteral("When another release waits for a reboot or runs on trial, discard it (a "
                   "running trial is rolled back with a reboot first) instead of refusing with "
                   "push.other-release-pending."));
const QCommandLineOption kRebootTimeout(QStringLiteral("reboot-timeout"),
                                        QStringLiteral("Seconds to wait for the device to come "
                                                       "back after a reboot."),
                                        QStringLiteral("S"), QStringLiteral("60"));
const QCommandLineOption kChunkDeadline(QStringLiteral("chunk-deadline"),
                                        QStringLiteral("Milliseconds the device may take to "
                                                       "confirm a chunk before the transfer "
                                                       "resumes on a new connection."),
                                        QStringLiteral("MS"), QStringLiteral("15000"));
const QCommandLineOption kMaxAttempts(QStringLiteral("max-attempts"),
                                      QStringLiteral("Give up after this many interrupted "
                                                     "transfers or failed connection attempts."),
                                      QStringLiteral("N"), QStringLiteral("10"));
const QCommandLineOption kRetryBudget(QStringLiteral("retry-budget"),
                                      QStringLiteral("Give up when the transfer, retries "
                                                     "included, has taken this many seconds."),
                                      QStringLiteral("S"), QStringLiteral("1800"));
const QCommandLineOption kChunk(QStringLiteral("chunk-size"),
                                QStringLiteral("Upload chunk in KiB (at most 1024)."),
                                QStringLiteral("KIB"), QStringLiteral("256"));
const QCommandLineOption kWindow(QStringLiteral("window"),
                                 QStringLiteral("Most chunks in flight before the device confirms "
                                                "them (1 to 64, default 64); fewer travel while "
                                                "the link's round trip needs fewer. An "
                                                "interruption re-sends at most this many chunks."),
                                 QStringLiteral("N"), QStringLiteral("64"));

const QCommandLineOption kAck(QStringLiteral("ack"),
                              QStringLiteral("Acknowledge the events shown, so the device forgets "
                                             "them (without it they are shown again next time)."));
const QCommandLineOption kMaxEvents(QStringLiteral("max"),
                                    QStringLiteral("Fetch at most N events (1-100000)."),
                                    QStringLiteral("N"), QStringLiteral("1000"));
const QCommandLineOption kAfter(QStringLiteral("after"),
                                QStringLiteral("Only events after sequence number SEQ."),
                                QStringLiteral("SEQ"), QStringLiteral("0"));

QList<QCommandLineOption> connectionOptions() {
    return {kTarget, kPki, kCa, kCert, kKey, kJson};
}

Result<std::unique_ptr<AgentClient>> connect(const QCommandLineParser& p) {
    if (!p.isSet(kTarget)) {
        return fail(QStringLiteral("cli.usage"), QStringLiteral("--target HOST:PORT is required."));
    }
    Result<agentclient::TlsIdentity> identity;
    if (p.isSet(kPki)) {
        identity = agentclient::TlsIdentity::fromPkiDirectory(p.value(kPki));
    } else if (p.isSet(kCa) && p.isSet(kCert) && p.isSet(kKey)) {
        identity = agentclient::TlsIdentity::fromFiles(p.value(kCa), p.value(kCert), p.value(kKey));
    } else {
        return fail(QStringLiteral("cli.usage"),
                    QStringLiteral("Give --pki PKI, or --ca, --cert and --key, so the agent and "
                                   "this operator can prove who they are."));
    }
    if (!identity) {
        return std::unexpected(identity.error());
    }
    return AgentClient::create(p.value(kTarget), *identity);
}

QString describe(const AgentInfo& info) {
    QString text = QStringLiteral("%1 (%2, %3 %4), agent %5\n")
                       .arg(info.name, info.deviceId, info.model, info.hardware, info.agentVersion);
    text += QStringLiteral("state %1, running slot %2%3, boot #%4, health %5\n")
                .arg(info.state, info.activeSlot,
                     info.trial ? QStringLiteral(" ON TRIAL (%1 tries left)").arg(info.triesLeft)
                                : QString())
                .arg(info.bootCount)
                .arg(info.healthOk ? QStringLiteral("ok") : QStringLiteral("failing"));
    for (const auto& slot : info.slots) {
        text +=
            QStringLiteral("  slot %1  %2  %3  security %4\n")
                .arg(
                    slot.name, slot.state.leftJustified(9),
                    (slot.version.isEmpty() ? QStringLiteral("-") : slot.version).leftJustified(12))
                .arg(slot.securityVersion);
    }
    if (!info.lastErrorCode.isEmpty()) {
        text +=
            QStringLiteral("last error: %1 [%2]\n").arg(info.lastErrorMessage, info.lastErrorCode);
    }
    return text;
}

int report(const Result<AgentInfo>& info, const QCommandLineParser& p, const QString& headline) {
    if (!info) {
        return failWith(info.error(), p.isSet(kJson));
    }
    if (p.isSet(kJson)) {
        printJson(info->toJson());
    } else {
        printText(headline.isEmpty() ? describe(*info)
                                     : headline + QLatin1Char('\n') + describe(*info));
    }
    return kSuccess;
}

// Ctrl-C and SIGTERM cancel the running call cleanly instead of killing the process mid-write.
// The signals are blocked before gRPC starts its threads and taken by one watcher thread with
// sigtimedwait, so nothing runs in signal context (AgentClient::cancel takes a mutex).
class InterruptWatcher {
public:
    // The caller has blocked SIGINT and SIGTERM in every thread (see withClient).
    explicit InterruptWatcher(AgentClient& client) : m_client(client) {
        sigemptyset(&m_signals);
        sigaddset(&m_signals, SIGINT);
        sigaddset(&m_signals, SIGTERM);
        m_thread = std::thread([this] { watch(); });
    }
    InterruptWatcher(const InterruptWatcher&) = delete;
    InterruptWatcher& operator=(const InterruptWatcher&) = delete;
    ~InterruptWatcher() {
        m_stop = true;
        m_thread.join();
    }
    [[nodiscard]] bool interrupted() const { return m_interrupted; }

private:
    void watch() {
        constexpr timespec kPoll{0, 100'000'000};
        while (!m_stop) {
            if (sigtimedwait(&m_signals, nullptr, &kPoll) > 0) {
                m_interrupted = true;
                m_client.cancel();
            }
        }
    }

    AgentClient& m_client;
    sigset_t m_signals{};
    std::atomic<bool> m_stop{false};
    std::atomic<bool> m_interrupted{false};
    std::thread m_thread;
};

// Runs `body` with a connected client that Ctrl-C cancels.
int withClient(const QCommandLineParser& p, const std::function<int(AgentClient&)>& body) {
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGINT);
    sigaddset(&blocked, SIGTERM);
    sigset_t previous;
    pthread_sigmask(SIG_BLOCK, &blocked, &previous);  // before gRPC creates any thread
    auto client = connect(p);
    if (!client) {
        pthread_sigmask(SIG_SETMASK, &previous, nullptr);
        return client.error().code == QLatin1String("cli.usage")
                   ? usageError(client.error().message)
                   : failWith(client.error(), p.isSet(kJson));
    }
    int rc = kFailure;
    {
        InterruptWatcher watcher(**client);
        rc = body(**client);
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return rc;
}

// --reboot-timeout, checked the same way for every command that waits for a reboot.
std::optional<std::chrono::seconds> rebootTimeout(const QCommandLineParser& p) {
    bool ok = false;
    const int seconds = p.value(kRebootTimeout).toInt(&ok);
    if (!ok || seconds < 1 || seconds > 3600) {
        return std::nullopt;
    }
    return std::chrono::seconds(seconds);
}

const QString kBadTimeout =
    QStringLiteral("--reboot-timeout takes a number of seconds from 1 to 3600");

int runInfo(const QCommandLineParser& p) {
    return withClient(p, [&](AgentClient& c) { return report(c.info(), p, {}); });
}

int runPush(const QCommandLineParser& p) {
    const QStringList positional = p.positionalArguments();
    if (positional.size() != 1) {
        return usageError(QStringLiteral("device push takes exactly one bundle file"));
    }
    agentclient::PushOptions options;
    options.reboot = !p.isSet(kNoReboot);
    options.commit = options.reboot && !p.isSet(kNoCommit);
    options.replacePending = p.isSet(kReplacePending);
    bool ok = false;
    const int chunkKiB = p.value(kChunk).toInt(&ok);
    if (!ok || chunkKiB < 1 || chunkKiB > 1024) {
        return usageError(QStringLiteral("--chunk-size takes a number of KiB from 1 to 1024"));
    }
    options.chunkSize = static_cast<qint64>(chunkKiB) * 1024;
    const int window = p.value(kWindow).toInt(&ok);
    if (!ok || window < 1 || window > 64) {
        return usageError(QStringLiteral("--window takes a number of chunks from 1 to 64"));
    }
    options.window = window;
    const auto timeout = rebootTimeout(p);
    if (!timeout) {
        return usageError(kBadTimeout);
    }
    options.rebootTimeout = *timeout;
    const int deadlineMs = p.value(kChunkDeadline).toInt(&ok);
    const int attempts = ok ? p.value(kMaxAttempts).toInt(&ok) : 0;
    const int budget = ok ? p.value(kRetryBudget).toInt(&ok) : 0;
    if (!ok || deadlineMs < 100 || attempts < 1 || attempts > 1000 || budget < 1) {
        return usageError(
            QStringLiteral("--chunk-deadline takes milliseconds (at least 100), "
                           "--max-attempts 1 to 1000, --retry-budget seconds"));
    }
    options.chunkDeadline = std::chrono::milliseconds(deadlineMs);
    options.maxAttempts = attempts;
    options.maxConnectAttempts = attempts;
    options.retryBudget = std::chrono::seconds(budget);
    return withClient(p, [&](AgentClient& c) {
        ProgressPrinter progress(QStringLiteral("Uploading"));
        auto result = c.push(positional.first(), options,
                             [&](agentclient::PushPhase phase, qint64 done, qint64 total) {
                                 progress.setLabel(agentclient::phaseName(phase));
                                 progress.update(done, total);
                             });
        progress.finish();
        QString headline;
        if (result) {
            headline = !options.reboot ? QStringLiteral(
                                             "Installed; the device runs it after a "
                                             "reboot ('otafleetctl device reboot').")
                       : !options.commit ? QStringLiteral(
                                               "Running on trial with a passing health "
                                               "check; 'otafleetctl device commit' "
                                               "keeps it.")
                                         : QStringLiteral("Updated and committed.");
        }
        return report(result, p, headline);
    });
}

int runCommit(const QCommandLineParser& p) {
    return withClient(
        p, [&](AgentClient& c) { return report(c.commit(), p, QStringLiteral("Committed.")); });
}

int runRollback(const QCommandLineParser& p) {
    const auto timeout = rebootTimeout(p);
    if (!timeout) {
        return usageError(kBadTimeout);
    }
    const bool reboot = !p.isSet(kNoReboot);
    return withClient(p, [&](AgentClient& c) {
        // With a reboot, the client waits until the device runs the other slot: one reboot.
        return report(c.rollback(reboot, *timeout), p,
                      reboot ? QStringLiteral("Rolled back.")
                             : QStringLiteral("The other slot boots after the next reboot."));
    });
}

int runReboot(const QCommandLineParser& p) {
    const auto timeout = rebootTimeout(p);
    if (!timeout) {
        return usageError(kBadTimeout);
    }
    return withClient(p, [&](AgentClient& c) {
        return report(c.rebootAndWait(*timeout), p, QStringLiteral("Rebooted."));
    });
}

// Fetches up to --max events in agent-sized batches, prints them, and with --ack acknowledges
// exactly what was printed (events recorded meanwhile stay queued).
int runEvents(const QCommandLineParser& p) {
    bool ok = false;
    const qint64 max = p.value(kMaxEvents).toLongLong(&ok);
    bool afterOk = false;
    const quint64 after = p.value(kAfter).toULongLong(&afterOk);
    if (!ok || max < 1 || max > 100000 || !afterOk) {
        return usageError(
            QStringLiteral("--max takes a number from 1 to 100000, --after a sequence number"));
    }
    constexpr qint64 kBatch = 256;
    return withClient(p, [&](AgentClient& c) {
        agentclient::AgentEventBatch all;
        quint64 cursor = after;
        while (all.events.size() < max) {
            auto batch = c.events(cursor, quint32(std::min(kBatch, max - all.events.size())));
            if (!batch)
                return failWith(batch.error(), p.isSet(kJson));
            all.events += batch->events;
            all.droppedTotal = batch->droppedTotal;
            all.lastSeq = batch->lastSeq;
            all.ackedSeq = batch->ackedSeq;
            all.more = batch->more;
            if (batch->events.isEmpty() || !batch->more)
                break;
            cursor = batch->events.last().seq;
        }
        if (p.isSet(kAck) && !all.events.isEmpty()) {
            auto acked = c.ackEvents(all.events.last().seq);
            if (!acked)
                return failWith(acked.error(), p.isSet(kJson));
            all.ackedSeq = acked->ackedSeq;
        }
        if (p.isSet(kJson)) {
            QJsonArray events;
            for (const auto& e : all.events)
                events.append(e.toJson());
            printJson(QJsonObject{{QStringLiteral("events"), events},
                                  {QStringLiteral("dropped_total"), double(all.droppedTotal)},
                                  {QStringLiteral("last_seq"), double(all.lastSeq)},
                                  {QStringLiteral("acked_seq"), double(all.ackedSeq)},
                                  {QStringLiteral("more"), all.more}});
            return int(kSuccess);
        }
        QString text;
        for (const auto& e : all.events)
            text += e.describe() + u'\n';
        text += all.events.isEmpty()
                    ? QStringLiteral("No unacknowledged events.\n")
                    : QStringLiteral("%1 event(s)%2.\n")
                          .arg(all.events.size())
                          .arg(all.more ? QStringLiteral(", more remain (--max)") : QString());
        if (all.droppedTotal > 0) {
            text += QStringLiteral(
                        "The device's full event queue discarded %1 event(s) before "
                        "they were fetched; fetch more often or raise [telemetry] "
                        "max_bytes.\n")
                        .arg(all.droppedTotal);
        }
        if (p.isSet(kAck))
            text += QStringLiteral("Acknowledged through #%1.\n").arg(all.ackedSeq);
        printText(text);
        return int(kSuccess);
    });
}

Command deviceCommand(const QString& name, const QString& summary, const QString& synopsis,
                      QList<QCommandLineOption> extra,
                      std::function<int(const QCommandLineParser&)> run) {
    return Command{QStringLiteral("device"),
                   name,
                   summary,
                   synopsis,
                   [extra, synopsis](QCommandLineParser& p) {
                       p.addOptions(connectionOptions());
                       p.addOptions(extra);
                       if (!synopsis.isEmpty()) {
                           p.addPositionalArgument(QStringLiteral("bundle"),
                                                   QStringLiteral("The signed .otab to install."));
                       }
                   },
                   std::move(run)};
}

}  // namespace

QList<Command> deviceCommands() {
    return {
        deviceCommand(QStringLiteral("info"),
                      QStringLiteral("Show a device's identity, slots, boot state and health."), {},
                      {}, runInfo),
        deviceCommand(QStringLiteral("push"),
                      QStringLiteral("Update a device: transfer (resumable), install, reboot, "
                                     "health check, commit. Run again after an interruption, it "
                                     "continues from where the device stands."),
                      QStringLiteral("B.otab"),
                      {kNoReboot, kNoCommit, kReplacePending, kRebootTimeout, kChunk, kWindow,
                       kChunkDeadline, kMaxAttempts, kRetryBudget},
                      runPush),
        deviceCommand(QStringLiteral("commit"),
                      QStringLiteral("Keep the firmware a device runs on trial."), {}, {},
                      runCommit),
        deviceCommand(QStringLiteral("rollback"),
                      QStringLiteral("Return a device to the firmware in its other slot."), {},
                      {kNoReboot, kRebootTimeout}, runRollback),
        deviceCommand(QStringLiteral("reboot"),
                      QStringLiteral("Reboot a device and wait until it answers again."), {},
                      {kRebootTimeout}, runReboot),
        deviceCommand(QStringLiteral("events"),
                      QStringLiteral("Show a device's telemetry events (update phases with "
                                     "durations and throughput, boots, health checks, free space, "
                                     "system metrics) oldest first; --ack removes them from the "
                                     "device."),
                      {}, {kAck, kMaxEvents, kAfter}, runEvents),
    };
}

}  // namespace otafleet::cli
