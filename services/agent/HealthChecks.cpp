#include "agent/HealthChecks.h"

#include "agent/Logging.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QProcessEnvironment>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace otafleet::agent {
namespace {

QString lastError() {
    return QString::fromLocal8Bit(std::strerror(errno));
}

HealthCheckResult checkWritable(const QString& dir) {
    HealthCheckResult r{QStringLiteral("data-writable"), false, {}};
    const QByteArray probe = QFile::encodeName(QDir(dir).filePath(QStringLiteral(".health-probe")));
    const int fd = ::open(probe.constData(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        r.detail = QStringLiteral("cannot create a file in %1: %2").arg(dir, lastError());
        return r;
    }
    const char byte = 'h';
    const bool written = ::write(fd, &byte, 1) == 1 && ::fsync(fd) == 0;
    const QString error = written ? QString() : lastError();
    ::close(fd);
    ::unlink(probe.constData());
    r.ok = written;
    r.detail = written ? QStringLiteral("%1 is writable").arg(dir)
                       : QStringLiteral("cannot write to %1: %2").arg(dir, error);
    return r;
}

HealthCheckResult checkFreeSpace(const QString& dir, quint64 minFree) {
    HealthCheckResult r{QStringLiteral("free-space"), false, {}};
    struct statvfs fs {};
    if (::statvfs(QFile::encodeName(dir).constData(), &fs) != 0) {
        r.detail = QStringLiteral("cannot read the free space of %1: %2").arg(dir, lastError());
        return r;
    }
    const quint64 free = quint64(fs.f_bavail) * fs.f_frsize;
    r.ok = free >= minFree;
    r.detail = QStringLiteral("%1 bytes free in %2, %3 needed").arg(free).arg(dir).arg(minFree);
    return r;
}

// A TCP connect with a deadline, to every address the name resolves to until one answers.
HealthCheckResult checkTcp(const QString& target, std::chrono::milliseconds timeout) {
    HealthCheckResult r{QStringLiteral("tcp %1").arg(target), false, {}};
    const qsizetype colon = target.lastIndexOf(u':');
    QString host = target.left(colon);
    if (host.startsWith(u'[') && host.endsWith(u']'))
        host = host.mid(1, host.size() - 2);
    const QByteArray hostBytes = host.toUtf8();
    const QByteArray port = target.mid(colon + 1).toLatin1();
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (const int rc = ::getaddrinfo(hostBytes.constData(), port.constData(), &hints, &found);
        rc != 0) {
        r.detail = QStringLiteral("cannot resolve %1: %2")
                       .arg(host, QString::fromLocal8Bit(::gai_strerror(rc)));
        return r;
    }
    QString lastProblem = QStringLiteral("no address");
    for (addrinfo* a = found; a != nullptr && !r.ok; a = a->ai_next) {
        const int fd =
            ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            lastProblem = lastError();
            continue;
        }
        int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            pollfd p{fd, POLLOUT, 0};
            rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
            if (rc == 1) {
                int error = 0;
                socklen_t length = sizeof error;
                ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
                errno = error;
                rc = error == 0 ? 0 : -1;
            } else {
                errno = rc == 0 ? ETIMEDOUT : errno;
                rc = -1;
            }
        }
        if (rc == 0) {
            r.ok = true;
        } else {
            lastProblem = lastError();
        }
        ::close(fd);
    }
    ::freeaddrinfo(found);
    r.detail = r.ok ? QStringLiteral("%1 accepts connections").arg(target)
                    : QStringLiteral("%1 cannot be reached: %2").arg(target, lastProblem);
    return r;
}

}  // namespace

QList<HealthCheckResult> runBuiltinHealthChecks(const HealthCheckSpec& spec) {
    QList<HealthCheckResult> results;
    results.append(checkWritable(spec.dataDir));
    if (spec.minFreeBytes > 0)
        results.append(checkFreeSpace(spec.dataDir, spec.minFreeBytes));
    for (const QString& target : spec.tcpTargets)
        results.append(checkTcp(target, spec.timeout));
    return results;
}

bool allHealthy(const QList<HealthCheckResult>& results) {
    return std::all_of(results.begin(), results.end(),
                       [](const HealthCheckResult& r) { return r.ok; });
}

HealthCommandResult runHealthCommand(const HealthCommandSpec& spec) {
    HealthCommandResult result;
    QStringList args = QProcess::splitCommand(spec.commandLine);
    if (args.isEmpty())
        return result;
    QProcess process;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const auto& [name, value] : spec.environment)
        env.insert(name, value);
    process.setProcessEnvironment(env);
    process.setProcessChannelMode(QProcess::ForwardedChannels);
    process.setStandardInputFile(QProcess::nullDevice());
    // Its own process group, so a timeout kills the command and everything it started.
    process.setChildProcessModifier([] { ::setpgid(0, 0); });
    const QString program = args.takeFirst();
    process.start(program, args);
    if (!process.waitForStarted(5000)) {
        qCWarning(lcAgent).noquote() << "health command could not start:" << program;
        return result;
    }
    if (!process.waitForFinished(static_cast<int>(spec.timeout.count()))) {
        qCWarning(lcAgent) << "health command timed out after" << spec.timeout.count() << "ms";
        ::kill(-static_cast<pid_t>(process.processId()), SIGKILL);
        process.waitForFinished(2000);
        result.timedOut = true;
        return result;
    }
    const bool normal = process.exitStatus() == QProcess::NormalExit;
    result.exitCode = normal ? process.exitCode() : -1;
    result.ok = normal && process.exitCode() == 0;
    qCInfo(lcAgent) << "health command exited with" << process.exitCode()
                    << (result.ok ? "(healthy)" : "(unhealthy)");
    return result;
}

}  // namespace otafleet::agent
