// How a simulated device is reached: a pseudo-terminal that behaves like a USB CDC-ACM port
// running Zephyr's SMP serial transport (with console text between frames and output paced at a
// baud rate), and a UDP socket running SMP over UDP (one packet per datagram).
#pragma once

#include "common/Error.h"
#include "mcusim/SimDevice.h"
#include "smp/SerialEndpoint.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QObject>
#include <QTimer>

class QUdpSocket;

namespace otafleet::mcusim {

// How long a reset keeps the device deaf (MCUboot and the application booting).
inline constexpr int kBootMilliseconds = 150;

class SimPtyServer : public QObject {
    Q_OBJECT

public:
    // baud 0: no pacing; otherwise both directions move at most baud/10 bytes a second.
    SimPtyServer(SimDevice& device, int baud, QObject* parent = nullptr);

    // Opens the pty; returns the path a client opens (/dev/pts/N). Error mcusim.pty-failed.
    [[nodiscard]] Result<QString> start();

Q_SIGNALS:
    void linkDropped();

private:
    bool onPacket(const QByteArray& packet);

    SimDevice& m_device;
    smp::SerialEndpoint m_endpoint;
};

class SimUdpServer : public QObject {
    Q_OBJECT

public:
    SimUdpServer(SimDevice& device, QObject* parent = nullptr);

    // Binds; returns the bound address and port. Error mcusim.udp-failed.
    [[nodiscard]] Result<std::pair<QHostAddress, quint16>> start(const QHostAddress& host,
                                                                 quint16 port);

Q_SIGNALS:
    void linkDropped();

private:
    void onReadyRead();

    SimDevice& m_device;
    QUdpSocket* m_socket;
    QElapsedTimer m_clock;
    qint64 m_deafUntil = 0;
};

}  // namespace otafleet::mcusim
