#include "mcusim/SimDevice.h"

namespace otafleet::mcusim {

SimDevice::SimDevice(SimOptions options, SimSlots slots)
    : m_options(std::move(options)),
      m_slots(std::move(slots)),
      m_identity(m_options.dir, m_options.serialNumber) {}

Result<SimDevice> SimDevice::open(SimOptions options) {
    auto slots = SimSlots::open(options.dir, options.publicKeyPem, options.slotSize);
    if (!slots) {
        return fail(slots.error());
    }
    return SimDevice(std::move(options), std::move(*slots));
}

void SimDevice::reset() {
    m_slots.boot();
}

SimDevice::Reply SimDevice::handle(QByteArrayView requestPacket) {
    return smp::respond(*this, requestPacket);
}

DeviceResult<QCborMap> SimDevice::bootloaderInfo(const QString& query) const {
    if (query == QStringLiteral("mode")) {
        constexpr int kSwapUsingScratch = 1;
        return QCborMap{{QStringLiteral("mode"), kSwapUsingScratch},
                        {QStringLiteral("no-downgrade"), false}};
    }
    return QCborMap{{QStringLiteral("bootloader"), QStringLiteral("MCUboot")}};
}

QList<smp::image::SlotState> SimDevice::imageStates() const {
    return m_slots.states();
}

DeviceResult<QCborMap> SimDevice::upload(const QCborMap& request, smp::ReplyActions& actions) {
    const qint64 before = m_slots.uploadOffset();
    auto answer = m_slots.upload(request);
    const qint64 after = m_slots.uploadOffset();
    const auto crossed = [&](qint64 mark) { return mark >= 0 && before < mark && after >= mark; };
    if (crossed(m_options.dropAtOffset)) {
        m_options.dropAtOffset = -1;
        actions.dropLink = true;
    } else if (crossed(m_options.resetAtOffset)) {
        m_options.resetAtOffset = -1;
        actions.resetAfter = true;  // a watchdog reset: no answer, the device reboots
        actions.dropLink = true;
    }
    return answer;
}

DeviceResult<void> SimDevice::setImageState(const QByteArray& hash, bool confirm) {
    return m_slots.setState(hash, confirm);
}

DeviceResult<void> SimDevice::eraseImage() {
    return m_slots.eraseSecondary();
}

DeviceResult<QCborMap> SimDevice::identity() const {
    return m_identity.identity();
}

DeviceResult<QCborMap> SimDevice::csr() {
    return m_identity.csr();
}

DeviceResult<QCborMap> SimDevice::storeChain(const QCborMap& request) {
    return m_identity.storeChain(request);
}

}  // namespace otafleet::mcusim
