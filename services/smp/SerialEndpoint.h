// The device end of an SMP serial line (smp/SmpSerial.h framing): a pseudo-terminal it makes
// itself (simulators, tests, bench setups: a client opens the path it returns) or a tty it opens
// (a USB gadget port such as /dev/ttyGS0, a UART), read and written without ever blocking the
// thread that owns it. Optionally paced in both directions at a baud rate, as a UART is, so a pty
// behaves like a real line. Packets it de-frames go to a handler; console text and damaged frames
// between them are dropped without a word, as a device does.
#pragma once

#include "common/Error.h"
#include "smp/SmpSerial.h"

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <functional>

class QSocketNotifier;

namespace otafleet::smp {

class SerialEndpoint : public QObject {
    Q_OBJECT

public:
    // Gets each packet; returns false to drop the rest of the bytes read with it (a reset).
    using PacketHandler = std::function<bool(const QByteArray& packet)>;

    // paceBaud 0: no pacing; otherwise both directions move at most paceBaud/10 bytes a second.
    SerialEndpoint(int paceBaud, PacketHandler handler, QObject* parent = nullptr);
    ~SerialEndpoint() override;

    // A new pty in raw mode; returns the path a client opens (/dev/pts/N). Error smp.pty-failed.
    [[nodiscard]] Result<QString> openPty();
    // The master of a pty that an earlier process image made and kept open across exec(), so
    // a client keeps its port through a restart. Error smp.pty-failed.
    [[nodiscard]] Result<QString> adoptPty(int masterFd);
    // A tty device in raw mode (8N1, no flow control) at `baud`. Errors smp.serial-open-failed,
    // smp.bad-baud.
    [[nodiscard]] Status openDevice(const QString& path, int baud);
    // Hands the descriptor over without closing it (-1 when none): the endpoint stops using it.
    [[nodiscard]] int release();

    // Frames `packet` and queues it.
    void send(QByteArrayView packet);
    // Queues bytes as they are (console text such as a boot banner).
    void sendRaw(const QByteArray& bytes);
    // Forgets a partly received frame and drops whatever arrives in the next `ms` (booting).
    void discardInputFor(int ms);
    [[nodiscard]] bool outputPending() const { return !m_out.isEmpty(); }

Q_SIGNALS:
    // Everything queued has been handed to the line.
    void drained();

private:
    void watch();
    void onReadable();
    void pump();

    int m_baud;
    PacketHandler m_handler;
    int m_fd = -1;
    int m_slaveHold = -1;  // keeps a pty open while no client is, so reads never fail
    QSocketNotifier* m_notifier = nullptr;
    SerialDeframer m_deframer;
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

}  // namespace otafleet::smp
