#include "ServerProcess.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>

namespace otafleet::test {

struct ServerProcess::Impl {
    QString binDir;
    QString dir;
    QString address;
    QProcess process;
    QString logPath() const { return QDir(dir).filePath(QStringLiteral("otafleetd.log")); }
};

ServerProcess::ServerProcess() : d(std::make_unique<Impl>()) {}

ServerProcess::~ServerProcess() {
    stop();
}

Result<std::unique_ptr<ServerProcess>> ServerProcess::setUp(const QString& binDir,
                                                            const QString& dir,
                                                            const QString& pkiDir,
                                                            const QString& pinEnv,
                                                            const QStringList& extraArgs) {
    std::unique_ptr<ServerProcess> server(new ServerProcess());
    server->d->binDir = binDir;
    server->d->dir = dir;
    QStringList args{QStringLiteral("setup"),
                     QStringLiteral("--dir"),
                     dir,
                     QStringLiteral("--pki"),
                     pkiDir,
                     QStringLiteral("--listen"),
                     QStringLiteral("127.0.0.1:0")};
    if (!pinEnv.isEmpty())
        args << QStringLiteral("--pin-env") << pinEnv;
    args << extraArgs;
    QProcess setup;
    setup.setProcessChannelMode(QProcess::MergedChannels);
    setup.start(QDir(binDir).filePath(QStringLiteral("otafleetd")), args);
    if (!setup.waitForFinished(120000) || setup.exitStatus() != QProcess::NormalExit ||
        setup.exitCode() != 0) {
        return fail(
            QStringLiteral("test.server-setup"),
            QStringLiteral("otafleetd setup failed: %1").arg(QString::fromUtf8(setup.readAll())));
    }
    return server;
}

Status ServerProcess::start(int timeoutMs) {
    if (d->process.state() != QProcess::NotRunning)
        return {};
    QFile log(d->logPath());
    const qint64 from = log.exists() ? log.size() : 0;
    d->process.setStandardOutputFile(d->logPath(), QIODevice::Append);
    d->process.setStandardErrorFile(d->logPath(), QIODevice::Append);
    d->process.start(QDir(d->binDir).filePath(QStringLiteral("otafleetd")),
                     {QStringLiteral("--config"), configPath()});
    if (!d->process.waitForStarted(timeoutMs)) {
        return fail(QStringLiteral("test.server-start"),
                    QStringLiteral("otafleetd did not start: %1").arg(d->process.errorString()));
    }
    static const QRegularExpression listening(
        QStringLiteral("otafleetd: listening on ([0-9.]+):([0-9]+)"));
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < timeoutMs) {
        if (log.open(QIODevice::ReadOnly)) {
            log.seek(from);
            const QString text = QString::fromUtf8(log.readAll());
            log.close();
            const auto match = listening.match(text);
            if (match.hasMatch()) {
                d->address = match.captured(1) + u':' + match.captured(2);
                return {};
            }
        }
        if (d->process.waitForFinished(20)) {
            return fail(QStringLiteral("test.server-start"),
                        QStringLiteral("otafleetd exited with %1: %2")
                            .arg(d->process.exitCode())
                            .arg(QString::fromUtf8(output().mid(from))));
        }
    }
    return fail(QStringLiteral("test.server-start"),
                QStringLiteral("otafleetd did not print its listening line within %1 ms: %2")
                    .arg(timeoutMs)
                    .arg(QString::fromUtf8(output().mid(from))));
}

void ServerProcess::stop() {
    if (d->process.state() == QProcess::NotRunning)
        return;
    d->process.terminate();
    if (!d->process.waitForFinished(5000)) {
        d->process.kill();
        d->process.waitForFinished(5000);
    }
}

void ServerProcess::kill() {
    if (d->process.state() == QProcess::NotRunning)
        return;
    d->process.kill();
    d->process.waitForFinished(5000);
}

qint64 ServerProcess::processId() const {
    return d->process.processId();
}

QString ServerProcess::address() const {
    return d->address;
}

QString ServerProcess::dir() const {
    return d->dir;
}

QString ServerProcess::configPath() const {
    return QDir(d->dir).filePath(QStringLiteral("otafleetd.conf"));
}

QString ServerProcess::databasePath() const {
    return QDir(d->dir).filePath(QStringLiteral("data/otafleetd.sqlite"));
}

QByteArray ServerProcess::output() const {
    QFile log(d->logPath());
    return log.open(QIODevice::ReadOnly) ? log.readAll() : QByteArray();
}

}  // namespace otafleet::test
