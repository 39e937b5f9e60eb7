#include "smp/SmpError.h"

#include "smp/SmpPacket.h"
#include "smp/SmpProvisioning.h"

#include <QCborValue>

namespace otafleet::smp {
namespace {

const QString kRc = QStringLiteral("rc");
const QString kErr = QStringLiteral("err");
const QString kGroup = QStringLiteral("group");
const QString kReason = QStringLiteral("rsn");

QString mgmtName(int rc) {
    switch (MgmtRc(rc)) {
        case MgmtRc::Ok:
            return QStringLiteral("ok");
        case MgmtRc::Unknown:
            return QStringLiteral("unknown");
        case MgmtRc::NoMemory:
            return QStringLiteral("no-memory");
        case MgmtRc::Invalid:
            return QStringLiteral("invalid");
        case MgmtRc::Timeout:
            return QStringLiteral("timeout");
        case MgmtRc::NotFound:
            return QStringLiteral("not-found");
        case MgmtRc::BadState:
            return QStringLiteral("bad-state");
        case MgmtRc::MessageSize:
            return QStringLiteral("message-size");
        case MgmtRc::NotSupported:
            return QStringLiteral("not-supported");
        case MgmtRc::Corrupt:
            return QStringLiteral("corrupt");
        case MgmtRc::Busy:
            return QStringLiteral("busy");
        case MgmtRc::AccessDenied:
            return QStringLiteral("access-denied");
        case MgmtRc::TooOld:
            return QStringLiteral("too-old");
        case MgmtRc::TooNew:
            return QStringLiteral("too-new");
    }
    return QStringLiteral("rc-%1").arg(rc);
}

QString imageName(int rc) {
    switch (ImageRc(rc)) {
        case ImageRc::Ok:
            return QStringLiteral("ok");
        case ImageRc::Unknown:
            return QStringLiteral("unknown");
        case ImageRc::NoImage:
            return QStringLiteral("no-image");
        case ImageRc::NoTlvs:
            return QStringLiteral("no-tlvs");
        case ImageRc::InvalidTlv:
            return QStringLiteral("invalid-tlv");
        case ImageRc::HashNotFound:
            return QStringLiteral("hash-not-found");
        case ImageRc::NoFreeSlot:
            return QStringLiteral("no-free-slot");
        case ImageRc::FlashWriteFailed:
            return QStringLiteral("flash-write-failed");
        case ImageRc::InvalidSlot:
            return QStringLiteral("invalid-slot");
        case ImageRc::InvalidOffset:
            return QStringLiteral("invalid-offset");
        case ImageRc::InvalidLength:
            return QStringLiteral("invalid-length");
        case ImageRc::InvalidImageHeader:
            return QStringLiteral("invalid-image-header");
        case ImageRc::InvalidImageHeaderMagic:
            return QStringLiteral("invalid-image-header-magic");
        case ImageRc::InvalidHash:
            return QStringLiteral("invalid-hash");
        case ImageRc::CurrentVersionIsNewer:
            return QStringLiteral("current-version-is-newer");
        case ImageRc::ImageAlreadyPending:
            return QStringLiteral("image-already-pending");
        case ImageRc::InvalidImageTooLarge:
            return QStringLiteral("image-too-large");
        case ImageRc::InvalidImageDataOverrun:
            return QStringLiteral("image-data-overrun");
        case ImageRc::ImageConfirmationDenied:
            return QStringLiteral("confirmation-denied");
        case ImageRc::ImageSettingTestToActiveDenied:
            return QStringLiteral("test-active-denied");
    }
    return QStringLiteral("rc-%1").arg(rc);
}

Error badResponse(const QString& what) {
    return Error{QStringLiteral("smp.bad-response"),
                 QStringLiteral("The device sent a malformed error report (%1).").arg(what)};
}

}  // namespace

Result<std::optional<DeviceError>> findDeviceError(const QCborMap& body) {
    const QCborValue err = body.value(kErr);
    if (!err.isUndefined()) {
        const QCborMap map = err.toMap();
        const QCborValue group = map.value(kGroup);
        const QCborValue rc = map.value(kRc);
        if (!err.isMap() || !group.isInteger() || !rc.isInteger() || group.toInteger() < 0 ||
            group.toInteger() > 0xffff || rc.toInteger() < 0 || rc.toInteger() > 0xffff) {
            return fail(badResponse(QStringLiteral("\"err\" is not {group, rc}")));
        }
        if (rc.toInteger() == 0) {
            return std::optional<DeviceError>();
        }
        return std::optional<DeviceError>(DeviceError{int(group.toInteger()), int(rc.toInteger()),
                                                      body.value(kReason).toString()});
    }
    const QCborValue rc = body.value(kRc);
    if (rc.isUndefined()) {
        return std::optional<DeviceError>();
    }
    if (!rc.isInteger() || rc.toInteger() < 0 || rc.toInteger() > 0xffff) {
        return fail(badResponse(QStringLiteral("\"rc\" is not a small unsigned integer")));
    }
    if (rc.toInteger() == 0) {
        return std::optional<DeviceError>();
    }
    return std::optional<DeviceError>(
        DeviceError{-1, int(rc.toInteger()), body.value(kReason).toString()});
}

Status checkResponse(const QCborMap& body) {
    const auto error = findDeviceError(body);
    if (!error) {
        return fail(error.error());
    }
    if (error->has_value()) {
        return fail(toError(**error));
    }
    return {};
}

Error toError(const DeviceError& error) {
    QString code;
    QString what;
    if (error.group == int(kGroupImage)) {
        code = QStringLiteral("smp.image.") + imageName(error.rc);
        what = QStringLiteral("The device's image manager refused the request (%1)")
                   .arg(imageName(error.rc));
    } else if (error.group < 0 || error.group == int(kGroupOs)) {
        code = QStringLiteral("smp.device.") + mgmtName(error.rc);
        what = QStringLiteral("The device refused the request (%1)").arg(mgmtName(error.rc));
    } else if (error.group == int(provision::kGroup)) {
        code = QStringLiteral("smp.provision.") + provision::rcName(error.rc);
        what = QStringLiteral("The device's provisioning group refused the request (%1)")
                   .arg(provision::rcName(error.rc));
    } else {
        code = QStringLiteral("smp.group-%1.rc-%2").arg(error.group).arg(error.rc);
        what = QStringLiteral("The device's management group %1 refused the request with code %2")
                   .arg(error.group)
                   .arg(error.rc);
    }
    if (!error.reason.isEmpty()) {
        what += QStringLiteral(": ") + error.reason;
    }
    return Error{code, what + QStringLiteral(".")};
}

void putDeviceError(QCborMap& body, bool version2, const DeviceError& error) {
    if (version2 && error.group >= 0) {
        body.insert(kErr, QCborMap{{kGroup, error.group}, {kRc, error.rc}});
    } else {
        body.insert(kRc, error.rc);
    }
    if (!error.reason.isEmpty()) {
        body.insert(kReason, error.reason);
    }
}

}  // namespace otafleet::smp
