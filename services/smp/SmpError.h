// Errors a device reports inside an SMP response: SMP version 1 puts a management return code in
// "rc" (with an optional reason text "rsn"); version 2 puts group errors in "err": {"group",
// "rc"} (smp_protocol "Minimal response"; the group codes are each group's own table). Both become
// an otafleet Error with a stable code, e.g. "smp.device.not-supported" or
// "smp.image.invalid-hash".
#pragma once

#include "common/Error.h"

#include <QCborMap>

#include <expected>

namespace otafleet::smp {

// MGMT_ERR_* (smp_protocol "Minimal response", the "rc" table).
enum class MgmtRc : int {
    Ok = 0,
    Unknown = 1,
    NoMemory = 2,
    Invalid = 3,
    Timeout = 4,
    NotFound = 5,
    BadState = 6,
    MessageSize = 7,
    NotSupported = 8,
    Corrupt = 9,
    Busy = 10,
    AccessDenied = 11,
    TooOld = 12,
    TooNew = 13,
};

// IMG_MGMT_ERR_* (image management group error codes), the ones a device sends for an upload
// or a state change.
enum class ImageRc : int {
    Ok = 0,
    Unknown = 1,
    NoImage = 3,
    NoTlvs = 4,
    InvalidTlv = 5,
    HashNotFound = 8,
    NoFreeSlot = 9,
    FlashWriteFailed = 12,
    InvalidSlot = 14,
    InvalidOffset = 20,
    InvalidLength = 21,
    InvalidImageHeader = 22,
    InvalidImageHeaderMagic = 23,
    InvalidHash = 24,
    CurrentVersionIsNewer = 27,
    ImageAlreadyPending = 28,
    InvalidImageTooLarge = 30,
    InvalidImageDataOverrun = 31,
    ImageConfirmationDenied = 32,
    ImageSettingTestToActiveDenied = 33,
};

struct DeviceError {
    int group = -1;  // -1: an SMP v1 "rc"
    int rc = 0;
    QString reason;  // "rsn", when the device sent one
};

// What a device's handlers return: the response body, or the error to put in it.
template <typename T>
using DeviceResult = std::expected<T, DeviceError>;

// The error in a response body, if any. A malformed "rc"/"err" is itself an error
// (smp.bad-response).
[[nodiscard]] Result<std::optional<DeviceError>> findDeviceError(const QCborMap& body);
// Status of a response: success when it carries no error or rc 0.
[[nodiscard]] Status checkResponse(const QCborMap& body);
[[nodiscard]] Error toError(const DeviceError& error);

// Adds an error to a response body the way `version` does it (the simulator's side).
void putDeviceError(QCborMap& body, bool version2, const DeviceError& error);

}  // namespace otafleet::smp
