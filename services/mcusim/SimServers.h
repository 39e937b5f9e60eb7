// How a simulated device is reached: a pseudo-terminal that behaves like a USB CDC-ACM port
// running Zephyr's SMP serial transport (with console text between frames and output paced at a
// baud rate), and a UDP socket running SMP over UDP (one packet per datagram).
#pragma once

#include "common/Error.h"
#include "mcusim/SimDevice.h"
#include "smp/SmpSerial.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QObject>
#include <QTimer>

class QSocketNotifier;
class QUdpSocket;

namespace otafleet::mcusim {

// How long a reset keeps the device deaf (MCUboot and the application booting).
inline constexpr int kBootMilliseconds = 150;

class SimPtyServer : public QObject {
    Q_OBJECT

public:
    // baud 0: no pacing; otherwise both directions move at most baud/10 bytes a second.
    SimPtyServer(SimDevice& device, int baud, QObject* parent = nullptr);
    ~SimPtyServer() override;

    // Opens the pty; returns the path a client opens (/dev/pts/N). Error mcusim.pty-failed.
    [[nodiscard]] Result<QString> start();

Q_SIGNALS:
    void linkDropped();

private:
    void onReadable();
    void pump();
    void queue(const QByteArray& bytes);

    SimDevice& m_device;
    int m_baud;
    int m_master = -1;
    int m_slaveHold = -1;  // keeps the pty open while no client is, so reads never fail
    QSocketNotifier* m_notifier = nullptr;
    smp::SerialDeframer m_deframer;
    QByteArray m_out;
    QTimer m_pace;
    QElapsedTimer m_clock;
    qint64 m_lastPump = 0;
    double m_budget = 0;
    // Input is paced too: a UART at N baud cannot take bytes faster than the sender's UART
    // puts them on the wire.
    qint64 m_lastRead = 0;
    double m_readBudget = 0;
    QTimer m_readPace;
    qint64 m_deafUntil = 0;
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
