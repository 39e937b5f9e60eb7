// The simulated device reached over Bluetooth LE, in-process: a GattLink whose far end is the
// SMP GATT server a Zephyr device runs (what its Bluetooth SMP transport does), answering through
// the same SimDevice request handling as the pty and UDP servers. It negotiates the ATT MTU as
// the two stacks would (the smaller of both offers, after the connection is up), refuses writes
// larger than MTU - 3 as an ATT server does, reassembles requests from the writes, and sends each
// answer as notifications of at most MTU - 3 bytes (or smaller, to exercise reassembly). A reset
// or a fault hook drops the connection, as a real device's would; the device stays, so the
// central can connect again. Everything crosses on the event loop, as through a radio.
#pragma once

#include "mcusim/SimDevice.h"
#include "smp/GattLink.h"
#include "smp/SmpBle.h"

#include <QElapsedTimer>

namespace otafleet::mcusim {

struct SimBleOptions {
    int centralMtu = smp::kBleMaxMtu;  // what the central offers in the MTU exchange
    int peripheralMtu = 247;           // what the device offers (CONFIG_BT_L2CAP_TX_MTU)
    bool exchangeMtu = true;           // false: the link stays at the default 23
    // Largest notification the device sends; 0: MTU - 3. Smaller values split answers further.
    int notificationLimit = 0;
};

class SimBleLink : public smp::GattLink {
    Q_OBJECT

public:
    SimBleLink(SimDevice& device, SimBleOptions options, QObject* parent = nullptr);

    [[nodiscard]] Status connectToDevice() override;
    void disconnectFromDevice() override;
    [[nodiscard]] bool isReady() const override { return m_ready; }
    [[nodiscard]] int mtu() const override { return m_mtu; }
    void writeWithoutResponse(const QByteArray& value) override;
    [[nodiscard]] QString description() const override;

    // A peripheral advertises while it has booted and no central holds a connection to it.
    [[nodiscard]] bool isAdvertising() const;

    // The radio fails (out of range): the central hears smp.link-lost.
    void dropLink();

    // What crossed the air, for tests.
    struct Counters {
        int connects = 0;
        int drops = 0;
        int writes = 0;
        int largestWrite = 0;
        int oversizeWrites = 0;  // refused: larger than MTU - 3
        int notifications = 0;
        int largestNotification = 0;
        int responsesSplit = 0;  // answers that took more than one notification
        int requestErrors = 0;   // writes the device's reassembler refused
    };
    [[nodiscard]] const Counters& counters() const { return m_counters; }

private:
    void becomeReady(quint64 generation);
    void deviceReceives(const QByteArray& value, quint64 generation);
    void lose(const Error& error);

    SimDevice& m_device;
    SimBleOptions m_options;
    bool m_connecting = false;
    bool m_ready = false;
    int m_mtu = smp::kBleDefaultMtu;
    // Bumped on every connect and disconnect, so nothing queued for an old connection arrives
    // on a new one.
    quint64 m_generation = 0;
    smp::BleReassembler m_requests{smp::BleReassembler::Expect::Requests};
    QElapsedTimer m_clock;
    qint64 m_bootedAt = 0;  // the device advertises again once it has booted
    Counters m_counters;
};

}  // namespace otafleet::mcusim
