// A simulated MCUboot/Zephyr device's management side: answers SMP requests (OS group: echo,
// reset, MCUmgr parameters, bootloader information; image group: state, upload, erase; otafleet's
// provisioning group: identity, csr, cert) from the slots and identity in its directory, in the SMP
// version each request came in. Transports (pty, UDP, in-process) feed it packets and send back
// what it answers; it knows nothing of them.
#pragma once

#include "common/Error.h"
#include "mcusim/SimIdentity.h"
#include "mcusim/SimSlots.h"

#include <QByteArray>
#include <QString>

#include <optional>

namespace otafleet::mcusim {

struct SimOptions {
    QString dir;
    QByteArray publicKeyPem;
    QString serialNumber = QStringLiteral("SIM0001");  // provisioning group "identity"
    qint64 slotSize = 1024 * 1024;
    int bufSize = 2048;  // MCUmgr parameters "buf_size": the largest request accepted
    int bufCount = 4;
    // Fault hooks: once an upload reaches this offset, the device resets (as a watchdog would)
    // or drops the link (as an unplugged cable does). -1: never.
    qint64 resetAtOffset = -1;
    qint64 dropAtOffset = -1;
};

class SimDevice {
public:
    // Errors: those of SimSlots::open.
    [[nodiscard]] static Result<SimDevice> open(SimOptions options);

    struct Reply {
        QByteArray packet;        // the response; empty when the request was not even a packet
        bool resetAfter = false;  // send the reply (if any), then reset
        bool dropLink = false;    // do not answer; without resetAfter the link itself is gone
    };
    [[nodiscard]] Reply handle(QByteArrayView requestPacket);
    // A reset: MCUboot runs again and decides what boots.
    void reset();
    [[nodiscard]] const SimSlots& slots() const { return m_slots; }

private:
    SimDevice(SimOptions options, SimSlots slots);
    [[nodiscard]] DeviceResult<QCborMap> dispatch(quint16 group, quint8 command, bool write,
                                                  const QCborMap& body, Reply& reply);
    [[nodiscard]] DeviceResult<QCborMap> imageState() const;

    SimOptions m_options;
    SimSlots m_slots;
    SimIdentity m_identity;
};

}  // namespace otafleet::mcusim
