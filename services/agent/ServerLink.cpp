#include "agent/ServerLink.h"

#include "agent/Enrollment.h"
#include "agent/Logging.h"
#include "agent/Telemetry.h"
#include "common/AtomicFile.h"
#include "crypto/Certificate.h"
#include "crypto/Sha256.h"
#include "rollout/Prechecks.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QStorageInfo>

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

namespace otafleet::agent {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string str(const QString& s) {
    return s.toStdString();
}
QString qs(const std::string& s) {
    return QString::fromStdString(s);
}

constexpr int kDefaultHeartbeatSeconds = 30;
constexpr int kMaxHeartbeatSeconds = 3600;
constexpr auto kInventoryDeadline = 20s;
constexpr int kTelemetryPerTick = 100;
constexpr quint64 kProgressStep = 1024 * 1024;  // downloading/installing reports at most this often
constexpr auto kRebootFlush = 5s;               // how long "rebooting" may take to leave
const QString kOfferFile = QStringLiteral("server-offer.json");

// How many links of this process may be connecting at once (TLS handshake and inventory): a
// simulate process of thousands of devices, or a fleet that rebooted together, must not open
// thousands of handshakes in the same instant, which starves the server and makes every one of
// them time out. A link that finds the gate full tries again after a short random wait; that
// is not a failure and does not grow its backoff.
class ConnectGate {
public:
    static constexpr int kMaxConnecting = 16;
    static ConnectGate& instance() {
        static ConnectGate gate;
        return gate;
    }
    [[nodiscard]] bool tryEnter() {
        int in = m_in.load();
        while (in < kMaxConnecting) {
            if (m_in.compare_exchange_weak(in, in + 1))
                return true;
        }
        return false;
    }
    void leave() { --m_in; }

private:
    std::atomic<int> m_in{0};
};

// The server's pushback: RESOURCE_EXHAUSTED or UNAVAILABLE with trailing metadata
// "retry-after-ms" (DeviceService::kRetryAfterKey) asks the device to wait at least that long.
std::chrono::milliseconds retryHint(const grpc::Status& status,
                                    const std::multimap<grpc::string_ref, grpc::string_ref>& meta) {
    if (status.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED &&
        status.error_code() != grpc::StatusCode::UNAVAILABLE) {
        return 0ms;
    }
    const auto it = meta.find("retry-after-ms");
    if (it == meta.end() || it->second.size() > 9)
        return 0ms;
    bool ok = false;
    const qint64 ms = QByteArray(it->second.data(), qsizetype(it->second.size())).toLongLong(&ok);
    return ok && ms > 0 ? std::chrono::milliseconds(std::min<qint64>(ms, 10 * 60 * 1000)) : 0ms;
}

// One thread for every link's timers in the process (heartbeats, reconnects): a few hundred
// simulated devices need no thread each. Tasks are short and never block.
class TimerQueue {
public:
    static TimerQueue& instance() {
        static TimerQueue queue;
        return queue;
    }
    void at(Clock::time_point when, const void* owner, std::function<void()> task) {
        std::lock_guard lock(m_mutex);
        m_tasks.emplace(when, Task{owner, std::move(task)});
        m_wake.notify_one();
    }
    // Drops the owner's pending tasks and waits for one of its tasks that runs right now. It
    // waits on its own condition variable: sharing the loop's would let it swallow the wake-up
    // that at() meant for the loop, which would then sleep through its tasks.
    void cancel(const void* owner) {
        std::unique_lock lock(m_mutex);
        std::erase_if(m_tasks, [owner](const auto& t) { return t.second.owner == owner; });
        m_finished.wait(lock, [&] { return m_running != owner; });
    }
    ~TimerQueue() {
        {
            std::lock_guard lock(m_mutex);
            m_stop = true;
            m_tasks.clear();
            m_wake.notify_all();
        }
        if (m_thread.joinable())
            m_thread.join();
    }

private:
    struct Task {
        const void* owner;
        std::function<void()> run;
    };
    TimerQueue() : m_thread([this] { loop(); }) {}
    void loop() {
        std::unique_lock lock(m_mutex);
        while (!m_stop) {
            if (m_tasks.empty()) {
                m_wake.wait(lock);
                continue;
            }
            auto first = m_tasks.begin();
            if (first->first > Clock::now()) {
                m_wake.wait_until(lock, first->first);
                continue;
            }
            Task task = std::move(first->second);
            m_tasks.erase(first);
            m_running = task.owner;
            lock.unlock();
            task.run();
            task.run = nullptr;
            lock.lock();
            m_running = nullptr;
            m_finished.notify_all();
        }
    }
    std::mutex m_mutex;
    std::condition_variable m_wake;      // the loop: a task was added or the queue stops
    std::condition_variable m_finished;  // cancel(): a task finished running
    std::multimap<Clock::time_point, Task> m_tasks;
    const void* m_running = nullptr;
    bool m_stop = false;
    std::thread m_thread;
};

QString activeVersion(const AgentReport& r) {
    for (const SlotReport& s : r.slots) {
        if (s.name == r.activeSlot && s.content)
            return s.content->version;
    }
    return {};
}

quint64 freeBytes(const QString& dir) {
    const QStorageInfo storage(dir);
    return storage.isValid() ? quint64(std::max<qint64>(storage.bytesAvailable(), 0)) : 0;
}

dpb::Inventory inventoryOf(const Agent& agent, const ServerLinkOptions& options) {
    const AgentConfig& c = agent.config();
    const AgentReport r = agent.report();
    dpb::Inventory inv;
    inv.set_device_id(str(c.deviceId));
    inv.set_name(str(c.name));
    inv.set_model(str(c.model));
    inv.set_hardware(str(c.hardware));
    inv.set_serial(str(options.serial));
    inv.set_version(str(activeVersion(r)));
    inv.set_agent_version(str(agentVersion()));
    inv.set_health_ok(r.healthOk);
    for (const SlotReport& s : r.slots) {
        dpb::Slot* slot = inv.add_slots();
        slot->set_name(str(s.name));
        slot->set_state(str(s.state));
        if (s.content) {
            slot->set_version(str(s.content->version));
            slot->set_security_version(s.content->securityVersion);
        }
    }
    if (options.batteryPercent)
        inv.set_battery_percent(quint32(std::clamp(*options.batteryPercent, 1, 100)));
    inv.set_free_bytes(freeBytes(c.dataDir));
    return inv;
}

dpb::TelemetryEvent toTelemetry(const v1::Event& event) {
    dpb::TelemetryEvent out;
    out.set_seq(event.seq());
    out.set_time_unix_ms(event.time_unix_ms());
    std::string json;
    google::protobuf::util::JsonPrintOptions print;
    print.preserve_proto_field_names = true;
    const google::protobuf::Message* kind = nullptr;
    switch (event.kind_case()) {
        case v1::Event::kPhase:
            out.set_type("phase");
            kind = &event.phase();
            break;
        case v1::Event::kBoot:
            out.set_type("boot");
            kind = &event.boot();
            break;
        case v1::Event::kHealth:
            out.set_type("health");
            kind = &event.health();
            break;
        case v1::Event::kMetrics:
            out.set_type("metrics");
            kind = &event.metrics();
            break;
        case v1::Event::kDropped:
            out.set_type("dropped");
            kind = &event.dropped();
            break;
        case v1::Event::KIND_NOT_SET:
            out.set_type("unknown");
            break;
    }
    if (kind && google::protobuf::util::MessageToJsonString(*kind, &json, print).ok())
        out.set_data_json(json);
    *out.mutable_event() = event;  // what otafleetd stores and aggregates (FleetTelemetry.h)
    return out;
}

// A transfer id for the upload store from an offer id of any shape.
QString transferIdFor(const QString& offerId) {
    const QString hex = crypto::Sha256::hex(crypto::Sha256::hash(offerId.toUtf8()));
    return QStringLiteral("offer-") + hex.left(32);
}

// Error codes that a retry of the same download will not change.
bool permanent(grpc::StatusCode code) {
    return code == grpc::StatusCode::INVALID_ARGUMENT || code == grpc::StatusCode::NOT_FOUND ||
           code == grpc::StatusCode::PERMISSION_DENIED ||
           code == grpc::StatusCode::FAILED_PRECONDITION ||
           code == grpc::StatusCode::UNAUTHENTICATED;
}

// Pre-checks of an offer: battery only where the device reports one; link quality is not
// measured by this agent, so a link check passes. A refusal names the check and says why.
std::optional<Error> refusedPrecheck(const rollout::Prechecks& checks, const Agent& agent,
                                     const ServerLinkOptions& options, quint64 size) {
    if (checks.minBatteryPercent && options.batteryPercent &&
        *options.batteryPercent < *checks.minBatteryPercent) {
        return Error{QStringLiteral("precheck.battery"),
                     QStringLiteral("battery at %1%, the rollout needs at least %2%")
                         .arg(*options.batteryPercent)
                         .arg(*checks.minBatteryPercent)};
    }
    if (checks.minFreeFactor || checks.minFreeBytes) {
        const quint64 need = checks.minFreeFactor
                                 ? quint64(std::ceil(*checks.minFreeFactor * double(size)))
                                 : quint64(*checks.minFreeBytes);
        const quint64 free = freeBytes(agent.config().dataDir);
        if (free < need) {
            return Error{QStringLiteral("precheck.free"),
                         QStringLiteral("%1 bytes free, the rollout needs %2").arg(free).arg(need)};
        }
    }
    if (checks.health && !agent.report().healthOk) {
        return Error{QStringLiteral("precheck.health"),
                     QStringLiteral("the device's health check does not pass")};
    }
    return std::nullopt;
}

Result<std::string> readPem(const QString& path) {
    auto bytes = readFileBounded(path, 1024 * 1024);
    if (!bytes) {
        return fail(QStringLiteral("agent.tls-unreadable"),
                    QStringLiteral("Could not read %1 (%2); fix the path in agent.conf.")
                        .arg(path, bytes.error().message));
    }
    return bytes->toStdString();
}

}  // namespace

OfferOutcome settleOffer(Agent& agent, const QString& version) {
    const AgentReport r = agent.report();
    const QString running = activeVersion(r);
    const auto lastError = [&](const QString& code, const QString& message) {
        return r.lastError ? OfferOutcome{QString(), r.lastError->code, r.lastError->message}
                           : OfferOutcome{QString(), code, message};
    };
    if (r.trial && running == version) {
        // The trial boot passed its health check (a failing one is reverted by the boot stage).
        if (auto ok = agent.commit(); !ok)
            return OfferOutcome{QStringLiteral("failed"), ok.error().code, ok.error().message};
        return OfferOutcome{QStringLiteral("succeeded"), {}, {}};
    }
    if (!r.trial && running == version && r.state != u"reverted")
        return OfferOutcome{QStringLiteral("succeeded"), {}, {}};
    if (r.state == u"reverted") {
        OfferOutcome o = lastError(QStringLiteral("agent.reverted"),
                                   QStringLiteral("Version %1 did not pass its trial boot; the "
                                                  "device went back to %2.")
                                       .arg(version, running));
        o.state = QStringLiteral("reverted");
        return o;
    }
    OfferOutcome o = lastError(QStringLiteral("agent.update-not-running"),
                               QStringLiteral("After the reboot the device runs version %1, not "
                                              "%2.")
                                   .arg(running, version));
    o.state = QStringLiteral("failed");
    return o;
}

Result<ServerLinkOptions> serverLinkOptions(const AgentConfig& config, const QString& configPath) {
    if (config.identityCertificate.isEmpty()) {
        return fail(QStringLiteral("agent.not-enrolled"),
                    QStringLiteral("[server] address is set but the agent has no device identity "
                                   "to dial with; run 'otafleet-agent enroll' first."));
    }
    auto identity = servedIdentity(config, configPath);
    if (!identity)
        return fail(identity.error());
    auto root = readPem(config.bundleRoot);
    if (!root)
        return fail(root.error());
    ServerLinkOptions o;
    o.address = config.serverAddress;
    o.rootPem = *root;
    o.certificateChainPem = identity->certificateChainPem;
    o.privateKeyPem = identity->privateKey;
    if (auto leaf = crypto::Certificate::fromPem(QByteArrayView(
            identity->certificateChainPem.data(), qsizetype(identity->certificateChainPem.size()))))
        o.serial = leaf->serialHex();
    return o;
}

namespace {

// gRPC 1.51 serves callback-API clients from one process-wide completion queue with its own
// "nexting" threads, counted by the channels that made a callback call: when the last such
// channel goes, the queue is shut down and its threads joined, and the next channel builds a
// new one. A link stopping while another starts (a reconnect, a test's next agent, the
// simulator's devices) raced that teardown inside gRPC and aborted the process
// (grpc_cq_internal_unref: prior > 0). One channel that never goes, and has made one callback
// call, keeps the queue for the life of the process.
void pinCallbackQueue() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct Pin {
            std::shared_ptr<grpc::Channel> channel;
            std::unique_ptr<dpb::DeviceService::Stub> stub;
            grpc::ClientContext context;
            dpb::Inventory request;
            dpb::InventoryAck reply;
        };
        // Never freed: the pin must outlive every link, including those stopped at exit.
        static Pin* pin = new Pin;
        pin->channel = grpc::CreateChannel("unix:/nonexistent/otafleet-callback-pin",
                                           grpc::InsecureChannelCredentials());
        pin->stub = dpb::DeviceService::NewStub(pin->channel);
        pin->context.set_deadline(std::chrono::system_clock::now());
        pin->stub->async()->ReportInventory(&pin->context, &pin->request, &pin->reply,
                                            [](const grpc::Status&) {});
    });
}

}  // namespace

std::shared_ptr<grpc::Channel> deviceChannel(const ServerLinkOptions& options) {
    pinCallbackQueue();
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = options.rootPem;
    tls.pem_cert_chain = options.certificateChainPem;
    tls.pem_private_key = options.privateKeyPem;
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(ServerLinkOptions::kMaxMessageBytes);
    args.SetMaxSendMessageSize(ServerLinkOptions::kMaxMessageBytes);
    // The link's own backoff decides when to try again; the channel must not wait longer.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, int(options.backoffInitial.count()));
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, int(options.backoffInitial.count()));
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, int(options.backoffMax.count()));
    return grpc::CreateCustomChannel(str(options.address), grpc::SslCredentials(tls), args);
}

Status downloadRelease(dpb::DeviceService::Stub& stub, Agent& agent, const QString& releaseId,
                       const QString& transferId, quint64 size,
                       const std::function<void(quint64, quint64)>& progress,
                       const DownloadControl& control) {
    const auto cancelled = [&] { return control.cancelled && control.cancelled(); };
    const auto cancelledError = [] {
        return fail(QStringLiteral("agent.download-cancelled"),
                    QStringLiteral("The download was stopped; what arrived stays staged and the "
                                   "next attempt resumes from there."));
    };
    agent.setReceiving(true);
    const auto notReceiving = qScopeGuard([&] { agent.setReceiving(false); });
    auto delay = control.retryDelay;
    QString lastProblem;
    for (int attempt = 1; attempt <= std::max(control.maxAttempts, 1); ++attempt) {
        auto staged = agent.uploadProgress(transferId);
        if (!staged)
            return fail(staged.error());
        if (staged->received > 0 && staged->total != size) {
            // A different bundle under this id: start over.
            agent.discardUpload(transferId);
            staged = agent.uploadProgress(transferId);
            if (!staged)
                return fail(staged.error());
        }
        quint64 offset = staged->received;
        if (offset >= size && size > 0)
            return agent.finishUpload(transferId);
        if (cancelled())
            return cancelledError();
        grpc::ClientContext context;
        // A minute, plus a second per 256 KiB still to come (slow links still finish).
        context.set_deadline(std::chrono::system_clock::now() + 60s +
                             std::chrono::seconds((size - offset) / (256 * 1024)));
        if (control.attempt)
            control.attempt(&context);
        dpb::DownloadRequest request;
        request.set_release_id(str(releaseId));
        request.set_offset(offset);
        auto reader = stub.Download(&context, request);
        dpb::DownloadChunk chunk;
        std::optional<Error> refused;
        bool stopped = false;
        while (reader->Read(&chunk)) {
            if (chunk.offset() != offset || chunk.total_size() != size) {
                refused = Error{QStringLiteral("agent.download-failed"),
                                QStringLiteral("The server sent bytes at offset %1 of %2 where "
                                               "%3 of %4 were expected; the release changed.")
                                    .arg(chunk.offset())
                                    .arg(chunk.total_size())
                                    .arg(offset)
                                    .arg(size)};
                break;
            }
            const std::string& data = chunk.data();
            auto next = agent.uploadChunk(transferId, size, offset,
                                          QByteArrayView(data.data(), qsizetype(data.size())));
            if (!next) {
                refused = next.error();
                break;
            }
            offset = next->received;
            if (progress)
                progress(offset, size);
            if (cancelled()) {
                stopped = true;
                break;
            }
        }
        if (refused || stopped)
            context.TryCancel();
        const grpc::Status status = reader->Finish();
        if (control.attempt)
            control.attempt(nullptr);  // the context ends with this attempt
        if (refused)
            return fail(*refused);
        if (stopped)
            return cancelledError();
        if (offset >= size)
            return agent.finishUpload(transferId);
        lastProblem =
            status.ok() ? QStringLiteral("the stream ended early") : qs(status.error_message());
        if (!status.ok() && permanent(status.error_code())) {
            const QString code =
                status.error_details().empty() ? QString() : qs(status.error_details());
            return fail(QStringLiteral("agent.download-failed"),
                        QStringLiteral("The server refused the download of release %1: %2%3")
                            .arg(releaseId, lastProblem,
                                 code.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(code)));
        }
        qCInfo(lcAgent).noquote() << QStringLiteral(
                                         "download of %1 broke at %2 of %3 bytes (%4); "
                                         "resuming")
                                         .arg(releaseId)
                                         .arg(offset)
                                         .arg(size)
                                         .arg(lastProblem);
        if (attempt < control.maxAttempts) {
            const auto until = Clock::now() + delay;
            while (Clock::now() < until && !cancelled())
                std::this_thread::sleep_for(50ms);
            delay *= 2;
        }
    }
    (void)agent.finishUpload(transferId);
    return fail(QStringLiteral("agent.download-failed"),
                QStringLiteral("The download of release %1 broke %2 times (%3); the next offer "
                               "resumes from what arrived.")
                    .arg(releaseId)
                    .arg(control.maxAttempts)
                    .arg(lastProblem));
}

// ---------------------------------------------------------------------------------------------

class SessionCall;

struct ServerLink::Impl : std::enable_shared_from_this<ServerLink::Impl> {
    Impl(Agent& a, ServerLinkOptions o, std::function<void()> r)
        : agent(a), options(std::move(o)), onReboot(std::move(r)) {
        channel = deviceChannel(options);
        stub = dpb::DeviceService::NewStub(channel);
    }

    Agent& agent;
    ServerLinkOptions options;
    std::function<void()> onReboot;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<dpb::DeviceService::Stub> stub;

    mutable std::mutex mutex;  // guards everything below
    std::condition_variable changed;
    bool started = false;
    bool stopped = false;
    int attempt = 0;  // connection attempts since the last healthy session
    int heartbeatSeconds = kDefaultHeartbeatSeconds;
    // The server acknowledges telemetry once stored (InventoryAck.acks_telemetry); an older one
    // does not, and then an event counts as delivered once the stream took it.
    bool serverAcksTelemetry = false;
    ServerLinkStats stats;
    // The ReportInventory call in flight.
    std::unique_ptr<grpc::ClientContext> inventoryContext;
    dpb::Inventory inventoryRequest;
    dpb::InventoryAck inventoryAck;
    bool inventoryPending = false;
    std::shared_ptr<SessionCall> session;
    quint64 generation = 0;
    std::mutex telemetryMutex;  // one forwarder at a time
    quint64 telemetrySent = 0;  // highest seq written on the current session
    // Final states not yet written to a session: sent on the next one.
    std::deque<dpb::Progress> unsentFinals;
    std::optional<dpb::Progress> settled;  // from server-offer.json
    // The offer worker.
    std::thread worker;
    bool busy = false;
    std::string runningOfferId;  // while busy
    // The last final state reported, by offer id: otafleetd offers an unfinished offer again on
    // every new session, and an offer this agent has finished is answered with its final state
    // again instead of being run twice.
    std::optional<dpb::Progress> lastFinal;
    grpc::ClientContext* downloadContext = nullptr;

    void connect();
    // `hint`: the server's retry-after (0 when it gave none).
    void scheduleReconnect(const QString& why, std::chrono::milliseconds hint = {});
    void openSession();
    void sessionEnded(SessionCall* call, const grpc::Status& status);
    void tick(quint64 gen);
    void sendTelemetry();
    void telemetryStored(quint64 seq);
    void report(const dpb::Progress& progress, std::function<void(bool)> written = {});
    void acceptOffer(const dpb::UpdateOffer& offer);
    void runOffer(const dpb::UpdateOffer& offer);
    void stop();
    [[nodiscard]] QString offerFile() const {
        return QDir(agent.config().dataDir).filePath(kOfferFile);
    }
    void loadSettled();
};

// The Session stream: messages are written one at a time from a queue; reads deliver offers.
// A hold keeps the call alive for writes until the read side ends; a read is always pending, so
// OnDone comes only after OnReadDone(false) closed the queue. The reactor owns itself (m_self)
// until OnDone, and whoever sends holds a shared_ptr, so a send never meets a freed call.
class SessionCall final : public grpc::ClientBidiReactor<dpb::AgentMessage, dpb::ServerMessage> {
public:
    static std::shared_ptr<SessionCall> create(std::shared_ptr<ServerLink::Impl> link,
                                               quint64 gen) {
        std::shared_ptr<SessionCall> call(new SessionCall(std::move(link), gen));
        call->m_self = call;
        return call;
    }

    void begin() {
        m_link->stub->async()->Session(&m_context, this);
        AddHold();
        StartRead(&m_in);
        StartCall();
    }
    quint64 generation() const { return m_generation; }
    void cancel() { m_context.TryCancel(); }
    // After the call ended: how long the server asked the device to wait.
    std::chrono::milliseconds retryAfter(const grpc::Status& status) const {
        return retryHint(status, m_context.GetServerTrailingMetadata());
    }

    // False when the stream is closed (`done` is then not called); else `done` runs later on a
    // gRPC thread once the message is written or dropped.
    bool send(dpb::AgentMessage message, std::function<void(bool)> done = {}) {
        std::lock_guard lock(m_mutex);
        if (m_closed)
            return false;
        m_queue.push_back({std::move(message), std::move(done)});
        next();
        return true;
    }

    void OnWriteDone(bool ok) override {
        std::function<void(bool)> done;
        {
            std::lock_guard lock(m_mutex);
            m_writing = false;
            done = std::move(m_current.done);
            if (ok)
                next();
        }
        if (done)
            done(ok);
    }
    void OnReadDone(bool ok) override {
        if (!ok) {
            std::deque<Pending> dropped;
            {
                std::lock_guard lock(m_mutex);
                m_closed = true;
                dropped.swap(m_queue);
            }
            for (Pending& p : dropped) {
                if (p.done)
                    p.done(false);
            }
            RemoveHold();
            return;
        }
        if (m_in.kind_case() == dpb::ServerMessage::kOffer) {
            m_link->acceptOffer(m_in.offer());
        } else if (m_in.kind_case() == dpb::ServerMessage::kTelemetryAck) {
            m_link->telemetryStored(m_in.telemetry_ack().seq());
        }
        StartRead(&m_in);
    }
    void OnDone(const grpc::Status& status) override {
        const std::shared_ptr<SessionCall> keep = std::move(m_self);
        m_link->sessionEnded(this, status);
    }

private:
    SessionCall(std::shared_ptr<ServerLink::Impl> link, quint64 gen)
        : m_link(std::move(link)), m_generation(gen) {}

    struct Pending {
        dpb::AgentMessage message;
        std::function<void(bool)> done;
    };
    // Called with m_mutex held.
    void next() {
        if (m_writing || m_closed || m_queue.empty())
            return;
        m_current = std::move(m_queue.front());
        m_queue.pop_front();
        m_writing = true;
        StartWrite(&m_current.message);
    }

    std::shared_ptr<SessionCall> m_self;
    std::shared_ptr<ServerLink::Impl> m_link;
    quint64 m_generation;
    grpc::ClientContext m_context;
    dpb::ServerMessage m_in;
    std::mutex m_mutex;
    std::deque<Pending> m_queue;
    Pending m_current;
    bool m_writing = false;
    bool m_closed = false;
};

// ---------------------------------------------------------------------------------------------

void ServerLink::Impl::connect() {
    {
        std::lock_guard lock(mutex);
        if (stopped || session || inventoryPending)
            return;
    }
    if (!ConnectGate::instance().tryEnter()) {
        const auto wait = std::chrono::milliseconds(QRandomGenerator::global()->bounded(50, 500));
        TimerQueue::instance().at(Clock::now() + wait, this,
                                  [self = shared_from_this()] { self->connect(); });
        return;
    }
    {
        std::lock_guard lock(mutex);
        if (stopped || session || inventoryPending) {
            ConnectGate::instance().leave();
            return;
        }
        inventoryPending = true;
        inventoryContext = std::make_unique<grpc::ClientContext>();
        inventoryContext->set_deadline(std::chrono::system_clock::now() + kInventoryDeadline);
        inventoryRequest = inventoryOf(agent, options);
        inventoryAck.Clear();
    }
    // Started outside the lock: the callback takes it.
    stub->async()->ReportInventory(
        inventoryContext.get(), &inventoryRequest, &inventoryAck,
        [self = shared_from_this()](grpc::Status status) {
            ConnectGate::instance().leave();  // the handshake is over, one way or the other
            // The call counts as pending until the session is opened (which touches the agent):
            // stop() waits for that, so the agent is never used after stop() returned.
            const auto done = qScopeGuard([&self] {
                std::lock_guard lock(self->mutex);
                self->inventoryPending = false;
                self->changed.notify_all();
            });
            {
                std::lock_guard lock(self->mutex);
                if (self->stopped)
                    return;
                if (status.ok()) {
                    const quint32 beat = self->inventoryAck.heartbeat_seconds();
                    self->heartbeatSeconds =
                        beat == 0 ? kDefaultHeartbeatSeconds
                                  : int(std::min<quint32>(beat, kMaxHeartbeatSeconds));
                    self->serverAcksTelemetry = self->inventoryAck.acks_telemetry();
                }
            }
            if (status.ok()) {
                self->openSession();
            } else {
                self->scheduleReconnect(
                    QStringLiteral("inventory refused: %1 (%2)")
                        .arg(qs(status.error_message()), qs(status.error_details())),
                    retryHint(status, self->inventoryContext->GetServerTrailingMetadata()));
            }
        });
}

// Jittered exponential backoff: the n-th attempt after a healthy session waits a random time
// between half and all of min(initial * 2^n, max), so a fleet that lost its server does not
// come back in one wave. Under the server's pushback the device waits the hinted time plus that
// backoff: a crowd told the same hint still spreads out, and the wait grows while the server
// keeps pushing back.
void ServerLink::Impl::scheduleReconnect(const QString& why, std::chrono::milliseconds hint) {
    std::chrono::milliseconds delay;
    {
        std::lock_guard lock(mutex);
        if (stopped)
            return;
        ++stats.connectFailures;
        stats.lastError = why;
        const double factor = std::pow(2.0, std::min(attempt, 20));
        const double ceiling = std::min(double(options.backoffMax.count()),
                                        double(options.backoffInitial.count()) * factor);
        const double jitter = 0.5 + 0.5 * QRandomGenerator::global()->generateDouble();
        delay = hint + std::chrono::milliseconds(qint64(ceiling * jitter));
        stats.lastBackoff = delay;
        ++attempt;
    }
    qCInfo(lcAgent).noquote()
        << QStringLiteral("server link: %1; next attempt in %2 ms").arg(why).arg(delay.count());
    TimerQueue::instance().at(Clock::now() + delay, this,
                              [self = shared_from_this()] { self->connect(); });
}

void ServerLink::Impl::openSession() {
    std::shared_ptr<SessionCall> call;
    std::deque<dpb::Progress> finals;
    std::optional<dpb::Progress> pendingSettled;
    quint64 gen = 0;
    int beat = 0;
    {
        std::lock_guard lock(mutex);
        if (stopped || session)
            return;
        gen = ++generation;
        call = SessionCall::create(shared_from_this(), gen);
        session = call;
        ++stats.sessions;
        stats.online = true;
        finals.swap(unsentFinals);
        pendingSettled = settled;
        beat = heartbeatSeconds;
    }
    {
        std::lock_guard lock(telemetryMutex);
        telemetrySent = 0;
    }
    call->begin();
    {
        std::lock_guard lock(mutex);
        if (stopped)
            call->cancel();  // stop() may have missed a call that had not started
    }
    qCInfo(lcAgent).noquote() << "server link: session open with" << options.address;
    dpb::AgentMessage inventory;
    *inventory.mutable_inventory() = inventoryOf(agent, options);
    call->send(inventory);
    if (pendingSettled) {
        // The outcome of the offer installed before the last reboot; the file goes only once
        // the server has it.
        dpb::AgentMessage m;
        *m.mutable_progress() = *pendingSettled;
        call->send(m, [self = shared_from_this()](bool ok) {
            if (!ok)
                return;
            std::lock_guard lock(self->mutex);
            if (self->settled) {
                QFile::remove(self->offerFile());
                self->lastFinal = self->settled;  // an offer sent again gets it once more
                self->settled.reset();
            }
        });
    }
    for (const dpb::Progress& p : finals)
        report(p);
    sendTelemetry();
    TimerQueue::instance().at(Clock::now() + std::chrono::seconds(beat), this,
                              [self = shared_from_this(), gen] { self->tick(gen); });
}

void ServerLink::Impl::tick(quint64 gen) {
    std::shared_ptr<SessionCall> call;
    int beat = 0;
    {
        std::lock_guard lock(mutex);
        if (stopped || !session || session->generation() != gen)
            return;
        call = session;
        beat = heartbeatSeconds;
    }
    dpb::AgentMessage m;
    m.mutable_heartbeat();
    // A heartbeat the server took proves the session healthy: the backoff starts over.
    call->send(m, [self = shared_from_this()](bool ok) {
        if (!ok)
            return;
        std::lock_guard lock(self->mutex);
        self->attempt = 0;
    });
    sendTelemetry();
    TimerQueue::instance().at(Clock::now() + std::chrono::seconds(beat), this,
                              [self = shared_from_this(), gen] { self->tick(gen); });
}

// Forwards queued telemetry. Events leave the agent's queue once the server says it stored
// them (telemetryStored); an unacknowledged event is sent again on the next session. With a
// server that does not acknowledge, once the session has written them.
void ServerLink::Impl::sendTelemetry() {
    std::shared_ptr<SessionCall> call;
    bool serverAcks = false;
    {
        std::lock_guard lock(mutex);
        if (stopped || !session)
            return;
        call = session;
        serverAcks = serverAcksTelemetry;
    }
    std::lock_guard lock(telemetryMutex);
    auto batch = agent.telemetry().batch(telemetrySent, kTelemetryPerTick);
    if (!batch || batch->events_size() == 0)
        return;
    for (const v1::Event& event : batch->events()) {
        dpb::AgentMessage m;
        *m.mutable_telemetry() = toTelemetry(event);
        const quint64 seq = event.seq();
        std::function<void(bool)> written;
        if (!serverAcks) {
            written = [self = shared_from_this(), seq](bool ok) {
                if (ok)
                    (void)self->agent.telemetry().ack(seq);
            };
        }
        const bool queued = call->send(m, std::move(written));
        if (!queued)
            return;
        telemetrySent = std::max(telemetrySent, seq);
    }
}

void ServerLink::Impl::telemetryStored(quint64 seq) {
    {
        std::lock_guard lock(mutex);
        if (stopped)
            return;
    }
    if (auto acked = agent.telemetry().ack(seq); !acked) {
        qCWarning(lcAgent).noquote()
            << "server link: telemetry ack refused:" << acked.error().toString();
    }
}

void ServerLink::Impl::sessionEnded(SessionCall* call, const grpc::Status& status) {
    bool reconnect = false;
    {
        std::lock_guard lock(mutex);
        if (session.get() == call) {
            session.reset();
            stats.online = false;
            reconnect = !stopped;
        }
        changed.notify_all();
    }
    if (reconnect) {
        scheduleReconnect(QStringLiteral("session ended: %1")
                              .arg(status.ok() ? QStringLiteral("closed by the server")
                                               : qs(status.error_message())),
                          call->retryAfter(status));
    }
}

// Reports one progress state: to the observer, and to the session. A final state that cannot be
// written now is kept for the next session.
void ServerLink::Impl::report(const dpb::Progress& progress, std::function<void(bool)> written) {
    if (options.onProgress)
        options.onProgress(progress);
    const bool final = progress.state() == "succeeded" || progress.state() == "failed" ||
                       progress.state() == "reverted" || progress.state() == "skipped";
    std::shared_ptr<SessionCall> call;
    {
        std::lock_guard lock(mutex);
        call = session;
        if (final && progress.error_code() != "agent.busy")
            lastFinal = progress;
    }
    dpb::AgentMessage m;
    *m.mutable_progress() = progress;
    const bool queued =
        call && call->send(m, [self = shared_from_this(), progress, final, written](bool ok) {
            if (!ok && final) {
                std::lock_guard lock(self->mutex);
                self->unsentFinals.push_back(progress);
            }
            if (written)
                written(ok);
        });
    if (queued)
        return;
    if (final) {
        std::lock_guard lock(mutex);
        unsentFinals.push_back(progress);
    }
    if (written)
        written(false);
}

void ServerLink::Impl::acceptOffer(const dpb::UpdateOffer& offer) {
    std::unique_lock lock(mutex);
    if (stopped)
        return;
    // The server offers an unfinished offer again after every reconnect: the one running goes
    // on (its progress follows), one already finished gets its final state again.
    if (busy && offer.offer_id() == runningOfferId)
        return;
    const auto finished = [&]() -> std::optional<dpb::Progress> {
        if (lastFinal && lastFinal->offer_id() == offer.offer_id())
            return lastFinal;
        if (settled && settled->offer_id() == offer.offer_id())
            return settled;
        return std::nullopt;
    }();
    if (finished) {
        lock.unlock();
        report(*finished);
        return;
    }
    if (busy) {
        lock.unlock();
        dpb::Progress p;
        p.set_offer_id(offer.offer_id());
        p.set_state("failed");
        p.set_error_code("agent.busy");
        p.set_error_message("The device is handling another offer; offer this one again later.");
        report(p);
        return;
    }
    busy = true;
    runningOfferId = offer.offer_id();
    if (worker.joinable())
        worker.join();  // the previous offer's worker has finished (busy was false)
    worker = std::thread([self = shared_from_this(), offer] {
        self->runOffer(offer);
        std::lock_guard done(self->mutex);
        self->busy = false;
        self->changed.notify_all();
    });
}

void ServerLink::Impl::runOffer(const dpb::UpdateOffer& offer) {
    const QString offerId = qs(offer.offer_id());
    const QString version = qs(offer.version());
    const quint64 size = offer.size();
    const auto make = [&](const char* state, quint64 done = 0, quint64 total = 0) {
        dpb::Progress p;
        p.set_offer_id(offer.offer_id());
        p.set_state(state);
        p.set_done(done);
        p.set_total(total);
        return p;
    };
    const auto finish = [&](const char* state, const Error& error) {
        dpb::Progress p = make(state);
        p.set_error_code(str(error.code));
        p.set_error_message(str(error.message));
        qCWarning(lcAgent).noquote()
            << QStringLiteral("offer %1 (version %2): %3: %4 %5")
                   .arg(offerId, version, QLatin1String(state), error.code, error.message);
        report(p);
    };
    const auto isStopped = [this] {
        std::lock_guard lock(mutex);
        return stopped;
    };
    qCInfo(lcAgent).noquote() << QStringLiteral("offer %1: release %2, version %3, %4 bytes")
                                     .arg(offerId, qs(offer.release_id()), version)
                                     .arg(size);

    if (offerId.isEmpty() || offerId.size() > 128 || version.isEmpty() || version.size() > 64 ||
        offer.release_id().empty() || offer.release_id().size() > 128 || size == 0 ||
        size > agent.config().maxBundleSize || offer.sha256().size() != 64) {
        finish("failed", Error{QStringLiteral("agent.offer-invalid"),
                               QStringLiteral("The offer lacks an id, release, version, size or "
                                              "SHA-256, or its bundle is larger than this agent "
                                              "accepts.")});
        return;
    }
    auto checks = rollout::Prechecks::parse(qs(offer.prechecks()));
    if (!checks) {
        finish("failed", checks.error());
        return;
    }
    if (auto refused = refusedPrecheck(*checks, agent, options, size)) {
        finish("skipped", *refused);
        return;
    }
    {
        const AgentReport r = agent.report();
        if (!r.trial && r.state == u"idle" && activeVersion(r) == version) {
            // Already running and committed (a retry after a lost report): nothing to install.
            report(make("succeeded"));
            return;
        }
    }

    const QString transferId = transferIdFor(offerId);
    quint64 reported = 0;
    report(make("downloading", 0, size));
    DownloadControl control;
    control.cancelled = isStopped;
    control.attempt = [this](grpc::ClientContext* c) {
        std::lock_guard lock(mutex);
        downloadContext = c;
    };
    const Status downloaded = downloadRelease(
        *stub, agent, qs(offer.release_id()), transferId, size,
        [&](quint64 done, quint64 total) {
            if (done - reported >= kProgressStep || done == total) {
                reported = done;
                report(make("downloading", done, total));
            }
        },
        control);
    {
        std::lock_guard lock(mutex);
        downloadContext = nullptr;
    }
    if (!downloaded) {
        if (!isStopped())
            finish("failed", downloaded.error());
        return;
    }

    report(make("verifying", 0, size));
    auto digest = crypto::Sha256::hashFile(agent.stagedBundlePath(transferId));
    const QString expected = qs(offer.sha256()).toLower();
    // The digest's own hex (Sha256::hex would hash it once more).
    const QString got = digest ? QString::fromLatin1(digest->toHex()) : QString();
    if (got != expected) {
        const qint64 staged = QFileInfo(agent.stagedBundlePath(transferId)).size();
        agent.discardUpload(transferId);
        finish("failed",
               Error{QStringLiteral("agent.download-corrupted"),
                     QStringLiteral("The downloaded bundle (%1 bytes, SHA-256 %2) does not have "
                                    "the SHA-256 the offer names (%3); it was discarded. Offer "
                                    "it again.")
                         .arg(staged)
                         .arg(got.left(16), expected.left(16))});
        return;
    }
    if (options.installDelay.count() > 0) {
        const auto until = Clock::now() + options.installDelay;
        while (Clock::now() < until && !isStopped())
            std::this_thread::sleep_for(20ms);
    }
    bool installing = false;
    reported = 0;
    const Status installed = agent.install(
        transferId,
        [&](const InstallEvent& e) {
            if (e.phase != InstallPhase::Writing && e.phase != InstallPhase::Finalizing)
                return;
            if (!installing || quint64(e.done) - reported >= kProgressStep ||
                e.phase == InstallPhase::Finalizing) {
                installing = true;
                reported = quint64(e.done);
                report(make("installing", quint64(e.done), quint64(e.total)));
            }
        },
        PendingRelease::Replace);
    if (!installed) {
        finish("failed", installed.error());
        return;
    }

    // Remembered across the reboot: after it, start() settles and reports the final state.
    const QJsonObject pending{{QStringLiteral("offer_id"), offerId},
                              {QStringLiteral("version"), version},
                              {QStringLiteral("rollout_id"), qs(offer.rollout_id())}};
    if (auto ok = writeFileAtomically(offerFile(), QJsonDocument(pending).toJson()); !ok) {
        finish("failed", ok.error());
        return;
    }
    auto flushed = std::make_shared<std::pair<std::mutex, std::condition_variable>>();
    auto done = std::make_shared<bool>(false);
    report(make("rebooting"), [flushed, done](bool) {
        std::lock_guard lock(flushed->first);
        *done = true;
        flushed->second.notify_all();
    });
    {
        std::unique_lock lock(flushed->first);
        flushed->second.wait_for(lock, kRebootFlush, [&] { return *done; });
    }
    agent.telemetry().milestone(v1::EVENT_PHASE_REBOOT, version, {}, agent.report().bootCount);
    qCInfo(lcAgent).noquote() << QStringLiteral("offer %1 installed; rebooting").arg(offerId);
    if (onReboot && !isStopped())
        onReboot();
}

void ServerLink::Impl::loadSettled() {
    auto bytes = readFileBounded(offerFile(), 64 * 1024);
    if (!bytes)
        return;
    QJsonObject o = QJsonDocument::fromJson(*bytes).object();
    const QString offerId = o.value(QStringLiteral("offer_id")).toString();
    const QString version = o.value(QStringLiteral("version")).toString();
    if (offerId.isEmpty() || version.isEmpty()) {
        QFile::remove(offerFile());
        return;
    }
    if (!o.contains(QStringLiteral("state"))) {
        // Decided once: a second start must not commit or judge again.
        const OfferOutcome outcome = settleOffer(agent, version);
        o.insert(QStringLiteral("state"), outcome.state);
        o.insert(QStringLiteral("error_code"), outcome.errorCode);
        o.insert(QStringLiteral("error_message"), outcome.errorMessage);
        if (auto ok = writeFileAtomically(offerFile(), QJsonDocument(o).toJson()); !ok)
            qCWarning(lcAgent).noquote() << ok.error().toString();
        qCInfo(lcAgent).noquote() << QStringLiteral("offer %1 (version %2) after the reboot: %3 %4")
                                         .arg(offerId, version, outcome.state, outcome.errorCode);
    }
    dpb::Progress p;
    p.set_offer_id(str(offerId));
    p.set_state(str(o.value(QStringLiteral("state")).toString()));
    p.set_error_code(str(o.value(QStringLiteral("error_code")).toString()));
    p.set_error_message(str(o.value(QStringLiteral("error_message")).toString()));
    if (options.onProgress)
        options.onProgress(p);
    std::lock_guard lock(mutex);
    settled = p;
}

void ServerLink::Impl::stop() {
    {
        std::lock_guard lock(mutex);
        if (stopped)
            return;
        stopped = true;
        if (session)
            session->cancel();
        if (inventoryContext && inventoryPending)
            inventoryContext->TryCancel();
        if (downloadContext)
            downloadContext->TryCancel();
    }
    TimerQueue::instance().cancel(this);
    if (worker.joinable() && worker.get_id() != std::this_thread::get_id())
        worker.join();
    else if (worker.joinable())
        worker.detach();
    std::unique_lock lock(mutex);
    changed.wait(lock, [this] { return !session && !inventoryPending; });
    // No call is left: the channel goes now, on the stopping thread. Its last reference must
    // never drop on one of gRPC's own threads (a reaction or a timer task holding the link to
    // the end): the channel's destructor releases the callback completion queue, and on the
    // thread that serves that queue this corrupted it (grpc_cq_internal_unref: prior > 0).
    std::unique_ptr<dpb::DeviceService::Stub> lastStub = std::move(stub);
    std::shared_ptr<grpc::Channel> lastChannel = std::move(channel);
    lock.unlock();
}

ServerLink::ServerLink(Agent& agent, ServerLinkOptions options, std::function<void()> onReboot)
    : d(std::make_shared<Impl>(agent, std::move(options), std::move(onReboot))) {}

ServerLink::~ServerLink() {
    stop();
}

void ServerLink::start() {
    {
        std::lock_guard lock(d->mutex);
        if (d->started || d->stopped)
            return;
        d->started = true;
    }
    d->loadSettled();
    d->connect();
}

void ServerLink::stop() {
    d->stop();
}

ServerLinkStats ServerLink::stats() const {
    std::lock_guard lock(d->mutex);
    return d->stats;
}

void ServerLink::handleOffer(const dpb::UpdateOffer& offer) {
    d->acceptOffer(offer);
}

bool ServerLink::waitForOffers(std::chrono::milliseconds timeout) {
    std::unique_lock lock(d->mutex);
    return d->changed.wait_for(lock, timeout, [this] { return !d->busy; });
}

}  // namespace otafleet::agent
