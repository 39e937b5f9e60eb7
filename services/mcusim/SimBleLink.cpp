#include "mcusim/SimBleLink.h"

#include "mcusim/SimServers.h"

#include <QTimer>

namespace otafleet::mcusim {

SimBleLink::SimBleLink(SimDevice& device, SimBleOptions options, QObject* parent)
    : smp::GattLink(parent), m_device(device), m_options(options) {
    m_clock.start();
}

Status SimBleLink::connectToDevice() {
    if (m_connecting || m_ready) {
        return {};
    }
    m_connecting = true;
    const quint64 generation = ++m_generation;
    // A device still booting after a reset is not advertising yet.
    const qint64 wait = qMax<qint64>(0, m_bootedAt - m_clock.elapsed());
    QTimer::singleShot(int(wait), this, [this, generation] { becomeReady(generation); });
    return {};
}

void SimBleLink::becomeReady(quint64 generation) {
    if (generation != m_generation || !m_connecting) {
        return;
    }
    m_connecting = false;
    m_ready = true;
    m_mtu = smp::kBleDefaultMtu;
    m_requests.reset();
    ++m_counters.connects;
    Q_EMIT ready();
    if (m_options.exchangeMtu) {
        // The exchange completes after the connection is up; writes before it use 23.
        QTimer::singleShot(0, this, [this, generation] {
            if (generation != m_generation || !m_ready) {
                return;
            }
            m_mtu = qBound(smp::kBleDefaultMtu, qMin(m_options.centralMtu, m_options.peripheralMtu),
                           smp::kBleMaxMtu);
            Q_EMIT mtuChanged(m_mtu);
        });
    }
}

bool SimBleLink::isAdvertising() const {
    return !m_ready && !m_connecting && m_clock.elapsed() >= m_bootedAt;
}

void SimBleLink::disconnectFromDevice() {
    ++m_generation;
    m_connecting = false;
    m_ready = false;
    m_mtu = smp::kBleDefaultMtu;
    m_requests.reset();
}

void SimBleLink::dropLink() {
    lose(Error{QStringLiteral("smp.link-lost"),
               QStringLiteral("The Bluetooth LE connection to the simulated device was lost; "
                              "move closer and run the command again.")});
}

void SimBleLink::lose(const Error& error) {
    if (!m_ready && !m_connecting) {
        return;
    }
    disconnectFromDevice();
    ++m_counters.drops;
    QTimer::singleShot(0, this, [this, error] { Q_EMIT failed(error); });
}

QString SimBleLink::description() const {
    return QStringLiteral("simulated Bluetooth LE device (ATT MTU %1)").arg(m_mtu);
}

void SimBleLink::writeWithoutResponse(const QByteArray& value) {
    if (!m_ready) {
        return;  // a write on a connection that is gone goes nowhere
    }
    ++m_counters.writes;
    m_counters.largestWrite = qMax(m_counters.largestWrite, int(value.size()));
    if (value.size() > smp::blePayloadSize(m_mtu)) {
        ++m_counters.oversizeWrites;  // the ATT server refuses it
        return;
    }
    const quint64 generation = m_generation;
    QTimer::singleShot(0, this, [this, value, generation] { deviceReceives(value, generation); });
}

void SimBleLink::deviceReceives(const QByteArray& value, quint64 generation) {
    if (generation != m_generation) {
        return;
    }
    for (const auto& request : m_requests.feed(value, m_clock.elapsed())) {
        if (!request) {
            ++m_counters.requestErrors;
            continue;
        }
        const SimDevice::Reply reply = m_device.handle(*request);
        if (reply.dropLink && !reply.resetAfter) {
            lose(Error{QStringLiteral("smp.link-lost"),
                       QStringLiteral("The Bluetooth LE connection to the simulated device was "
                                      "lost mid-transfer; run the command again to resume.")});
            return;
        }
        const int limit = m_options.notificationLimit > 0
                              ? qMin(m_options.notificationLimit, smp::blePayloadSize(m_mtu))
                              : smp::blePayloadSize(m_mtu);
        // splitForBle cuts at MTU - 3; a smaller limit is applied by cutting at limit + 3.
        const QList<QByteArray> pieces =
            smp::splitForBle(reply.packet, limit + smp::kAttHeaderSize);
        if (pieces.size() > 1) {
            ++m_counters.responsesSplit;
        }
        for (const QByteArray& piece : pieces) {
            ++m_counters.notifications;
            m_counters.largestNotification =
                qMax(m_counters.largestNotification, int(piece.size()));
            QTimer::singleShot(0, this, [this, piece, generation] {
                if (generation == m_generation) {
                    Q_EMIT notified(piece);
                }
            });
        }
        if (reply.resetAfter) {
            // The answer goes out, then the device reboots and its connection ends.
            QTimer::singleShot(0, this, [this, generation] {
                if (generation != m_generation) {
                    return;
                }
                m_device.reset();
                m_bootedAt = m_clock.elapsed() + kBootMilliseconds;
                lose(Error{QStringLiteral("smp.link-lost"),
                           QStringLiteral("The simulated device reset and ended its Bluetooth LE "
                                          "connection.")});
            });
            return;
        }
    }
}

}  // namespace otafleet::mcusim
