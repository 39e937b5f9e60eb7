// `otafleetctl simulate`: N devices in one process for demos and load tests, each the agent's
// real core (Agent: slots in files under a work directory, file boot backend, boot stage,
// verify and install) with the real ServerLink dialling otafleetd under its own device
// identity from the PKI's device CA. A reboot of a simulated device is a new Agent and
// ServerLink on the same directory, exactly what the real agent's re-execution amounts to.
// Failing devices get a health check that refuses any version but the factory one, so an
// update's trial boot fails and the agent's own rollback runs.
#include "Cli.h"

#include "agent/Agent.h"
#include "agent/AgentSetup.h"
#include "agent/ServerLink.h"
#include "common/AtomicFile.h"
#include "crypto/Pki.h"
#include "rollout/PlanValues.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QMap>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTimer>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <optional>

namespace otafleet::cli {
namespace {

using agent::Agent;
using agent::AgentConfig;
using agent::ServerLink;
using agent::ServerLinkOptions;
namespace dpb = otafleet::device::v1;

constexpr int kMaxAgents = 20000;
constexpr qint64 kFactoryPayload = 64 * 1024;

const QCommandLineOption kSimServer(QStringLiteral("server"),
                                    QStringLiteral("otafleetd's device address."),
                                    QStringLiteral("HOST:PORT"));
const QCommandLineOption kSimPki(QStringLiteral("pki"),
                                 QStringLiteral("PKI directory whose device CA issues each "
                                                "simulated device's identity."),
                                 QStringLiteral("PKI"));
const QCommandLineOption kSimPinEnv(QStringLiteral("pin-env"),
                                    QStringLiteral("Environment variable holding the token PIN "
                                                   "(a PKI whose CAs are on a token)."),
                                    QStringLiteral("VAR"));
const QCommandLineOption kAgents(QStringLiteral("agents"),
                                 QStringLiteral("How many devices to simulate (1-20000)."),
                                 QStringLiteral("N"));
const QCommandLineOption kFailureRate(QStringLiteral("failure-rate"),
                                      QStringLiteral("Fraction 0-1 of devices whose update fails "
                                                     "its health check after the reboot (the "
                                                     "agent then reverts)."),
                                      QStringLiteral("P"), QStringLiteral("0"));
const QCommandLineOption kInstallTime(QStringLiteral("install-time"),
                                      QStringLiteral("Extra time each install takes (500ms, 10s, "
                                                     "2m)."),
                                      QStringLiteral("DURATION"), QStringLiteral("0s"));
const QCommandLineOption kModel(QStringLiteral("model"), QStringLiteral("Device model."),
                                QStringLiteral("M"), QStringLiteral("sim-gw"));
const QCommandLineOption kHardware(QStringLiteral("hardware"),
                                   QStringLiteral("Hardware revision (releases must name it)."),
                                   QStringLiteral("H"), QStringLiteral("rev-a"));
const QCommandLineOption kFactoryVersion(QStringLiteral("version"),
                                         QStringLiteral("Firmware version the devices start "
                                                        "with."),
                                         QStringLiteral("V"), QStringLiteral("1.0.0"));
const QCommandLineOption kDuration(QStringLiteral("duration"),
                                   QStringLiteral("Stop after this long (30s, 10m); default: "
                                                  "until Ctrl-C."),
                                   QStringLiteral("S"));
const QCommandLineOption kInterval(QStringLiteral("interval"),
                                   QStringLiteral("Seconds between summary lines (default 5)."),
                                   QStringLiteral("SECONDS"), QStringLiteral("5"));
const QCommandLineOption kWorkDir(QStringLiteral("work-dir"),
                                  QStringLiteral("Keep the devices' slots and state in DIR "
                                                 "(default: a temporary directory removed at "
                                                 "exit)."),
                                  QStringLiteral("DIR"));

std::atomic<bool> g_interrupted{false};

extern "C" void onInterrupt(int) {
    g_interrupted = true;
}

Result<std::chrono::milliseconds> parseInstallTime(const QString& text) {
    if (text.endsWith(QStringLiteral("ms"))) {
        bool ok = false;
        const qint64 ms = text.chopped(2).toLongLong(&ok);
        if (ok && ms >= 0 && ms <= 24LL * 3600 * 1000)
            return std::chrono::milliseconds(ms);
        return fail(QStringLiteral("cli.usage"),
                    QStringLiteral("--install-time takes a duration such as 500ms, 10s or 2m."));
    }
    auto seconds = rollout::plan_values::parseDuration(text, QStringLiteral("--install-time"));
    if (!seconds)
        return fail(seconds.error());
    return std::chrono::duration_cast<std::chrono::milliseconds>(*seconds);
}

Status copyTree(const QString& from, const QString& to) {
    QDirIterator it(from, QDir::Files | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        const QString target = QDir(to).filePath(QDir(from).relativeFilePath(path));
        if (!QDir().mkpath(QFileInfo(target).absolutePath()) || !QFile::copy(path, target)) {
            return fail(QStringLiteral("io.write-failed"),
                        QStringLiteral("Could not copy %1 to %2; check the work directory's "
                                       "space and permissions.")
                            .arg(path, target));
        }
    }
    return {};
}

struct SimDevice {
    QString id;
    AgentConfig config;
    ServerLinkOptions link;
    std::unique_ptr<Agent> agent;
    std::unique_ptr<ServerLink> server;
    quint64 reboots = 0;
};

class Simulation {
public:
    std::vector<std::unique_ptr<SimDevice>> devices;
    QObject context;  // queued calls onto the main thread

    // Counts of the states the devices reported, from any thread.
    std::mutex mutex;
    QMap<QString, QString> lastState;  // device id -> last progress state
    QMap<QString, quint64> finals;     // final state -> how many times reported

    Status boot(SimDevice& d) {
        auto created = Agent::create(d.config);
        if (!created)
            return fail(created.error());
        d.agent = std::move(*created);
        if (auto ok = d.agent->bootStage(); !ok)
            return ok;
        d.server = std::make_unique<ServerLink>(*d.agent, d.link, [this, dev = &d] {
            QMetaObject::invokeMethod(
                &context, [this, dev] { reboot(*dev); }, Qt::QueuedConnection);
        });
        d.server->start();
        return {};
    }

    void reboot(SimDevice& d) {
        ++d.reboots;
        d.server.reset();  // stops the link: session closed, offer worker joined
        d.agent.reset();
        if (auto ok = boot(d); !ok) {
            std::fprintf(stderr, "otafleetctl: device %s did not come back after its reboot: %s\n",
                         qPrintable(d.id), qPrintable(ok.error().toString()));
        }
    }

    void observe(const QString& id, const dpb::Progress& p) {
        const QString state = QString::fromStdString(p.state());
        std::lock_guard lock(mutex);
        lastState[id] = state;
        if (state == u"succeeded" || state == u"failed" || state == u"reverted" ||
            state == u"skipped") {
            ++finals[state];
        }
    }

    QString summary(qint64 elapsedMs) {
        int online = 0;
        quint64 failures = 0;
        QMap<QString, int> versions;
        for (const auto& d : devices) {
            if (!d->server || !d->agent)
                continue;
            const agent::ServerLinkStats s = d->server->stats();
            online += s.online ? 1 : 0;
            failures += s.connectFailures;
            const agent::AgentReport r = d->agent->report();
            for (const agent::SlotReport& slot : r.slots) {
                if (slot.name == r.activeSlot && slot.content)
                    ++versions[slot.content->version];
            }
        }
        QMap<QString, int> busy;
        QMap<QString, quint64> done;
        {
            std::lock_guard lock(mutex);
            for (auto it = lastState.cbegin(); it != lastState.cend(); ++it) {
                if (it.value() == u"downloading" || it.value() == u"verifying" ||
                    it.value() == u"installing" || it.value() == u"rebooting") {
                    ++busy[it.value()];
                }
            }
            done = finals;
        }
        QStringList versionText;
        for (auto it = versions.cbegin(); it != versions.cend(); ++it)
            versionText << QStringLiteral("%1=%2").arg(it.key()).arg(it.value());
        return QStringLiteral(
                   "simulate: t=%1s devices=%2 online=%3 versions=%4 downloading=%5 "
                   "verifying=%6 installing=%7 rebooting=%8 succeeded=%9 failed=%10 "
                   "reverted=%11 skipped=%12 reconnects=%13")
            .arg(elapsedMs / 1000)
            .arg(devices.size())
            .arg(online)
            .arg(versionText.isEmpty() ? QStringLiteral("-") : versionText.join(u','))
            .arg(busy.value(QStringLiteral("downloading")))
            .arg(busy.value(QStringLiteral("verifying")))
            .arg(busy.value(QStringLiteral("installing")))
            .arg(busy.value(QStringLiteral("rebooting")))
            .arg(done.value(QStringLiteral("succeeded")))
            .arg(done.value(QStringLiteral("failed")))
            .arg(done.value(QStringLiteral("reverted")))
            .arg(done.value(QStringLiteral("skipped")))
            .arg(failures);
    }

    void stopAll() {
        for (auto& d : devices) {
            if (d->server)
                d->server->stop();
        }
        for (auto& d : devices) {
            d->server.reset();
            d->agent.reset();
        }
    }
};

int runSimulate(const QCommandLineParser& p) {
    const QString server = p.value(kSimServer);
    const QString pkiDir = p.value(kSimPki);
    if (server.isEmpty() || pkiDir.isEmpty() || !p.isSet(kAgents))
        return usageError(
            QStringLiteral("simulate needs --server HOST:PORT, --pki PKI and "
                           "--agents N"));
    bool ok = false;
    const int count = p.value(kAgents).toInt(&ok);
    if (!ok || count < 1 || count > kMaxAgents)
        return usageError(QStringLiteral("--agents takes a number from 1 to %1").arg(kMaxAgents));
    const double failureRate = p.value(kFailureRate).toDouble(&ok);
    if (!ok || failureRate < 0.0 || failureRate > 1.0)
        return usageError(QStringLiteral("--failure-rate takes a fraction from 0 to 1, e.g. 0.1"));
    auto installTime = parseInstallTime(p.value(kInstallTime));
    if (!installTime)
        return failWith(installTime.error());
    std::optional<std::chrono::seconds> duration;
    if (p.isSet(kDuration)) {
        auto parsed =
            rollout::plan_values::parseDuration(p.value(kDuration), QStringLiteral("--duration"));
        if (!parsed)
            return failWith(parsed.error());
        duration = *parsed;
    }
    const int interval = p.value(kInterval).toInt(&ok);
    if (!ok || interval < 1 || interval > 3600)
        return usageError(QStringLiteral("--interval takes seconds from 1 to 3600"));
    const QString factoryVersion = p.value(kFactoryVersion);

    std::optional<QTemporaryDir> temp;
    QString workDir = p.value(kWorkDir);
    if (workDir.isEmpty()) {
        temp.emplace(QDir::temp().filePath(QStringLiteral("otafleet-simulate-XXXXXX")));
        if (!temp->isValid()) {
            return failWith(Error{QStringLiteral("io.write-failed"),
                                  QStringLiteral("Could not create a temporary directory; set "
                                                 "--work-dir.")});
        }
        workDir = temp->path();
    } else if (!QDir().mkpath(workDir)) {
        return failWith(Error{QStringLiteral("io.write-failed"),
                              QStringLiteral("Could not create %1.").arg(workDir)});
    }
    const QDir work(workDir);

    // One template device made by the agent's own setup (factory image signed by the PKI's
    // release signer, verified and committed in slot A), copied for every simulated device.
    auto pki = crypto::Pki::open(pkiDir);
    if (!pki)
        return failWith(pki.error());
    const QString templateDir = work.filePath(QStringLiteral("template"));
    if (!QFileInfo::exists(QDir(templateDir).filePath(QStringLiteral("agent.conf")))) {
        agent::SetupOptions setup;
        setup.directory = templateDir;
        setup.pkiDirectory = pkiDir;
        setup.listen = QStringLiteral("127.0.0.1:7443");  // never listened on
        setup.model = p.value(kModel);
        setup.hardware = p.value(kHardware);
        setup.pinEnv = p.value(kSimPinEnv);
        setup.factoryVersion = factoryVersion;
        setup.factoryPayloadSize = kFactoryPayload;
        std::fprintf(stderr, "otafleetctl: preparing the simulated devices' factory image\n");
        if (auto made = agent::setUpAgent(setup); !made)
            return failWith(made.error());
    }
    auto templateConfig =
        AgentConfig::load(QDir(templateDir).filePath(QStringLiteral("agent.conf")));
    if (!templateConfig)
        return failWith(templateConfig.error());
    auto root = readFileBounded(pki->rootCaPath(), 1024 * 1024);
    if (!root)
        return failWith(root.error());
    const auto pin = pinProvider(p.value(kSimPinEnv), QStringLiteral("the device CA"));

    Simulation sim;
    const QString run =
        QString::number(QRandomGenerator::global()->bounded(0x100000, 0xffffff), 16);
    int failing = 0;
    std::fprintf(stderr, "otafleetctl: issuing %d device identities\n", count);
    for (int i = 0; i < count; ++i) {
        auto d = std::make_unique<SimDevice>();
        d->id = QStringLiteral("sim-%1-%2").arg(run).arg(i + 1, 5, 10, QLatin1Char('0'));
        const QString dir = work.filePath(d->id);
        if (auto copied = copyTree(QDir(templateDir).filePath(QStringLiteral("slots")),
                                   QDir(dir).filePath(QStringLiteral("slots")));
            !copied)
            return failWith(copied.error());
        if (auto copied = copyTree(QDir(templateDir).filePath(QStringLiteral("state")),
                                   QDir(dir).filePath(QStringLiteral("state")));
            !copied)
            return failWith(copied.error());
        QDir().mkpath(QDir(dir).filePath(QStringLiteral("incoming")));
        d->config = *templateConfig;
        d->config.deviceId = d->id;
        d->config.name = d->id;
        d->config.dataDir = dir;
        d->config.slotA = QDir(dir).filePath(QStringLiteral("slots/slot-a.img"));
        d->config.slotB = QDir(dir).filePath(QStringLiteral("slots/slot-b.img"));
        d->config.serverAddress = server;
        d->config.telemetryMaxBytes = AgentConfig::kMinTelemetryBytes;
        // Spread evenly: device i fails when the running count of failures steps up.
        const bool fails = int((i + 1) * failureRate) > int(i * failureRate);
        if (fails) {
            ++failing;
            d->config.healthCommand =
                QStringLiteral("sh -c \"test $OTAFLEET_VERSION = %1\"").arg(factoryVersion);
        }
        auto identity = pki->issueDeviceIdentity(d->id, pin);
        if (!identity)
            return failWith(identity.error());
        d->link.address = server;
        d->link.rootPem = root->toStdString();
        d->link.certificateChainPem = identity->certificateChainPem.toStdString();
        d->link.privateKeyPem = identity->privateKeyPem.toStdString();
        d->link.serial = QStringLiteral("SIM-%1").arg(d->id);
        d->link.installDelay = *installTime;
        d->link.onProgress = [&sim, id = d->id](const dpb::Progress& progress) {
            sim.observe(id, progress);
        };
        sim.devices.push_back(std::move(d));
    }
    std::fprintf(stderr, "otafleetctl: starting %d simulated devices (%d set to fail) against %s\n",
                 count, failing, qPrintable(server));
    for (auto& d : sim.devices) {
        if (auto booted = sim.boot(*d); !booted) {
            sim.stopAll();
            return failWith(booted.error());
        }
    }

    std::signal(SIGINT, onInterrupt);
    std::signal(SIGTERM, onInterrupt);
    QElapsedTimer clock;
    clock.start();
    QTimer summary;
    QObject::connect(&summary, &QTimer::timeout, &sim.context, [&] {
        std::fprintf(stdout, "%s\n", qPrintable(sim.summary(clock.elapsed())));
        std::fflush(stdout);
    });
    summary.start(interval * 1000);
    QTimer watch;
    QObject::connect(&watch, &QTimer::timeout, &sim.context, [&] {
        if (g_interrupted || (duration && clock.elapsed() >= qint64(duration->count()) * 1000))
            QCoreApplication::quit();
    });
    watch.start(200);
    QCoreApplication::exec();
    summary.stop();
    watch.stop();
    std::fprintf(stdout, "%s\n", qPrintable(sim.summary(clock.elapsed())));
    std::fflush(stdout);
    sim.stopAll();
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    return kSuccess;
}

}  // namespace

QList<Command> simulateCommands() {
    return {Command{QStringLiteral("simulate"), QString(),
                    QStringLiteral("Run N simulated devices (the agent's real core, slots in "
                                   "files) that dial otafleetd, for demos and load tests."),
                    QString(),
                    [](QCommandLineParser& p) {
                        p.addOptions({kSimServer, kSimPki, kSimPinEnv, kAgents, kFailureRate,
                                      kInstallTime, kModel, kHardware, kFactoryVersion, kDuration,
                                      kInterval, kWorkDir});
                    },
                    runSimulate}};
}

}  // namespace otafleet::cli
