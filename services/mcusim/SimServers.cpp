#include "mcusim/SimServers.h"

#include <QNetworkDatagram>
#include <QSocketNotifier>
#include <QUdpSocket>

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace otafleet::mcusim {
namespace {

constexpr int kPaceIntervalMs = 5;
constexpr int kBitsPerByte = 10;  // 8N1: start bit, eight data bits, stop bit
constexpr qsizetype kReadChunk = 4096;

QByteArray bootBanner() {
    return QByteArrayLiteral("*** Booting MCUboot ***\r\n*** Booting Zephyr OS ***\r\n");
}

}  // namespace

SimPtyServer::SimPtyServer(SimDevice& device, int baud, QObject* parent)
    : QObject(parent), m_device(device), m_baud(baud) {
    m_pace.setInterval(kPaceIntervalMs);
    connect(&m_pace, &QTimer::timeout, this, &SimPtyServer::pump);
    m_readPace.setInterval(kPaceIntervalMs);
    m_readPace.setSingleShot(true);
    connect(&m_readPace, &QTimer::timeout, this, [this] {
        m_notifier->setEnabled(true);
        onReadable();
    });
    m_clock.start();
}

SimPtyServer::~SimPtyServer() {
    if (m_slaveHold >= 0) {
        ::close(m_slaveHold);
    }
    if (m_master >= 0) {
        ::close(m_master);
    }
}

Result<QString> SimPtyServer::start() {
    const auto failed = [](const char* what) {
        return fail(
            QStringLiteral("mcusim.pty-failed"),
            QStringLiteral("Cannot create a pseudo-terminal (%1: %2); check that "
                           "/dev/ptmx is available.")
                .arg(QString::fromLatin1(what), QString::fromLocal8Bit(std::strerror(errno))));
    };
    m_master = ::posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (m_master < 0) {
        return failed("posix_openpt");
    }
    if (::grantpt(m_master) != 0 || ::unlockpt(m_master) != 0) {
        return failed("unlockpt");
    }
    const char* name = ::ptsname(m_master);
    if (name == nullptr) {
        return failed("ptsname");
    }
    const QString path = QString::fromLocal8Bit(name);
    // Raw mode from the start: no echo, no line editing, so a client that opens the port late
    // still sees exactly the bytes a UART would carry.
    m_slaveHold = ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    termios tio{};
    if (m_slaveHold < 0 || ::tcgetattr(m_slaveHold, &tio) != 0) {
        return failed("tcgetattr");
    }
    ::cfmakeraw(&tio);
    if (::tcsetattr(m_slaveHold, TCSANOW, &tio) != 0) {
        return failed("tcsetattr");
    }
    m_notifier = new QSocketNotifier(m_master, QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &SimPtyServer::onReadable);
    queue(bootBanner());
    return path;
}

void SimPtyServer::queue(const QByteArray& bytes) {
    m_out += bytes;
    if (!m_pace.isActive()) {
        m_lastPump = m_clock.elapsed();
        m_budget = 0;
        m_pace.start();
    }
    pump();
}

void SimPtyServer::pump() {
    qsizetype allowed = m_out.size();
    if (m_baud > 0) {
        const qint64 now = m_clock.elapsed();
        m_budget += double(now - m_lastPump) * m_baud / kBitsPerByte / 1000.0;
        m_lastPump = now;
        allowed = qMin(allowed, qsizetype(m_budget));
    }
    if (allowed > 0) {
        const ssize_t written = ::write(m_master, m_out.constData(), size_t(allowed));
        if (written > 0) {
            m_out.remove(0, written);
            m_budget -= double(written);
        }
    }
    if (m_out.isEmpty()) {
        m_pace.stop();
    }
}

void SimPtyServer::onReadable() {
    char buffer[kReadChunk];
    qsizetype allowed = kReadChunk;
    if (m_baud > 0) {
        const qint64 now = m_clock.elapsed();
        const double perMs = double(m_baud) / kBitsPerByte / 1000.0;
        // Idle time does not bank more than a few intervals of bytes.
        m_readBudget = qMin(m_readBudget + double(now - m_lastRead) * perMs,
                            qMax(1.0, perMs * kPaceIntervalMs * 2));
        m_lastRead = now;
        allowed = qMin(allowed, qsizetype(m_readBudget));
        if (allowed == 0) {
            m_notifier->setEnabled(false);
            m_readPace.start();
            return;
        }
    }
    const ssize_t got = ::read(m_master, buffer, size_t(allowed));
    m_readBudget -= double(qMax<ssize_t>(got, 0));
    if (got <= 0) {
        return;
    }
    if (m_clock.elapsed() < m_deafUntil) {
        return;  // still booting: what arrives now is lost, as on a real UART
    }
    for (const auto& packet : m_deframer.feed(QByteArrayView(buffer, got))) {
        if (!packet) {
            continue;  // a device drops a damaged frame without a word
        }
        const SimDevice::Reply reply = m_device.handle(*packet);
        if (!reply.packet.isEmpty()) {
            queue(smp::encodeSerialFrame(reply.packet));
        }
        if (reply.resetAfter) {
            m_device.reset();
            m_deframer = smp::SerialDeframer();
            m_deafUntil = m_clock.elapsed() + kBootMilliseconds;
            queue(bootBanner());
            return;
        }
        if (reply.dropLink) {
            Q_EMIT linkDropped();
            return;
        }
    }
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
