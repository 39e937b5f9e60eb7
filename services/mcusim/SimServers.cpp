#include "mcusim/SimServers.h"

#include <QNetworkDatagram>
#include <QUdpSocket>

namespace otafleet::mcusim {
namespace {

QByteArray bootBanner() {
    return QByteArrayLiteral("*** Booting MCUboot ***\r\n*** Booting Zephyr OS ***\r\n");
}

}  // namespace

SimPtyServer::SimPtyServer(SimDevice& device, int baud, QObject* parent)
    : QObject(parent),
      m_device(device),
      m_endpoint(baud, [this](const QByteArray& packet) { return onPacket(packet); }) {}

Result<QString> SimPtyServer::start() {
    auto path = m_endpoint.openPty();
    if (!path) {
        return fail(QStringLiteral("mcusim.pty-failed"), path.error().message);
    }
    m_endpoint.sendRaw(bootBanner());
    return path;
}

bool SimPtyServer::onPacket(const QByteArray& packet) {
    const SimDevice::Reply reply = m_device.handle(packet);
    if (!reply.packet.isEmpty()) {
        m_endpoint.send(reply.packet);
    }
    if (reply.resetAfter) {
        m_device.reset();
        m_endpoint.discardInputFor(kBootMilliseconds);
        m_endpoint.sendRaw(bootBanner());
        return false;
    }
    if (reply.dropLink) {
        Q_EMIT linkDropped();
        return false;
    }
    return true;
}

SimUdpServer::SimUdpServer(SimDevice& device, QObject* parent)
    : QObject(parent), m_device(device), m_socket(new QUdpSocket(this)) {
    connect(m_socket, &QUdpSocket::readyRead, this, &SimUdpServer::onReadyRead);
    m_clock.start();
}

Result<std::pair<QHostAddress, quint16>> SimUdpServer::start(const QHostAddress& host,
                                                             quint16 port) {
    if (!m_socket->bind(host, port)) {
        return fail(QStringLiteral("mcusim.udp-failed"),
                    QStringLiteral("Cannot listen for SMP over UDP on %1:%2 (%3); pick a free "
                                   "port or 0.")
                        .arg(host.toString())
                        .arg(port)
                        .arg(m_socket->errorString()));
    }
    return std::pair(m_socket->localAddress(), m_socket->localPort());
}

void SimUdpServer::onReadyRead() {
    while (m_socket->hasPendingDatagrams()) {
        const QNetworkDatagram datagram =
            m_socket->receiveDatagram(smp::kMaxBodySize + smp::kHeaderSize);
        if (m_clock.elapsed() < m_deafUntil) {
            continue;
        }
        const SimDevice::Reply reply = m_device.handle(datagram.data());
        if (!reply.packet.isEmpty()) {
            m_socket->writeDatagram(reply.packet, datagram.senderAddress(), datagram.senderPort());
        }
        if (reply.resetAfter) {
            m_device.reset();
            m_deafUntil = m_clock.elapsed() + kBootMilliseconds;
        } else if (reply.dropLink) {
            Q_EMIT linkDropped();
            return;
        }
    }
}

}  // namespace otafleet::mcusim
