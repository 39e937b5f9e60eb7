// The GATT side of SMP over Bluetooth LE as BleTransport needs it, and nothing more: reach the
// device's SMP characteristic with notifications enabled, know the ATT MTU, write values without
// response, hear notifications. The ble plugin implements it with Qt Bluetooth
// (QLowEnergyController and QLowEnergyService); the simulator implements it in-process, so the
// transport above runs the same code over a radio and in tests.
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QObject>

namespace otafleet::smp {

class GattLink : public QObject {
    Q_OBJECT

public:
    using QObject::QObject;

    // Starts reaching the device; ready() or failed() follows, never from inside this call.
    // Synchronous errors are those known at once (ble.no-adapter, ble.bad-address).
    [[nodiscard]] virtual Status connectToDevice() = 0;
    virtual void disconnectFromDevice() = 0;
    [[nodiscard]] virtual bool isReady() const = 0;
    // The ATT MTU in force (23 until an exchange raised it).
    [[nodiscard]] virtual int mtu() const = 0;
    // One characteristic value of at most mtu() - 3 bytes, written without response.
    virtual void writeWithoutResponse(const QByteArray& value) = 0;
    [[nodiscard]] virtual QString description() const = 0;

Q_SIGNALS:
    // Connected, SMP characteristic found, notifications enabled.
    void ready();
    void mtuChanged(int mtu);
    void notified(const QByteArray& value);
    // Connecting failed or the link went down (smp.link-lost, ble.*).
    void failed(const otafleet::Error& error);
};

}  // namespace otafleet::smp
