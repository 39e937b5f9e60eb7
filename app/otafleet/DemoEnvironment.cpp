#include "DemoEnvironment.h"

#include "ConsoleLogging.h"

#include "bundle/BundleBuilder.h"
#include "common/AtomicFile.h"
#include "crypto/Pki.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QThread>

#include <sys/prctl.h>

#include <csignal>
#include <cstdio>

namespace otafleet::app {

namespace {

constexpr const char* kSoftHsmModule = "/usr/lib/softhsm/libsofthsm2.so";
constexpr int kAgentCount = 2;
constexpr int kSetupTimeoutMs = 120000;
constexpr int kStartTimeoutMs = 20000;
constexpr qint64 kDemoPayloadBytes = 3 * 1024 * 1024;
constexpr qint64 kDemoSlotBytes = 16 * 1024 * 1024;

struct DemoModel {
    const char* model;
    const char* hardware;
};
constexpr DemoModel kModels[kAgentCount] = {{"gateway-x1", "rev-a"}, {"gateway-x1", "rev-b"}};

Error demoError(const QString& step, const QString& detail) {
    return Error{QStringLiteral("demo.setup-failed"),
                 QStringLiteral("The demo could not %1: %2 Delete the demo's data directory to "
                                "start over.")
                     .arg(step, detail)};
}

int freeLoopbackPort() {
    QTcpServer probe;
    return probe.listen(QHostAddress::LocalHost, 0) ? probe.serverPort() : 0;
}

}  // namespace

DemoEnvironment::DemoEnvironment(QString dataDir, QString pkiDir, QString agentProgram,
                                 DemoPinProvider askPin)
    : m_dataDir(std::move(dataDir)),
      m_pkiDir(std::move(pkiDir)),
      m_agentProgram(std::move(agentProgram)),
      m_askPin(std::move(askPin)) {}

DemoEnvironment::~DemoEnvironment() {
    for (const auto& agent : m_agents) {
        if (agent->process && agent->process->state() != QProcess::NotRunning) {
            agent->process->terminate();
            if (!agent->process->waitForFinished(3000)) {
                agent->process->kill();
                agent->process->waitForFinished(3000);
            }
        }
    }
    forgetPin();
}

Result<QByteArray> DemoEnvironment::pin() {
    if (!m_pin.isEmpty())
        return m_pin;
    m_pin = qgetenv(kPinEnv);
    if (!m_pin.isEmpty())
        return m_pin;
    if (!m_askPin) {
        m_pin = kDevelopmentPin;
        return m_pin;
    }
    auto secret = m_askPin();
    if (!secret || secret->isEmpty()) {
        return fail(QStringLiteral("demo.pin-missing"),
                    QStringLiteral("The demo needs its token's PIN to set itself up and none was "
                                   "given. Start it again and enter the PIN (the development PIN "
                                   "is %1), or set %2.")
                        .arg(QString::fromLatin1(kDevelopmentPin), QString::fromLatin1(kPinEnv)));
    }
    m_pin = QByteArray(secret->c_str(), secret->size());
    return m_pin;
}

void DemoEnvironment::forgetPin() {
    // Only this object holds the buffer here (copies handed out were temporaries), so fill()
    // zeroes it in place rather than detaching.
    m_pin.fill('\0');
    m_pin.clear();
}

Result<std::unique_ptr<DemoEnvironment>> DemoEnvironment::prepare(const QString& dataDir,
                                                                  const QString& pkiDir,
                                                                  const QString& agentProgram,
                                                                  const DemoPinProvider& askPin) {
    // SoftHSM reads SOFTHSM2_CONF when the module is loaded, so this comes first.
    const QDir softhsm(QDir(dataDir).filePath(QStringLiteral("softhsm")));
    const QString tokenDir = softhsm.filePath(QStringLiteral("tokens"));
    const QString conf = softhsm.filePath(QStringLiteral("softhsm2.conf"));
    if (!QDir().mkpath(tokenDir))
        return fail(demoError(QStringLiteral("create its token folder"), tokenDir));
    if (auto written = writeFileAtomically(
            conf, QStringLiteral("directories.tokendir = %1\nobjectstore.backend = file\n"
                                 "log.level = ERROR\n")
                      .arg(tokenDir)
                      .toUtf8());
        !written) {
        return fail(written.error());
    }
    qputenv("SOFTHSM2_CONF", QFile::encodeName(conf));

    std::fprintf(stderr,
                 "otafleet: WARNING: --demo keeps its keys on a development SoftHSM token "
                 "(label \"%s\", PIN from %s or the PIN dialog; the development PIN is %s) in "
                 "%s. Never sign real releases with it.\n",
                 kTokenLabel, kPinEnv, kDevelopmentPin, qPrintable(tokenDir));
    if (agentProgram.isEmpty()) {
        return fail(demoError(QStringLiteral("find otafleet-agent"),
                              QStringLiteral("it is not installed next to the console.")));
    }

    std::unique_ptr<DemoEnvironment> demo(
        new DemoEnvironment(dataDir, pkiDir, agentProgram, askPin));
    if (auto ok = demo->ensurePki(); !ok)
        return fail(ok.error());
    for (int i = 1; i <= kAgentCount; ++i) {
        if (auto ok = demo->ensureAgent(i); !ok)
            return fail(ok.error());
    }
    if (auto ok = demo->ensureBundles(); !ok)
        return fail(ok.error());
    demo->forgetPin();  // the agents run without it
    return demo;
}

Result<QProcessEnvironment> DemoEnvironment::setupEnvironment() {
    auto token = pin();
    if (!token)
        return fail(token.error());
    // `agent setup --pin-env` reads the PIN from its environment; nothing else is handed it.
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QString::fromLatin1(kPinEnv), QString::fromUtf8(*token));
    return env;
}

Status DemoEnvironment::ensurePki() {
    if (QFile::exists(QDir(m_pkiDir).filePath(QStringLiteral("root-ca.pem"))))
        return {};
    std::fprintf(stderr, "otafleet: creating the demo PKI in %s …\n", qPrintable(m_pkiDir));
    // No PKI means any token left in our own demo token folder is an orphan of a failed run.
    QDir tokens(QDir(m_dataDir).filePath(QStringLiteral("softhsm/tokens")));
    tokens.removeRecursively();
    QDir().mkpath(tokens.path());

    crypto::PkiInitOptions options;
    options.directory = m_pkiDir;
    options.pkcs11Module = QString::fromLatin1(kSoftHsmModule);
    options.tokenLabel = QString::fromLatin1(kTokenLabel);
    options.initToken = true;
    options.commonNamePrefix = QStringLiteral("otafleet demo");
    auto token = pin();
    if (!token)
        return fail(token.error());
    const QByteArray pin = *token;
    options.pinProvider = [pin]() -> Result<crypto::SecretString> {
        return crypto::SecretString(pin);
    };
    // The SO PIN is never needed again for a demo token: random and forgotten.
    options.soPinProvider = []() -> Result<crypto::SecretString> {
        return crypto::SecretString(
            QByteArray::number(QRandomGenerator::system()->generate64(), 16));
    };
    auto report = crypto::Pki::init(options);
    if (!report)
        return fail(report.error().withContext(QStringLiteral("while creating the demo PKI: ")));
    return {};
}

Status DemoEnvironment::ensureAgent(int index) {
    auto agent = std::make_shared<Agent>();
    agent->name = QStringLiteral("demo-%1").arg(index);
    agent->dir = QDir(m_dataDir).filePath(QStringLiteral("demo/agent-%1").arg(index));
    m_agents.append(agent);
    if (QFile::exists(QDir(agent->dir).filePath(QStringLiteral("agent.conf"))))
        return {};
    const int port = freeLoopbackPort();
    if (port == 0)
        return fail(demoError(QStringLiteral("find a free port"), QStringLiteral("none left.")));
    std::fprintf(stderr, "otafleet: setting up demo device %s …\n", qPrintable(agent->name));
    auto env = setupEnvironment();
    if (!env)
        return fail(env.error());
    QProcess setup;
    setup.setProcessEnvironment(*env);
    setup.setProcessChannelMode(QProcess::MergedChannels);
    const DemoModel& model = kModels[index - 1];
    setup.start(m_agentProgram,
                {QStringLiteral("setup"), QStringLiteral("--dir"), agent->dir,
                 QStringLiteral("--pki"), m_pkiDir, QStringLiteral("--listen"),
                 QStringLiteral("127.0.0.1:%1").arg(port), QStringLiteral("--name"), agent->name,
                 QStringLiteral("--model"), QString::fromLatin1(model.model),
                 QStringLiteral("--hardware"), QString::fromLatin1(model.hardware),
                 QStringLiteral("--pin-env"), QString::fromLatin1(kPinEnv),
                 QStringLiteral("--slot-size"), QString::number(kDemoSlotBytes)});
    if (!setup.waitForFinished(kSetupTimeoutMs) || setup.exitStatus() != QProcess::NormalExit ||
        setup.exitCode() != 0) {
        const QString output = QString::fromUtf8(setup.readAll()).trimmed();
        return fail(demoError(QStringLiteral("set up %1").arg(agent->name),
                              output.isEmpty() ? setup.errorString() : output));
    }
    return {};
}

Status DemoEnvironment::ensureBundles() {
    const QDir dir(bundleDirectory());
    QDir().mkpath(dir.path());
    struct Release {
        SemVer version;
        const char* notes;
    };
    const Release releases[] = {{SemVer(1, 1, 0), "Demo release: faster sensor polling."},
                                {SemVer(1, 2, 0), "Demo release: new telemetry format."}};
    std::unique_ptr<crypto::SigningKey> key;
    for (const Release& release : releases) {
        const QString out =
            dir.filePath(QStringLiteral("firmware-%1.otab").arg(release.version.toString()));
        if (QFile::exists(out))
            continue;
        std::fprintf(stderr, "otafleet: building demo bundle %s …\n", qPrintable(out));
        QTemporaryDir scratch;
        const QString payload = scratch.filePath(QStringLiteral("rootfs.img"));
        QByteArray bytes(kDemoPayloadBytes, Qt::Uninitialized);
        QRandomGenerator generator(static_cast<quint32>(release.version.minor()));
        generator.fillRange(reinterpret_cast<quint32*>(bytes.data()),
                            bytes.size() / static_cast<qsizetype>(sizeof(quint32)));
        if (auto ok = writeFileAtomically(payload, bytes); !ok)
            return ok;

        bundle::CreateOptions options;
        options.version = release.version;
        options.securityVersion = 1;
        options.hardware = {QString::fromLatin1(kModels[0].hardware),
                            QString::fromLatin1(kModels[1].hardware)};
        options.releaseNotes = QString::fromLatin1(release.notes);
        options.payloads = {
            bundle::PayloadInput{QStringLiteral("rootfs"), QStringLiteral("rootfs"), payload}};
        if (auto ok = bundle::createBundle(options, out); !ok)
            return fail(ok.error().withContext(QStringLiteral("while building a demo bundle: ")));

        auto pki = crypto::Pki::open(m_pkiDir);
        if (!pki)
            return fail(pki.error());
        if (!key) {
            auto token = pin();
            if (!token)
                return fail(token.error());
            const QByteArray pin = *token;
            auto opened = pki->openReleaseKey(
                [pin]() -> Result<crypto::SecretString> { return crypto::SecretString(pin); });
            if (!opened)
                return fail(opened.error());
            key = std::move(*opened);
        }
        auto signer = pki->releaseSignerCertificate();
        if (!signer)
            return fail(signer.error());
        auto chain = pki->releaseSignerChain();
        if (!chain)
            return fail(chain.error());
        if (auto ok = bundle::signBundle(out, *key, *signer, *chain); !ok) {
            QFile::remove(out);
            return fail(ok.error().withContext(QStringLiteral("while signing a demo bundle: ")));
        }
    }
    return {};
}

Status DemoEnvironment::startAgents() {
    static const QRegularExpression listening(QStringLiteral(R"(listening on (\S+))"));
    for (const auto& agent : m_agents) {
        const QString logPath = QDir(agent->dir).filePath(QStringLiteral("agent.log"));
        const qint64 logStart = QFileInfo(logPath).size();
        agent->process = std::make_unique<QProcess>();
        agent->process->setStandardOutputFile(logPath, QIODevice::Append);
        agent->process->setStandardErrorFile(logPath, QIODevice::Append);
        // The agents are the console's children: they must not outlive it, even after a crash.
        agent->process->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
        agent->process->start(
            m_agentProgram,
            {QStringLiteral("--config"), QDir(agent->dir).filePath(QStringLiteral("agent.conf"))});
        if (!agent->process->waitForStarted()) {
            return fail(QStringLiteral("demo.agent-failed"),
                        QStringLiteral("The demo device %1 could not start: %2.")
                            .arg(agent->name, agent->process->errorString()));
        }
        const QDeadlineTimer deadline(kStartTimeoutMs);
        while (agent->target.isEmpty()) {
            QFile log(logPath);
            if (log.open(QIODevice::ReadOnly) && log.seek(logStart)) {
                const auto match = listening.match(QString::fromUtf8(log.read(64 * 1024)));
                if (match.hasMatch())
                    agent->target = match.captured(1);
            }
            if (agent->target.isEmpty() &&
                (deadline.hasExpired() || agent->process->state() == QProcess::NotRunning)) {
                return fail(QStringLiteral("demo.agent-failed"),
                            QStringLiteral("The demo device %1 did not start; see %2.")
                                .arg(agent->name, logPath));
            }
            if (agent->target.isEmpty())
                QThread::msleep(100);
        }
        qCInfo(lcConsole) << "demo device" << agent->name << "listens on" << agent->target;
    }
    return {};
}

QList<DemoDevice> DemoEnvironment::devices() const {
    QList<DemoDevice> list;
    for (const auto& agent : m_agents)
        list.append(DemoDevice{agent->name, agent->target});
    return list;
}

QString DemoEnvironment::bundleDirectory() const {
    return QDir(m_dataDir).filePath(QStringLiteral("demo/bundles"));
}

}  // namespace otafleet::app
