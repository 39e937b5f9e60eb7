// Shared by the tests that put real agents on a real otafleetd (tst_serverlink,
// tst_fleetrollout): a loopback port to pin the server to (agents must find a restarted server
// where they dial), a key of agent.conf, and an agent set up, given a device identity from the
// PKI's device CA and [server] address: what `otafleet-agent enroll` leaves behind.
#pragma once

#include "AgentProcess.h"
#include "TestPki.h"
#include "common/AtomicFile.h"

#include <QDir>
#include <QFile>
#include <QRegularExpression>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

namespace otafleet::test {

inline quint16 freeLoopbackPort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    quint16 port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        socklen_t len = sizeof addr;
        if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
            port = ntohs(addr.sin_port);
    }
    ::close(fd);
    return port;
}

inline QString configValue(const QString& configPath, const QString& key) {
    QFile f(configPath);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const QRegularExpression line(QStringLiteral("^%1\\s*=\\s*(\\S+)\\s*$").arg(key),
                                  QRegularExpression::MultilineOption);
    return line.match(QString::fromUtf8(f.readAll())).captured(1);
}

inline std::unique_ptr<AgentProcess> enrolledDialler(const QString& binDir, const TestPki& pki,
                                                     const QString& dir, const QString& name,
                                                     const QString& serverAddress) {
    auto agent = AgentProcess::setUp(binDir, dir, pki.pkiDir, name, QStringLiteral("rev-a"),
                                     QString::fromLatin1(TestPki::kPinEnv));
    if (!agent) {
        qWarning("%s", qPrintable(agent.error().toString()));
        return nullptr;
    }
    const QString id = configValue((*agent)->configPath(), QStringLiteral("id"));
    auto identity = pki.pki.issueDeviceIdentity(id, pki.pinProvider());
    if (!identity)
        return nullptr;
    const QDir agentDir((*agent)->dir());
    if (!writeFileAtomically(agentDir.filePath(QStringLiteral("tls/device.pem")),
                             identity->certificateChainPem) ||
        !writeFileAtomically(agentDir.filePath(QStringLiteral("tls/device.key")),
                             identity->privateKeyPem, 0600)) {
        return nullptr;
    }
    QFile conf((*agent)->configPath());
    if (!conf.open(QIODevice::Append))
        return nullptr;
    conf.write(QStringLiteral("\n[identity]\ncertificate = tls/device.pem\nkey = "
                              "tls/device.key\n\n[server]\naddress = %1\n")
                   .arg(serverAddress)
                   .toUtf8());
    return std::move(*agent);
}

}  // namespace otafleet::test
