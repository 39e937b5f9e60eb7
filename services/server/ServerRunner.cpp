#include "server/ServerRunner.h"

#include "common/AtomicFile.h"
#include "server/ConsoleService.h"
#include "server/DeviceService.h"
#include "server/ServerLogging.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include <csignal>
#include <cstdio>

#include <pthread.h>
#include <sys/resource.h>

namespace otafleet::server {
namespace {

constexpr int kKeepaliveMs = 60'000;
constexpr int kKeepaliveTimeoutMs = 20'000;
constexpr int kMaxConcurrentStreams = 256;
// A TLS handshake not done by then is dropped. gRPC's default (120 s) keeps the socket of every
// device that gave up and dialled again meanwhile: in a connect storm (a fleet coming back after
// an outage) those pile up past the file limit, and gRPC 1.51 stops accepting for good at the
// first EMFILE. 20 s matches the agents' own inventory deadline.
constexpr int kHandshakeTimeoutMs = 20'000;
// Below this many descriptors otafleetd warns: each connected device holds one.
constexpr rlim_t kWantedFiles = 65536;

Result<std::string> readPem(const QString& path) {
    auto bytes = readFileBounded(path, 1024 * 1024);
    if (!bytes) {
        return fail(QStringLiteral("server.tls-unreadable"),
                    QStringLiteral("Could not read %1 (%2); run 'otafleetd setup' again or fix "
                                   "the [tls] paths.")
                        .arg(path, bytes.error().message));
    }
    return bytes->toStdString();
}

void applyLimits(grpc::ServerBuilder& builder, const ServerConfig& config) {
    builder.SetMaxReceiveMessageSize(config.maxMessageSize);
    builder.SetMaxSendMessageSize(config.maxMessageSize);
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, kKeepaliveMs);
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kKeepaliveTimeoutMs);
    builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, kMaxConcurrentStreams);
    builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, kHandshakeTimeoutMs);
}

// Every connected device holds a socket: the soft limit (often 1024) goes up to the hard one,
// and a limit that still leaves little room is said at start, not found at the first EMFILE
// (after which gRPC 1.51 accepts no connection until restarted).
void raiseFileLimit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return;
    if (limit.rlim_cur < limit.rlim_max) {
        rlimit raised{limit.rlim_max, limit.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            limit = raised;
    }
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < kWantedFiles) {
        qCWarning(lcServer).noquote()
            << QStringLiteral(
                   "at most %1 open files: about that many devices can connect; "
                   "raise the limit (LimitNOFILE= in the systemd unit, ulimit -n)")
                   .arg(limit.rlim_cur);
    }
}

std::unexpected<Error> listenFailed(const QString& address) {
    return fail(QStringLiteral("server.listen-failed"),
                QStringLiteral("Could not listen on %1; another program may use the port, or the "
                               "address is not on this machine.")
                    .arg(address));
}

QString hostOf(const QString& address) {
    return address.left(address.lastIndexOf(u':'));
}

}  // namespace

Status runServer(const QString& configPath) {
    auto config = ServerConfig::load(configPath);
    if (!config)
        return fail(config.error());
    auto cert = readPem(config->certificate);
    if (!cert)
        return fail(cert.error());
    auto key = readPem(config->key);
    if (!key)
        return fail(key.error());
    auto root = readPem(config->rootCa);
    if (!root)
        return fail(root.error());
    auto releaseTrust = crypto::TrustStore::fromPemFile(config->rootCa);
    if (!releaseTrust)
        return fail(releaseTrust.error());

    auto worker = StoreWorker::start(config->database);
    if (!worker)
        return fail(worker.error());
    if (auto ok =
            (*worker)->run([](store::FleetStore& s) { return s.fleetDevices().markAllOffline(); });
        !ok) {
        return ok;
    }
    Tokens tokens(config->tokenLifetimeSeconds);
    ConsoleService console(**worker, tokens, *config, *releaseTrust);
    auto devices = DeviceService::create(**worker, *config);
    if (!devices)
        return fail(devices.error());
    // Rollouts resume from the store before any device can connect.
    rollout::SystemClock clock;
    auto rollouts = RolloutDriver::create(**worker, clock);
    if (!rollouts)
        return fail(rollouts.error());
    console.setRollouts(rollouts->get());
    (*devices)->setRollouts(rollouts->get());

    // Client certificates are asked for and, when sent, must chain to the fleet root; password
    // users send none. Which certificate may do what is decided per call (operator fingerprint
    // bound to a user, device certificate from the device CA).
    grpc::SslServerCredentialsOptions tls(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
    tls.pem_root_certs = *root;
    tls.pem_key_cert_pairs.push_back({*key, *cert});
    const auto credentials = grpc::SslServerCredentials(tls);

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigset_t previousMask;
    pthread_sigmask(SIG_BLOCK, &signals, &previousMask);
    const auto restoreMask = [&previousMask] {
        pthread_sigmask(SIG_SETMASK, &previousMask, nullptr);
    };

    raiseFileLimit();
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort(config->listen.toStdString(), credentials, &port);
    builder.RegisterService(&console);
    const bool separateAgents = !config->agentListen.isEmpty();
    if (!separateAgents)
        builder.RegisterService(devices->get());
    applyLimits(builder, *config);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    if (!server || port == 0) {
        restoreMask();
        return listenFailed(config->listen);
    }
    std::unique_ptr<grpc::Server> agentServer;
    int agentPort = 0;
    if (separateAgents) {
        grpc::ServerBuilder agentBuilder;
        agentBuilder.AddListeningPort(config->agentListen.toStdString(), credentials, &agentPort);
        agentBuilder.RegisterService(devices->get());
        applyLimits(agentBuilder, *config);
        agentServer = agentBuilder.BuildAndStart();
        if (!agentServer || agentPort == 0) {
            server->Shutdown();
            restoreMask();
            return listenFailed(config->agentListen);
        }
    }
    std::fprintf(stderr, "otafleetd: listening on %s:%d\n", qPrintable(hostOf(config->listen)),
                 port);
    if (agentServer) {
        std::fprintf(stderr, "otafleetd: agents on %s:%d\n",
                     qPrintable(hostOf(config->agentListen)), agentPort);
    }
    std::fflush(stderr);
    (void)console.audit(QStringLiteral("system"), QStringLiteral("server"),
                        QStringLiteral("server.start"), config->listen);
    (*rollouts)->startTicking();

    int received = 0;
    sigwait(&signals, &received);
    qCInfo(lcServer) << "stopping on signal" << received;
    const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(3);
    if (agentServer)
        agentServer->Shutdown(deadline);
    server->Shutdown(deadline);
    if (agentServer)
        agentServer->Wait();
    server->Wait();
    restoreMask();
    return {};
}

}  // namespace otafleet::server
