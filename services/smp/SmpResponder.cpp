#include "smp/SmpResponder.h"

#include "smp/SmpPacket.h"

#include <QCborArray>
#include <QCborValue>

namespace otafleet::smp {
namespace {

DeviceResult<QCborMap> stateAnswer(DeviceBackend& device, DeviceResult<void> done) {
    if (!done) {
        return std::unexpected(done.error());
    }
    return imageStateBody(device.imageStates());
}

DeviceResult<QCborMap> osCommand(DeviceBackend& device, quint8 command, bool write,
                                 const QCborMap& body, ReplyActions& actions) {
    if (command == os::kEcho && write) {
        return QCborMap{{QStringLiteral("r"), body.value(QStringLiteral("d")).toString()}};
    }
    if (command == os::kReset && write) {
        actions.resetAfter = true;
        return QCborMap();
    }
    if (command == os::kMcumgrParameters && !write) {
        return QCborMap{{QStringLiteral("buf_size"), device.bufSize()},
                        {QStringLiteral("buf_count"), device.bufCount()}};
    }
    if (command == os::kBootloaderInfo && !write) {
        return device.bootloaderInfo(body.value(QStringLiteral("query")).toString());
    }
    return notSupported();
}

DeviceResult<QCborMap> provisionCommand(DeviceBackend& device, quint8 command, bool write,
                                        const QCborMap& body) {
    if (command == provision::kIdentity && !write) {
        return device.identity();
    }
    if (command == provision::kCsr && !write) {
        return device.csr();
    }
    if (command == provision::kCert && write) {
        return device.storeChain(body);
    }
    if (command == provision::kImageFormat && !write) {
        return QCborMap{
            {QStringLiteral("format"), provision::imageFormatName(device.imageFormat())}};
    }
    return notSupported();
}

DeviceResult<QCborMap> imageCommand(DeviceBackend& device, quint8 command, bool write,
                                    const QCborMap& body, ReplyActions& actions) {
    if (command == image::kState && !write) {
        return imageStateBody(device.imageStates());
    }
    if (command == image::kState && write) {
        return stateAnswer(
            device, device.setImageState(body.value(QStringLiteral("hash")).toByteArray(),
                                         body.value(QStringLiteral("confirm")).toBool(false)));
    }
    if (command == image::kUpload && write) {
        return device.upload(body, actions);
    }
    if (command == image::kErase && write) {
        const auto done = device.eraseImage();
        if (!done) {
            return std::unexpected(done.error());
        }
        return QCborMap();
    }
    return notSupported();
}

DeviceResult<QCborMap> dispatch(DeviceBackend& device, const Header& header, const QCborMap& body,
                                ReplyActions& actions) {
    const bool write = header.op == Op::Write;
    switch (header.group) {
        case kGroupOs:
            return osCommand(device, header.command, write, body, actions);
        case kGroupImage:
            return imageCommand(device, header.command, write, body, actions);
        case provision::kGroup:
            return provisionCommand(device, header.command, write, body);
        default:
            return notSupported();
    }
}

}  // namespace

DeviceResult<QCborMap> DeviceBackend::identity() const {
    return notSupported();
}

DeviceResult<QCborMap> DeviceBackend::csr() {
    return notSupported();
}

DeviceResult<QCborMap> DeviceBackend::storeChain(const QCborMap&) {
    return notSupported();
}

std::unexpected<DeviceError> notSupported() {
    return std::unexpected(DeviceError{-1, int(MgmtRc::NotSupported), {}});
}

QCborMap imageStateBody(const QList<image::SlotState>& states) {
    QCborArray images;
    for (const auto& slot : states) {
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

DeviceReply respond(DeviceBackend& device, QByteArrayView requestPacket) {
    DeviceReply reply;
    const auto header = decodeHeader(requestPacket);
    if (!header || isResponse(header->op)) {
        return reply;  // not a request: a device stays silent
    }
    Header answer = *header;
    answer.op = responseOp(header->op);
    QCborMap body;
    ReplyActions actions;
    if (requestPacket.size() > device.bufSize()) {
        putDeviceError(body, false, DeviceError{-1, int(MgmtRc::MessageSize), {}});
    } else if (const auto packet = decodePacket(requestPacket); !packet) {
        putDeviceError(body, false, DeviceError{-1, int(MgmtRc::Invalid), {}});
    } else if (auto result = dispatch(device, *header, packet->body, actions); result) {
        body = *result;
    } else {
        // Group errors go in "err" for SMP v2 requests; v1 requests only know "rc".
        DeviceError error = result.error();
        if (header->version == Version::V1 && error.group >= 0) {
            error = DeviceError{-1, int(MgmtRc::Unknown), error.reason};
        }
        putDeviceError(body, header->version == Version::V2, error);
    }
    reply.resetAfter = actions.resetAfter;
    reply.dropLink = actions.dropLink;
    if (reply.dropLink) {
        return reply;
    }
    const auto bytes = encodePacket(answer, body);
    reply.packet = bytes ? *bytes : QByteArray();
    return reply;
}

}  // namespace otafleet::smp
