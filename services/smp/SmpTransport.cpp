#include "smp/SmpTransport.h"

#include "smp/SmpPacket.h"

#include <QNetworkDatagram>
#include <QSerialPort>
#include <QUdpSocket>

namespace otafleet::smp {

SerialTransport::SerialTransport(QString portName, int baud, QObject* parent)
    : SmpTransport(parent),
      m_portName(std::move(portName)),
      m_baud(baud),
      m_port(new QSerialPort(this)) {
    connect(m_port, &QSerialPort::readyRead, this, &SerialTransport::onReadyRead);
    connect(m_port, &QSerialPort::errorOccurred, this, [this](QSerialPort::SerialPortError error) {
        if (error == QSerialPort::ResourceError) {
            Q_EMIT linkError(Error{QStringLiteral("smp.link-lost"),
                                   QStringLiteral("The serial port %1 went away (%2); plug the "
                                                  "device back in and run the command again.")
                                       .arg(m_portName, m_port->errorString())});
        }
    });
}

SerialTransport::~SerialTransport() {
    close();
}

Status SerialTransport::open() {
    m_port->setPortName(m_portName);
    if (!m_port->open(QIODevice::ReadWrite)) {
        return fail(QStringLiteral("smp.open-failed"),
                    QStringLiteral("Cannot open serial port %1 (%2); check the name with "
                                   "'otafleetctl mcu ports' and that you may use it.")
                        .arg(m_portName, m_port->errorString()));
    }
    // A pty refuses line settings that a UART takes; what matters there is raw mode.
    m_port->setBaudRate(m_baud);
    m_port->setDataBits(QSerialPort::Data8);
    m_port->setParity(QSerialPort::NoParity);
    m_port->setStopBits(QSerialPort::OneStop);
    m_port->setFlowControl(QSerialPort::NoFlowControl);
    m_port->clear();
    return {};
}

void SerialTransport::close() {
    if (m_port->isOpen()) {
        m_port->close();
    }
    m_deframer = SerialDeframer();
}

void SerialTransport::send(const QByteArray& packet) {
    m_port->write(encodeSerialFrame(packet));
}

int SerialTransport::wireMilliseconds(qsizetype bytes) const {
    constexpr int kBitsPerByte = 10;
    return m_baud > 0 ? int(serialFrameSize(bytes) * kBitsPerByte * 1000 / m_baud) : 0;
}

QString SerialTransport::description() const {
    return QStringLiteral("serial %1 at %2 baud").arg(m_portName).arg(m_baud);
}

void SerialTransport::onReadyRead() {
    for (const auto& packet : m_deframer.feed(m_port->readAll())) {
        if (packet) {
            Q_EMIT packetReceived(*packet);
        }
        // Damaged frames are dropped here; the request they answered times out and is retried.
    }
}

UdpTransport::UdpTransport(QHostAddress host, quint16 port, QObject* parent)
    : SmpTransport(parent), m_host(std::move(host)), m_port(port), m_socket(new QUdpSocket(this)) {
    connect(m_socket, &QUdpSocket::readyRead, this, &UdpTransport::onReadyRead);
}

Status UdpTransport::open() {
    const bool v6 = m_host.protocol() == QAbstractSocket::IPv6Protocol;
    if (!m_socket->bind(
            v6 ? QHostAddress(QHostAddress::AnyIPv6) : QHostAddress(QHostAddress::AnyIPv4), 0)) {
        return fail(QStringLiteral("smp.open-failed"),
                    QStringLiteral("Cannot open a UDP socket (%1).").arg(m_socket->errorString()));
    }
    return {};
}

void UdpTransport::close() {
    m_socket->close();
}

void UdpTransport::send(const QByteArray& packet) {
    m_socket->writeDatagram(packet, m_host, m_port);
}

QString UdpTransport::description() const {
    return QStringLiteral("udp %1 port %2").arg(m_host.toString()).arg(m_port);
}

void UdpTransport::onReadyRead() {
    while (m_socket->hasPendingDatagrams()) {
        const QNetworkDatagram datagram = m_socket->receiveDatagram(kMaxBodySize + kHeaderSize);
        // Only the device we talk to may answer.
        if (datagram.senderAddress().isEqual(m_host, QHostAddress::TolerantConversion) &&
            datagram.senderPort() == m_port) {
            Q_EMIT packetReceived(datagram.data());
        }
    }
}

Result<std::pair<QHostAddress, quint16>> parseHostPort(const QString& text) {
    const qsizetype colon = text.lastIndexOf(QLatin1Char(':'));
    bool ok = false;
    const uint port = colon > 0 ? text.mid(colon + 1).toUInt(&ok) : 0;
    QString host = colon > 0 ? text.left(colon) : QString();
    if (host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']'))) {
        host = host.mid(1, host.size() - 2);
    }
    const QHostAddress address(host);
    if (!ok || port == 0 || port > 0xffff || address.isNull()) {
        return fail(QStringLiteral("smp.bad-address"),
                    QStringLiteral("'%1' is not HOST:PORT with a numeric address (IPv6 as "
                                   "[ADDR]:PORT).")
                        .arg(text));
    }
    return std::pair(address, quint16(port));
}

}  // namespace otafleet::smp
