// What an SMP client talks through: one packet out, packets in. The serial transport runs
// Zephyr's console framing over a QSerialPort (a USB CDC-ACM port or a pseudo-terminal); the UDP
// transport sends one packet per datagram (SMP over UDP, port 1337 by convention, IPv4 or IPv6).
#pragma once

#include "common/Error.h"
#include "smp/SmpSerial.h"

#include <QHostAddress>
#include <QObject>

#include <memory>

class QSerialPort;
class QUdpSocket;

namespace otafleet::smp {

class SmpTransport : public QObject {
    Q_OBJECT

public:
    using QObject::QObject;
    // Opens the link. Errors: smp.open-failed.
    [[nodiscard]] virtual Status open() = 0;
    virtual void close() = 0;
    virtual void send(const QByteArray& packet) = 0;
    // The largest packet this link carries whatever the device says.
    [[nodiscard]] virtual qsizetype maxPacketSize() const = 0;
    // How long a packet of `bytes` takes on the wire (0 when the link is fast).
    [[nodiscard]] virtual int wireMilliseconds(qsizetype bytes) const {
        Q_UNUSED(bytes);
        return 0;
    }
    [[nodiscard]] virtual QString description() const = 0;

Q_SIGNALS:
    void packetReceived(const QByteArray& packet);
    void linkError(const otafleet::Error& error);
};

class SerialTransport : public SmpTransport {
    Q_OBJECT

public:
    SerialTransport(QString portName, int baud, QObject* parent = nullptr);
    ~SerialTransport() override;
    [[nodiscard]] Status open() override;
    void close() override;
    void send(const QByteArray& packet) override;
    [[nodiscard]] qsizetype maxPacketSize() const override { return kMaxSerialPacket; }
    [[nodiscard]] int wireMilliseconds(qsizetype bytes) const override;
    [[nodiscard]] QString description() const override;

private:
    void onReadyRead();

    QString m_portName;
    int m_baud;
    QSerialPort* m_port;
    SerialDeframer m_deframer;
};

class UdpTransport : public SmpTransport {
    Q_OBJECT

public:
    UdpTransport(QHostAddress host, quint16 port, QObject* parent = nullptr);
    [[nodiscard]] Status open() override;
    void close() override;
    void send(const QByteArray& packet) override;
    // One datagram without IP fragmentation on an Ethernet path (1500 - IPv6 40 - UDP 8).
    [[nodiscard]] qsizetype maxPacketSize() const override { return 1452; }
    [[nodiscard]] QString description() const override;

private:
    void onReadyRead();

    QHostAddress m_host;
    quint16 m_port;
    QUdpSocket* m_socket;
};

// "HOST:PORT" or "[V6]:PORT". Error smp.bad-address.
[[nodiscard]] Result<std::pair<QHostAddress, quint16>> parseHostPort(const QString& text);

}  // namespace otafleet::smp
