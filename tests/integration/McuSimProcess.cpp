#include "McuSimProcess.h"

#include <QDeadlineTimer>

namespace otafleet::test {

bool McuSimProcess::start(const QString& dir, const QString& publicKey,
                          const QStringList& extraArgs) {
    constexpr int kStartMs = 10'000;
    m_process.setProgram(QStringLiteral(OTAFLEET_BIN_DIR "/otafleet-mcusim"));
    m_process.setArguments(
        QStringList{QStringLiteral("--dir"), dir, QStringLiteral("--key"), publicKey} + extraArgs);
    m_process.setProcessChannelMode(QProcess::SeparateChannels);
    m_process.start();
    const bool wantPty = extraArgs.contains(QStringLiteral("--pty"));
    const bool wantUdp = extraArgs.contains(QStringLiteral("--udp"));
    QDeadlineTimer deadline(kStartMs);
    QByteArray pending;
    while (!deadline.hasExpired() &&
           ((wantPty && m_pty.isEmpty()) || (wantUdp && m_udp.isEmpty()))) {
        if (!m_process.waitForReadyRead(int(deadline.remainingTime()))) {
            break;
        }
        pending += m_process.readAllStandardOutput();
        qsizetype newline = 0;
        while ((newline = pending.indexOf('\n')) >= 0) {
            const QString line = QString::fromUtf8(pending.left(newline));
            pending.remove(0, newline + 1);
            if (line.startsWith(QStringLiteral("pty: "))) {
                m_pty = line.mid(5);
            } else if (line.startsWith(QStringLiteral("udp: "))) {
                m_udp = line.mid(5);
            }
        }
    }
    if ((wantPty && m_pty.isEmpty()) || (wantUdp && m_udp.isEmpty())) {
        m_error = QString::fromUtf8(m_process.readAllStandardError());
        stop();
        return false;
    }
    return true;
}

void McuSimProcess::stop() {
    if (m_process.state() != QProcess::NotRunning) {
        m_process.kill();
        m_process.waitForFinished(5000);
    }
}

int McuSimProcess::waitForExit(int timeoutMs) {
    if (m_process.state() != QProcess::NotRunning && !m_process.waitForFinished(timeoutMs)) {
        return -1;
    }
    return m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
}

}  // namespace otafleet::test
