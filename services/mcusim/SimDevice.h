// A simulated MCUboot/Zephyr device's management side: the smp::DeviceBackend of the slots and
// identity in its directory (OS group: echo, reset, MCUmgr parameters, bootloader information;
// image group: state, upload, erase; otafleet's group 96: identity, csr, cert, image format), its
// requests decoded and answered by smp::respond. Transports (pty, UDP, in-process) feed it
// packets and send back what it answers; it knows nothing of them.
#pragma once

#include "common/Error.h"
#include "mcusim/SimIdentity.h"
#include "mcusim/SimSlots.h"
#include "smp/SmpResponder.h"

#include <QByteArray>
#include <QString>

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

class SimDevice final : public smp::DeviceBackend {
public:
    // Errors: those of SimSlots::open.
    [[nodiscard]] static Result<SimDevice> open(SimOptions options);

    using Reply = smp::DeviceReply;
    [[nodiscard]] Reply handle(QByteArrayView requestPacket);
    // A reset: MCUboot runs again and decides what boots.
    void reset();
    [[nodiscard]] const SimSlots& slots() const { return m_slots; }

    // smp::DeviceBackend
    [[nodiscard]] int bufSize() const override { return m_options.bufSize; }
    [[nodiscard]] int bufCount() const override { return m_options.bufCount; }
    [[nodiscard]] DeviceResult<QCborMap> bootloaderInfo(const QString& query) const override;
    [[nodiscard]] QList<smp::image::SlotState> imageStates() const override;
    [[nodiscard]] DeviceResult<QCborMap> upload(const QCborMap& request,
                                                smp::ReplyActions& actions) override;
    [[nodiscard]] DeviceResult<void> setImageState(const QByteArray& hash, bool confirm) override;
    [[nodiscard]] DeviceResult<void> eraseImage() override;
    [[nodiscard]] DeviceResult<QCborMap> identity() const override;
    [[nodiscard]] DeviceResult<QCborMap> csr() override;
    [[nodiscard]] DeviceResult<QCborMap> storeChain(const QCborMap& request) override;
    [[nodiscard]] smp::provision::ImageFormat imageFormat() const override {
        return smp::provision::ImageFormat::Mcuboot;
    }

private:
    SimDevice(SimOptions options, SimSlots slots);

    SimOptions m_options;
    SimSlots m_slots;
    SimIdentity m_identity;
};

}  // namespace otafleet::mcusim
