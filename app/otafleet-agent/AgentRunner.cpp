#include "AgentRunner.h"

#include "agent/Agent.h"
#include "agent/AgentConfig.h"
#include "agent/AgentService.h"
#include "agent/Enrollment.h"
#include "agent/Logging.h"
#include "agent/ServerLink.h"
#include "agent/SmpSerialService.h"
#include "agent/Telemetry.h"
#include "common/AtomicFile.h"

#include <QFile>

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <linux/close_range.h>
#include <malloc.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace otafleet::agent {
namespace {

enum class Stop { None, Signal, Reboot };

struct StopFlag {
    std::mutex mutex;
    std::condition_variable cv;
    Stop reason = Stop::None;

    void request(Stop r) {
        std::lock_guard lock(mutex);
        if (reason == Stop::None)
            reason = r;
        cv.notify_all();
    }
    // Stop::None after `timeout` without a request.
    Stop waitFor(std::chrono::seconds timeout) {
        std::unique_lock lock(mutex);
        cv.wait_for(lock, timeout, [this] { return reason != Stop::None; });
        return reason;
    }
};

Result<std::string> readPem(const QString& path) {
    auto bytes = readFileBounded(path, 1024 * 1024);
    if (!bytes) {
        return fail(
            QStringLiteral("agent.tls-unreadable"),
            QStringLiteral("Could not read %1 (%2); run 'otafleet-agent setup' again or fix "
                           "the [tls] paths.")
                .arg(path, bytes.error().message));
    }
    return bytes->toStdString();
}

// A device agent idles for weeks between updates and streams bundles in chunks of up to 1 MiB
// on gRPC's threads. glibc's defaults suit servers, not that: every thread that allocates gets
// its own arena, and the first large block freed (a file read buffer at start) lifts the
// dynamic mmap threshold to its size, so chunk buffers come from those arenas and stay resident
// after the transfer (tests/bench/bench_push.sh: 3 MiB more RSS while streaming, 1 MiB more
// idle). One arena and fixed thresholds give large buffers back to the kernel when freed; the
// agent allocates too little for arena lock contention to show (push throughput unchanged).
void boundAllocatorFootprint() {
    constexpr int kMmapThreshold = 128 * 1024;  // glibc's initial value, kept fixed
    constexpr int kTrimThreshold = 256 * 1024;
    mallopt(M_ARENA_MAX, 1);
    mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
    mallopt(M_TRIM_THRESHOLD, kTrimThreshold);
}

// Starting touches far more of the shared libraries than serving does: the dynamic loader reads
// every library's symbol and relocation tables (all of them are linked with BIND_NOW, QtCore's
// ICU included), and OpenSSL, gRPC and Qt run code once to set up. Those pages stay mapped and
// count as the agent's RSS although nothing idle uses them (tests/bench/bench_push.sh: 24 of
// 27 MiB were such file pages). Dropping them from this process's page tables costs nothing:
// they are clean copies of the files, and whatever is used again comes back from the page cache
// on its next access. Only private read-only file mappings that hold no page of their own
// (smaps Anonymous: 0) qualify, so no relocated or written byte is ever thrown away; the heap's
// free pages go back to the kernel as well.
void releaseUnusedPages() {
    malloc_trim(0);
    FILE* smaps = std::fopen("/proc/self/smaps", "re");
    if (!smaps)
        return;
    struct Range {
        uintptr_t start, end;
    };
    std::vector<Range> clean;
    Range current{0, 0};
    bool candidate = false;
    char line[512];
    while (std::fgets(line, sizeof line, smaps)) {
        unsigned long start = 0, end = 0;
        char perms[5] = {};
        char path[256] = {};
        if (std::sscanf(line, "%lx-%lx %4s %*s %*s %*s %255s", &start, &end, perms, path) >= 3 &&
            std::strchr(line, '-') < std::strchr(line, ' ')) {
            // A new mapping: a private file mapping without write permission.
            current = {start, end};
            candidate = path[0] == '/' && perms[1] != 'w' && perms[3] == 'p';
            continue;
        }
        unsigned long anonymous = 0;
        if (candidate && std::sscanf(line, "Anonymous: %lu kB", &anonymous) == 1) {
            if (anonymous == 0)
                clean.push_back(current);
            candidate = false;
        }
    }
    std::fclose(smaps);
    for (const Range& r : clean)
        ::madvise(reinterpret_cast<void*>(r.start), r.end - r.start, MADV_DONTNEED);
}

Status enrollWithToken(const AgentConfig& config, const QString& configPath) {
    auto token = readFileBounded(config.enrollTokenFile, 4096);
    if (!token) {
        return fail(QStringLiteral("agent.enroll-token-missing"),
                    QStringLiteral("Could not read the enrolment token %1; put the station's "
                                   "one-time token there or run 'otafleet-agent enroll'.")
                        .arg(config.enrollTokenFile));
    }
    EnrollOptions options;
    options.configPath = configPath;
    options.station = config.enrollStation.isEmpty() ? config.serverAddress : config.enrollStation;
    options.token = token->trimmed();
    token->fill('\0');
    auto report = enrollAgent(options);
    options.token.fill('\0');
    if (!report)
        return fail(report.error());
    // The token is spent; keeping it would only leak it.
    QFile::remove(config.enrollTokenFile);
    qCInfo(lcAgent).noquote() << "enrolled as" << report->deviceId << "serial" << report->serial;
    return {};
}

}  // namespace

Status runAgent(const QString& configPath, char** argv) {
    boundAllocatorFootprint();
    auto config = AgentConfig::load(configPath);
    if (!config)
        return fail(config.error());
    if (!config->serverAddress.isEmpty() && config->identityCertificate.isEmpty() &&
        !config->enrollTokenFile.isEmpty()) {
        // First start of a device that dials a server: enrol with its one-time token, then
        // run with the identity that wrote into agent.conf.
        if (auto ok = enrollWithToken(*config, configPath); !ok)
            qCWarning(lcAgent).noquote() << ok.error().toString();
        config = AgentConfig::load(configPath);
        if (!config)
            return fail(config.error());
    }
    auto agent = Agent::create(*config);
    if (!agent)
        return fail(agent.error());
    if (auto ok = (*agent)->bootStage(); !ok)
        return ok;

    // The enrolled device identity ([identity], checked for expiry and revocation) or the
    // setup-time [tls] one.
    auto identity = servedIdentity(*config, configPath);
    if (!identity)
        return fail(identity.error());
    qCInfo(lcAgent).noquote() << "serving with the" << identity->description;
    auto clientCa = readPem(config->operatorCa);
    if (!clientCa)
        return fail(clientCa.error());

    // Operators must present a certificate issued by the operator CA. TLS 1.3 only: main() called
    // crypto::requireTls13() before this (gRPC 1.51 offers no setting of its own for it).
    grpc::SslServerCredentialsOptions tls(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    tls.pem_root_certs = *clientCa;
    tls.pem_key_cert_pairs.push_back({identity->privateKey, identity->certificateChainPem});

    // Signals are taken by one thread with sigwait, blocked everywhere else (gRPC's threads
    // inherit the mask), so a stop never interrupts a half-written state file.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigset_t previousMask;
    pthread_sigmask(SIG_BLOCK, &signals, &previousMask);

    StopFlag stop;
    // The CAs in the operator bundle other than the self-signed root issue operator certificates.
    auto operators = OperatorCheck::load(config->operatorCa, config->crlFiles);
    if (!operators) {
        pthread_sigmask(SIG_SETMASK, &previousMask, nullptr);
        return fail(operators.error());
    }
    AgentService service(
        **agent, [&stop] { stop.request(Stop::Reboot); }, std::move(*operators));
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort(config->listenAddress().toStdString(), grpc::SslServerCredentials(tls),
                             &port);
    builder.RegisterService(&service);
    builder.SetMaxReceiveMessageSize(2 * 1024 * 1024);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    if (!server || port == 0) {
        pthread_sigmask(SIG_SETMASK, &previousMask, nullptr);
        return fail(QStringLiteral("agent.listen-failed"),
                    QStringLiteral("Could not listen on %1; another program may use the port, or "
                                   "the address is not on this machine.")
                        .arg(config->listenAddress()));
    }
    // [smp] serial: SMP on its own thread beside gRPC; a reset asked for there reboots the agent
    // the same way a Reboot RPC does. Announced before the "listening" line, so whoever waits
    // for that line knows the port.
    std::unique_ptr<SmpSerialService> smpSerial;
    if (!config->smpSerial.isEmpty()) {
        auto started = SmpSerialService::start(**agent, [&stop] { stop.request(Stop::Reboot); });
        if (!started) {
            server->Shutdown();
            pthread_sigmask(SIG_SETMASK, &previousMask, nullptr);
            return fail(started.error());
        }
        smpSerial = std::move(*started);
        if (!smpSerial->ptyPath().isEmpty())
            std::fprintf(stderr, "otafleet-agent: smp pty %s\n",
                         smpSerial->ptyPath().toLocal8Bit().constData());
        else
            std::fprintf(stderr, "otafleet-agent: smp serial %s at %d baud\n",
                         config->smpSerial.toLocal8Bit().constData(), config->smpBaud);
    }
    // Recorded before the "listening" line, so whoever waits for that line finds the boot event.
    (*agent)->telemetry().serving((*agent)->report());
    releaseUnusedPages();
    std::fprintf(stderr, "otafleet-agent: listening on %s:%d\n",
                 config->listenHost.toUtf8().constData(), port);
    std::fflush(stderr);

    std::thread signalThread([&stop, signals] {
        int received = 0;
        sigwait(&signals, &received);
        stop.request(Stop::Signal);
    });
    std::optional<MetricsTicker> ticker;
    if (config->telemetryMetricsInterval > 0)
        ticker.emplace((*agent)->telemetry(),
                       std::chrono::seconds(config->telemetryMetricsInterval));
    // [server] address: dial otafleetd as well; the LAN service keeps serving. An installed
    // offer reboots the agent the same way a Reboot RPC does.
    std::unique_ptr<ServerLink> link;
    if (!config->serverAddress.isEmpty()) {
        auto options = serverLinkOptions(*config, configPath);
        if (options) {
            link = std::make_unique<ServerLink>(**agent, std::move(*options),
                                                [&stop] { stop.request(Stop::Reboot); });
            link->start();
            qCInfo(lcAgent).noquote() << "dialling the server at" << config->serverAddress;
        } else {
            qCWarning(lcAgent).noquote() << options.error().toString();
        }
    }
    // An upload or install leaves library code and heap pages behind that idling does not use.
    Stop reason = Stop::None;
    while ((reason = stop.waitFor(std::chrono::seconds(60))) == Stop::None)
        releaseUnusedPages();
    ticker.reset();
    if (link)
        link->stop();
    link.reset();
    if (reason == Stop::Reboot) {
        // Wake the signal thread so it can be joined; SIGTERM is still blocked here.
        pthread_kill(signalThread.native_handle(), SIGTERM);
    }
    signalThread.join();

    qCInfo(lcAgent) << (reason == Stop::Reboot ? "rebooting" : "stopping");
    const int keptPty = smpSerial && reason == Stop::Reboot ? smpSerial->stopForRestart() : -1;
    smpSerial.reset();
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(3));
    server->Wait();
    server.reset();
    if (reason != Stop::Reboot) {
        pthread_sigmask(SIG_SETMASK, &previousMask, nullptr);
        return {};
    }
    agent->reset();
    pthread_sigmask(SIG_SETMASK, &previousMask, nullptr);
    // Files are opened with O_CLOEXEC; this also covers descriptors a library may have opened
    // without it, so the new image starts with stdin/stdout/stderr only.
    ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
    if (keptPty >= 0) {
        // The SMP pty's master survives the re-execution, so its client keeps the port.
        ::fcntl(keptPty, F_SETFD, 0);
        ::setenv(SmpSerialService::kPtyFdVariable, std::to_string(keptPty).c_str(), 1);
    }
    ::execv("/proc/self/exe", argv);
    return fail(QStringLiteral("agent.reboot-failed"),
                QStringLiteral("The agent could not re-execute itself; start it again."));
}

namespace {

// Feeds a bundle file through the upload store, exactly as a gRPC upload would.
Result<QString> stageBundle(Agent& agent, const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return fail(QStringLiteral("agent.bundle-unreadable"),
                    QStringLiteral("Could not read the bundle %1; check the path.").arg(path));
    }
    const QString id = QStringLiteral("offline-install");
    auto progress = agent.uploadProgress(id);
    if (!progress)
        return fail(progress.error());
    const quint64 total = static_cast<quint64>(file.size());
    quint64 offset = progress->total == total ? progress->received : 0;
    if (offset == 0 && progress->received > 0)
        return fail(QStringLiteral("agent.upload-offset-mismatch"),
                    QStringLiteral("A different offline upload is staged; remove "
                                   "incoming/offline-install.* and try again."));
    file.seek(static_cast<qint64>(offset));
    while (offset < total) {
        const QByteArray chunk = file.read(UploadStore::kMaxChunk);
        if (chunk.isEmpty())
            return fail(QStringLiteral("agent.bundle-unreadable"),
                        QStringLiteral("The bundle %1 ended early.").arg(path));
        auto next = agent.uploadChunk(id, total, offset, chunk);
        if (!next)
            return fail(next.error());
        offset = next->received;
    }
    if (auto ok = agent.finishUpload(id); !ok)
        return fail(ok.error());
    return id;
}

}  // namespace

Status runOffline(const QString& configPath, const OfflineOptions& options) {
    auto config = AgentConfig::load(configPath);
    if (!config)
        return fail(config.error());
    auto created = Agent::create(*config);
    if (!created)
        return fail(created.error());
    Agent& agent = **created;
    if (auto ok = agent.bootStage(); !ok)
        return ok;
    Status result;
    if (!options.installBundle.isEmpty()) {
        auto id = stageBundle(agent, options.installBundle);
        result = id ? agent.install(*id, {}) : Status(fail(id.error()));
    }
    if (result && options.commit)
        result = agent.commit();
    if (result && options.rollback)
        result = agent.rollback();
    const AgentReport r = agent.report();
    QString version;
    QString primary = r.activeSlot;
    for (const SlotReport& slot : r.slots) {
        if (slot.name == r.activeSlot && slot.content)
            version = slot.content->version;
        if (slot.state == u"pending")
            primary = slot.name;
    }
    std::fprintf(stdout,
                 "otafleet-agent: state booted=%s version=%s trial=%d tries_left=%d primary=%s "
                 "security_version=%llu state=%s healthy=%d\n",
                 qPrintable(r.activeSlot),
                 qPrintable(version.isEmpty() ? QStringLiteral("-") : version), r.trial ? 1 : 0,
                 r.triesLeft, qPrintable(primary),
                 static_cast<unsigned long long>(r.storedSecurityVersion), qPrintable(r.state),
                 r.healthOk ? 1 : 0);
    std::fflush(stdout);
    return result;
}

}  // namespace otafleet::agent
