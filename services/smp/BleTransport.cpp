#include "smp/BleTransport.h"

#include <QLoggingCategory>
#include <QTimer>

namespace otafleet::smp {
namespace {

Q_LOGGING_CATEGORY(lcSmpBle, "otafleet.smp.ble")

// Requests held while the link connects; more than a client keeps in flight.
constexpr qsizetype kMaxWaiting = 64;
// A conservative radio pace for timeouts: one piece per 7.5 ms connection interval.
constexpr int kMillisecondsPerPiece = 8;

}  // namespace

BleTransport::BleTransport(std::unique_ptr<GattLink> gatt, QObject* parent)
    : SmpTransport(parent), m_gatt(std::move(gatt)) {
    m_gatt->setParent(nullptr);
    connect(m_gatt.get(), &GattLink::ready, this, &BleTransport::onReady);
    connect(m_gatt.get(), &GattLink::notified, this, &BleTransport::onNotified);
    connect(m_gatt.get(), &GattLink::failed, this, &BleTransport::onFailed);
    m_clock.start();
}

BleTransport::~BleTransport() {
    m_gatt->disconnect(this);
    m_gatt->disconnectFromDevice();
}

Status BleTransport::open() {
    m_wanted = true;
    if (m_state != State::Closed) {
        return {};
    }
    return connectNow();
}

Status BleTransport::connectNow() {
    m_reassembler.reset();
    if (Status started = m_gatt->connectToDevice(); !started) {
        return started;
    }
    m_state = State::Connecting;
    return {};
}

void BleTransport::close() {
    m_wanted = false;
    m_waiting.clear();
    m_reassembler.reset();
    if (m_state != State::Closed) {
        m_state = State::Closed;
        m_gatt->disconnectFromDevice();
    }
}

void BleTransport::send(const QByteArray& packet) {
    switch (m_state) {
        case State::Ready:
            write(packet);
            return;
        case State::Connecting:
            // A client's retry resends the same bytes; one copy is enough once the link is up.
            if (m_waiting.size() < kMaxWaiting && !m_waiting.contains(packet)) {
                m_waiting.append(packet);
            }
            return;
        case State::Closed:
            break;
    }
    if (!m_wanted) {
        return;  // closed on purpose: the request times out like one sent to an unplugged port
    }
    if (Status started = connectNow(); !started) {
        // Reported on the next turn, so a caller's call() never sees its callback re-entered.
        QTimer::singleShot(0, this, [this, error = started.error()] { Q_EMIT linkError(error); });
        return;
    }
    m_waiting.append(packet);
}

void BleTransport::write(const QByteArray& packet) {
    // The MTU is read per packet: an exchange that completes late raises it for what follows.
    for (const QByteArray& piece : splitForBle(packet, m_gatt->mtu())) {
        m_gatt->writeWithoutResponse(piece);
    }
}

int BleTransport::wireMilliseconds(qsizetype bytes) const {
    const qsizetype piece = blePayloadSize(m_gatt->mtu());
    return int((bytes + piece - 1) / piece) * kMillisecondsPerPiece;
}

QString BleTransport::description() const {
    return m_gatt->description();
}

void BleTransport::onReady() {
    if (m_state != State::Connecting) {
        return;
    }
    m_state = State::Ready;
    qCDebug(lcSmpBle) << "ready, MTU" << m_gatt->mtu() << "," << m_waiting.size() << "waiting";
    const QList<QByteArray> waiting = std::exchange(m_waiting, {});
    for (const QByteArray& packet : waiting) {
        write(packet);
    }
}

void BleTransport::onNotified(const QByteArray& value) {
    for (auto& packet : m_reassembler.feed(value, m_clock.elapsed())) {
        if (packet) {
            Q_EMIT packetReceived(*packet);
            continue;
        }
        // Dropped like a damaged serial frame: the request it answered times out and is retried.
        ++m_reassemblyErrors;
        m_lastReassemblyError = packet.error();
        qCWarning(lcSmpBle) << packet.error().toString();
    }
}

void BleTransport::onFailed(const Error& error) {
    m_state = State::Closed;
    m_waiting.clear();
    m_reassembler.reset();
    Q_EMIT linkError(error);
}

}  // namespace otafleet::smp
