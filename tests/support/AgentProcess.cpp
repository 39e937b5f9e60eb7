#include "AgentProcess.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QThread>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace otafleet::test {
namespace {

// A port the kernel just handed out on loopback; the small race until the agent binds it is
// acceptable in tests.
int freeLoopbackPort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
        port = ntohs(addr.sin_port);
    }
    ::close(fd);
    return port;
}

}  // namespace

struct AgentProcess::Impl {
    QString binDir;
    QString dir;
    QString target;
    QProcess process;
    QString logPath() const { return QDir(dir).filePath(QStringLiteral("agent.log")); }
};

AgentProcess::AgentProcess() : d(std::make_unique<Impl>()) {}

AgentProcess::~AgentProcess() {
    kill();
}

Result<std::unique_ptr<AgentProcess>> AgentProcess::setUp(
    const QString& binDir, const QString& dir, const QString& pkiDir, const QString& name,
    const QString& hardware, const QString& pinEnv, const QString& bootBackend) {
    const int port = freeLoopbackPort();
    if (port == 0) {
        return fail(QStringLiteral("test.no-port"), QStringLiteral("No free loopback port."));
    }
    std::unique_ptr<AgentProcess> agent(new AgentProcess());
    agent->d->binDir = binDir;
    agent->d->dir = dir;
    agent->d->target = QStringLiteral("127.0.0.1:%1").arg(port);
    QStringList args{QStringLiteral("setup"),
                     QStringLiteral("--dir"),
                     dir,
                     QStringLiteral("--pki"),
                     pkiDir,
                     QStringLiteral("--listen"),
                     agent->d->target,
                     QStringLiteral("--name"),
                     name,
                     QStringLiteral("--hardware"),
                     hardware};
    if (!pinEnv.isEmpty())
        args << QStringLiteral("--pin-env") << pinEnv;
    if (!bootBackend.isEmpty())
        args << QStringLiteral("--boot-backend") << bootBackend;
    QProcess setup;
    setup.setProcessChannelMode(QProcess::MergedChannels);
    setup.start(QDir(binDir).filePath(QStringLiteral("otafleet-agent")), args);
    if (!setup.waitForFinished(120000) || setup.exitStatus() != QProcess::NormalExit ||
        setup.exitCode() != 0) {
        return fail(QStringLiteral("test.agent-setup"),
                    QStringLiteral("otafleet-agent setup failed: %1")
                        .arg(QString::fromUtf8(setup.readAll())));
    }
    return agent;
}

Status AgentProcess::start(int timeoutMs) {
    if (isRunning())
        return {};
    QFile log(d->logPath());
    const qint64 from = log.exists() ? log.size() : 0;
    d->process.setStandardOutputFile(d->logPath(), QIODevice::Append);
    d->process.setStandardErrorFile(d->logPath(), QIODevice::Append);
    d->process.start(QDir(d->binDir).filePath(QStringLiteral("otafleet-agent")),
                     {QStringLiteral("--config"), configPath()});
    if (!d->process.waitForStarted(timeoutMs)) {
        return fail(
            QStringLiteral("test.agent-start"),
            QStringLiteral("otafleet-agent did not start: %1").arg(d->process.errorString()));
    }
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < timeoutMs) {
        if (log.open(QIODevice::ReadOnly)) {
            log.seek(from);
            const QByteArray text = log.readAll();
            log.close();
            if (text.contains("otafleet-agent: listening on"))
                return {};
        }
        if (d->process.waitForFinished(20)) {
            return fail(QStringLiteral("test.agent-start"),
                        QStringLiteral("otafleet-agent exited with %1: %2")
                            .arg(d->process.exitCode())
                            .arg(QString::fromUtf8(output().mid(from))));
        }
    }
    return fail(QStringLiteral("test.agent-start"),
                QStringLiteral("otafleet-agent did not print its listening line within %1 ms: %2")
                    .arg(timeoutMs)
                    .arg(QString::fromUtf8(output().mid(from))));
}

void AgentProcess::kill() {
    if (d->process.state() == QProcess::NotRunning)
        return;
    d->process.kill();
    d->process.waitForFinished(10000);
}

bool AgentProcess::isRunning() const {
    return d->process.state() != QProcess::NotRunning && !d->process.waitForFinished(0);
}

QString AgentProcess::target() const {
    return d->target;
}
QString AgentProcess::dir() const {
    return d->dir;
}
QString AgentProcess::configPath() const {
    return QDir(d->dir).filePath(QStringLiteral("agent.conf"));
}

qint64 AgentProcess::pid() const {
    return isRunning() ? d->process.processId() : 0;
}

QByteArray AgentProcess::output() const {
    QFile log(d->logPath());
    return log.open(QIODevice::ReadOnly) ? log.readAll() : QByteArray();
}

}  // namespace otafleet::test
