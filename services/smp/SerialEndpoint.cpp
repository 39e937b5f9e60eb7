#include "smp/SerialEndpoint.h"

#include <QSocketNotifier>

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <utility>

namespace otafleet::smp {
namespace {

constexpr int kPaceIntervalMs = 5;
constexpr int kBitsPerByte = 10;  // 8N1: start bit, eight data bits, stop bit
constexpr qsizetype kReadChunk = 4096;
// After a hang-up (a USB host that went away: read() gives 0 or EIO) the port is tried again this
// often instead of spinning on a descriptor that is always readable.
constexpr int kHangupRetryMs = 250;

QString lastError() {
    return QString::fromLocal8Bit(std::strerror(errno));
}

Error ptyFailed(const char* what) {
    return Error{QStringLiteral("smp.pty-failed"),
                 QStringLiteral("Cannot create a pseudo-terminal (%1: %2); check that /dev/ptmx "
                                "is available.")
                     .arg(QString::fromLatin1(what), lastError())};
}

// The termios speed of a standard rate, or B0.
speed_t speedOf(int baud) {
    static constexpr std::pair<int, speed_t> kRates[] = {
        {1200, B1200},       {2400, B2400},       {4800, B4800},       {9600, B9600},
        {19200, B19200},     {38400, B38400},     {57600, B57600},     {115200, B115200},
        {230400, B230400},   {460800, B460800},   {921600, B921600},   {1000000, B1000000},
        {2000000, B2000000}, {3000000, B3000000}, {4000000, B4000000},
    };
    for (const auto& [rate, speed] : kRates) {
        if (rate == baud) {
            return speed;
        }
    }
    return B0;
}

// Raw mode: no echo, no line editing, no translation, so the line carries exactly the bytes
// written.
bool makeRaw(int fd, speed_t speed) {
    termios tio{};
    if (::tcgetattr(fd, &tio) != 0) {
        return false;
    }
    ::cfmakeraw(&tio);
    tio.c_cflag |= CLOCAL | CREAD;
    tio.c_cflag &= ~CRTSCTS;
    if (speed != B0 && ::cfsetspeed(&tio, speed) != 0) {
        return false;
    }
    return ::tcsetattr(fd, TCSANOW, &tio) == 0;
}

}  // namespace

SerialEndpoint::SerialEndpoint(int paceBaud, PacketHandler handler, QObject* parent)
    : QObject(parent), m_baud(paceBaud), m_handler(std::move(handler)) {
    m_pace.setInterval(kPaceIntervalMs);
    connect(&m_pace, &QTimer::timeout, this, &SerialEndpoint::pump);
    m_readPace.setInterval(kPaceIntervalMs);
    m_readPace.setSingleShot(true);
    connect(&m_readPace, &QTimer::timeout, this, [this] {
        if (m_notifier != nullptr) {
            m_notifier->setEnabled(true);
            onReadable();
        }
    });
    m_clock.start();
}

SerialEndpoint::~SerialEndpoint() {
    if (m_slaveHold >= 0) {
        ::close(m_slaveHold);
    }
    if (m_fd >= 0) {
        ::close(m_fd);
    }
}

Result<QString> SerialEndpoint::openPty() {
    const int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (master < 0) {
        return fail(ptyFailed("posix_openpt"));
    }
    if (::grantpt(master) != 0 || ::unlockpt(master) != 0) {
        ::close(master);
        return fail(ptyFailed("unlockpt"));
    }
    return adoptPty(master);
}

Result<QString> SerialEndpoint::adoptPty(int masterFd) {
    // ptsname_r: the agent opens its pty off the main thread.
    char name[128] = {};
    if (::ptsname_r(masterFd, name, sizeof name) != 0) {
        ::close(masterFd);
        return fail(ptyFailed("ptsname"));
    }
    ::fcntl(masterFd, F_SETFD, FD_CLOEXEC);
    ::fcntl(masterFd, F_SETFL, ::fcntl(masterFd, F_GETFL) | O_NONBLOCK);
    // Raw from the start, so a client that opens the port late still sees exactly the bytes a
    // UART would carry.
    const int slave = ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0 || !makeRaw(slave, B0)) {
        const Error error = ptyFailed("tcsetattr");
        if (slave >= 0) {
            ::close(slave);
        }
        ::close(masterFd);
        return fail(error);
    }
    m_fd = masterFd;
    m_slaveHold = slave;
    watch();
    return QString::fromLocal8Bit(name);
}

Status SerialEndpoint::openDevice(const QString& path, int baud) {
    const speed_t speed = speedOf(baud);
    if (speed == B0) {
        return fail(QStringLiteral("smp.bad-baud"),
                    QStringLiteral("%1 baud is not a standard serial rate; use 115200 or another "
                                   "rate from 1200 to 4000000.")
                        .arg(baud));
    }
    const int fd =
        ::open(path.toLocal8Bit().constData(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 || !makeRaw(fd, speed)) {
        const QString why = lastError();
        if (fd >= 0) {
            ::close(fd);
        }
        return fail(QStringLiteral("smp.serial-open-failed"),
                    QStringLiteral("Cannot open the serial port %1 (%2); check the path and that "
                                   "this user may use it (group dialout).")
                        .arg(path, why));
    }
    m_fd = fd;
    watch();
    return {};
}

void SerialEndpoint::watch() {
    m_notifier = new QSocketNotifier(m_fd, QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &SerialEndpoint::onReadable);
}

int SerialEndpoint::release() {
    delete m_notifier;
    m_notifier = nullptr;
    m_pace.stop();
    m_readPace.stop();
    return std::exchange(m_fd, -1);
}

void SerialEndpoint::send(QByteArrayView packet) {
    sendRaw(encodeSerialFrame(packet));
}

void SerialEndpoint::sendRaw(const QByteArray& bytes) {
    m_out += bytes;
    if (!m_pace.isActive()) {
        m_lastPump = m_clock.elapsed();
        m_budget = 0;
        m_pace.start();
    }
    pump();
}

void SerialEndpoint::discardInputFor(int ms) {
    m_deframer = SerialDeframer();
    m_deafUntil = m_clock.elapsed() + ms;
}

void SerialEndpoint::pump() {
    if (m_fd < 0) {
        return;
    }
    qsizetype allowed = m_out.size();
    if (m_baud > 0) {
        const qint64 now = m_clock.elapsed();
        m_budget += double(now - m_lastPump) * m_baud / kBitsPerByte / 1000.0;
        m_lastPump = now;
        allowed = qMin(allowed, qsizetype(m_budget));
    }
    if (allowed > 0) {
        const ssize_t written = ::write(m_fd, m_out.constData(), size_t(allowed));
        if (written > 0) {
            m_out.remove(0, written);
            m_budget -= double(written);
        }
    }
    if (m_out.isEmpty()) {
        m_pace.stop();
        Q_EMIT drained();
    }
}

void SerialEndpoint::onReadable() {
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
            m_readPace.start(kPaceIntervalMs);
            return;
        }
    }
    const ssize_t got = ::read(m_fd, buffer, size_t(allowed));
    m_readBudget -= double(qMax<ssize_t>(got, 0));
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
        m_notifier->setEnabled(false);
        m_readPace.start(kHangupRetryMs);
        return;
    }
    if (got < 0) {
        return;
    }
    if (m_clock.elapsed() < m_deafUntil) {
        return;  // still booting: what arrives now is lost, as on a real UART
    }
    for (const auto& packet : m_deframer.feed(QByteArrayView(buffer, got))) {
        if (!packet) {
            continue;  // a device drops a damaged frame without a word
        }
        if (!m_handler(*packet)) {
            return;
        }
    }
}

}  // namespace otafleet::smp
