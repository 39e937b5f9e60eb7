// SMP over Bluetooth LE on any GattLink: cuts each request into writes that fit the ATT MTU in
// force at that moment, and reassembles notifications into response packets. The link connects
// on open() and again on the next request after it dropped (a device that resets drops its BLE
// connection, and the client's next echo must find it again); requests sent while connecting wait
// for the link.
#pragma once

#include "smp/GattLink.h"
#include "smp/SmpBle.h"
#include "smp/SmpTransport.h"

#include <QElapsedTimer>

#include <memory>

namespace otafleet::smp {

class BleTransport : public SmpTransport {
    Q_OBJECT

public:
    explicit BleTransport(std::unique_ptr<GattLink> gatt, QObject* parent = nullptr);
    ~BleTransport() override;

    // Errors: those GattLink::connectToDevice returns at once (ble.no-adapter, ble.bad-address).
    [[nodiscard]] Status open() override;
    void close() override;
    void send(const QByteArray& packet) override;
    [[nodiscard]] qsizetype maxPacketSize() const override { return kMaxBlePacket; }
    [[nodiscard]] int wireMilliseconds(qsizetype bytes) const override;
    [[nodiscard]] QString description() const override;

    [[nodiscard]] GattLink& gatt() { return *m_gatt; }
    // Pieces dropped by the reassembler (garbage, overlong, stale), for diagnostics and tests.
    [[nodiscard]] int reassemblyErrors() const { return m_reassemblyErrors; }
    [[nodiscard]] const Error& lastReassemblyError() const { return m_lastReassemblyError; }

private:
    enum class State { Closed, Connecting, Ready };
    [[nodiscard]] Status connectNow();
    void write(const QByteArray& packet);
    void onReady();
    void onNotified(const QByteArray& value);
    void onFailed(const Error& error);

    std::unique_ptr<GattLink> m_gatt;
    State m_state = State::Closed;
    bool m_wanted = false;  // open() was called and close() not since
    QList<QByteArray> m_waiting;
    BleReassembler m_reassembler{BleReassembler::Expect::Responses};
    QElapsedTimer m_clock;
    int m_reassemblyErrors = 0;
    Error m_lastReassemblyError;
};

}  // namespace otafleet::smp
