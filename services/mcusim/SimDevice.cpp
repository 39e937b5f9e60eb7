#include "mcusim/SimDevice.h"

#include "smp/SmpPacket.h"
#include "smp/SmpProvisioning.h"

#include <QCborArray>
#include <QCborValue>

namespace otafleet::mcusim {
namespace {

using smp::DeviceError;
using smp::MgmtRc;

std::unexpected<DeviceError> notSupported() {
    return std::unexpected(DeviceError{-1, int(MgmtRc::NotSupported), {}});
}

}  // namespace

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
    Reply reply;
    const auto header = smp::decodeHeader(requestPacket);
    if (!header || smp::isResponse(header->op)) {
        return reply;  // not a request: a device stays silent
    }
    smp::Header answer = *header;
    answer.op = smp::responseOp(header->op);
    QCborMap body;
    if (requestPacket.size() > m_options.bufSize) {
        smp::putDeviceError(body, false, DeviceError{-1, int(MgmtRc::MessageSize), {}});
    } else if (const auto packet = smp::decodePacket(requestPacket); !packet) {
        smp::putDeviceError(body, false, DeviceError{-1, int(MgmtRc::Invalid), {}});
    } else {
        auto result = dispatch(header->group, header->command, header->op == smp::Op::Write,
                               packet->body, reply);
        if (result) {
            body = *result;
        } else {
            // Group errors go in "err" for SMP v2 requests; v1 requests only know "rc".
            DeviceError error = result.error();
            if (header->version == smp::Version::V1 && error.group >= 0) {
                error = DeviceError{-1, int(MgmtRc::Unknown), error.reason};
            }
            smp::putDeviceError(body, header->version == smp::Version::V2, error);
        }
    }
    if (reply.dropLink) {
        return reply;
    }
    const auto bytes = smp::encodePacket(answer, body);
    reply.packet = bytes ? *bytes : QByteArray();
    return reply;
}

DeviceResult<QCborMap> SimDevice::imageState() const {
    QCborArray images;
    for (const auto& slot : m_slots.states()) {
        images.append(QCborMap{{QStringLiteral("image"), slot.image},
                               {QStringLiteral("slot"), slot.slot},
                               {QStringLiteral("version"), slot.version},
                               {QStringLiteral("hash"), slot.hash},
                               {QStringLiteral("bootable"), slot.bootable},
                               {QStringLiteral("pending"), slot.pending},
                               {QStringLiteral("confirmed"), slot.confirmed},
                               {QStringLiteral("active"), slot.active},
                               {QStringLiteral("permanent"), slot.permanent}});
    }
    return QCborMap{{QStringLiteral("images"), images}, {QStringLiteral("splitStatus"), 0}};
}

DeviceResult<QCborMap> SimDevice::dispatch(quint16 group, quint8 command, bool write,
                                           const QCborMap& body, Reply& reply) {
    namespace os = smp::os;
    namespace image = smp::image;
    if (group == smp::kGroupOs) {
        if (command == os::kEcho && write) {
            return QCborMap{{QStringLiteral("r"), body.value(QStringLiteral("d")).toString()}};
        }
        if (command == os::kReset && write) {
            reply.resetAfter = true;
            return QCborMap();
        }
        if (command == os::kMcumgrParameters && !write) {
            return QCborMap{{QStringLiteral("buf_size"), m_options.bufSize},
                            {QStringLiteral("buf_count"), m_options.bufCount}};
        }
        if (command == os::kBootloaderInfo && !write) {
            if (body.value(QStringLiteral("query")).toString() == QStringLiteral("mode")) {
                constexpr int kSwapUsingScratch = 1;
                return QCborMap{{QStringLiteral("mode"), kSwapUsingScratch},
                                {QStringLiteral("no-downgrade"), false}};
            }
            return QCborMap{{QStringLiteral("bootloader"), QStringLiteral("MCUboot")}};
        }
        return notSupported();
    }
    if (group == smp::provision::kGroup) {
        namespace provision = smp::provision;
        if (command == provision::kIdentity && !write) {
            return m_identity.identity();
        }
        if (command == provision::kCsr && !write) {
            return m_identity.csr();
        }
        if (command == provision::kCert && write) {
            return m_identity.storeChain(body);
        }
        return notSupported();
    }
    if (group != smp::kGroupImage) {
        return notSupported();
    }
    if (command == image::kState && !write) {
        return imageState();
    }
    if (command == image::kState && write) {
        const auto done = m_slots.setState(body.value(QStringLiteral("hash")).toByteArray(),
                                           body.value(QStringLiteral("confirm")).toBool(false));
        if (!done) {
            return std::unexpected(done.error());
        }
        return imageState();
    }
    if (command == image::kUpload && write) {
        const qint64 before = m_slots.uploadOffset();
        auto answer = m_slots.upload(body);
        const qint64 after = m_slots.uploadOffset();
        const auto crossed = [&](qint64 mark) {
            return mark >= 0 && before < mark && after >= mark;
        };
        if (crossed(m_options.dropAtOffset)) {
            m_options.dropAtOffset = -1;
            reply.dropLink = true;
        } else if (crossed(m_options.resetAtOffset)) {
            m_options.resetAtOffset = -1;
            reply.resetAfter = true;  // a watchdog reset: no answer, the device reboots
            reply.dropLink = true;
        }
        return answer;
    }
    if (command == image::kErase && write) {
        const auto done = m_slots.eraseSecondary();
        if (!done) {
            return std::unexpected(done.error());
        }
        return QCborMap();
    }
    return notSupported();
}

}  // namespace otafleet::mcusim
