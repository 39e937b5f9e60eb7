// The device side of SMP, shared by every device otafleet plays or runs: otafleet-mcusim's
// simulated MCUboot device and otafleet-agent's serial line. respond() decodes one request
// packet, dispatches it (OS group: echo, reset, MCUmgr parameters, bootloader information; image
// group: state, upload, erase; otafleet's group 96: identity, csr, cert, image format) to a
// DeviceBackend, and encodes the answer in the SMP version the request came in (group errors as
// "err" in version 2, as "rc" in version 1). What a device does lives in its backend; how bytes
// travel lives in its transport; neither knows the other.
#pragma once

#include "smp/SmpCommands.h"
#include "smp/SmpError.h"
#include "smp/SmpProvisioning.h"

#include <QByteArray>
#include <QCborMap>
#include <QList>

namespace otafleet::smp {

// What an answer asks its transport to do besides sending it.
struct ReplyActions {
    bool resetAfter = false;  // send the reply (if any), then reset
    bool dropLink = false;    // do not answer; without resetAfter the link itself is gone
};

class DeviceBackend {
public:
    virtual ~DeviceBackend() = default;
    DeviceBackend() = default;
    DeviceBackend(const DeviceBackend&) = default;
    DeviceBackend(DeviceBackend&&) = default;
    DeviceBackend& operator=(const DeviceBackend&) = default;
    DeviceBackend& operator=(DeviceBackend&&) = default;

    // MCUmgr parameters: the largest request accepted, and how many are held at once.
    [[nodiscard]] virtual int bufSize() const = 0;
    [[nodiscard]] virtual int bufCount() const = 0;
    // OS group "bootloader information" for `query` (empty: the name).
    [[nodiscard]] virtual DeviceResult<QCborMap> bootloaderInfo(const QString& query) const = 0;

    [[nodiscard]] virtual QList<image::SlotState> imageStates() const = 0;
    // One "Image upload" request; the answer's "off" is where the device wants the next chunk.
    // A backend may ask for a reset or a dropped link through `actions` (fault hooks).
    [[nodiscard]] virtual DeviceResult<QCborMap> upload(const QCborMap& request,
                                                        ReplyActions& actions) = 0;
    // "State write": `confirm` false marks the image with `hash` for a test boot; true confirms
    // the running image (empty hash or its hash) or makes another one permanent.
    [[nodiscard]] virtual DeviceResult<void> setImageState(const QByteArray& hash,
                                                           bool confirm) = 0;
    [[nodiscard]] virtual DeviceResult<void> eraseImage() = 0;

    // otafleet's group 96 (smp/SmpProvisioning.h). Without an override: not supported.
    [[nodiscard]] virtual DeviceResult<QCborMap> identity() const;
    [[nodiscard]] virtual DeviceResult<QCborMap> csr();
    [[nodiscard]] virtual DeviceResult<QCborMap> storeChain(const QCborMap& request);
    [[nodiscard]] virtual provision::ImageFormat imageFormat() const = 0;
};

struct DeviceReply {
    QByteArray packet;  // the response; empty when the request was not even a packet
    bool resetAfter = false;
    bool dropLink = false;
};

// Answers one request packet from `device`. Never throws, never crashes on any input: a packet
// larger than bufSize() gets MGMT_ERR_EMSGSIZE, a malformed one MGMT_ERR_EINVAL, a response or
// something that is not an SMP header gets no answer at all (as a device stays silent).
[[nodiscard]] DeviceReply respond(DeviceBackend& device, QByteArrayView requestPacket);

// The "images" answer of an image state read or write.
[[nodiscard]] QCborMap imageStateBody(const QList<image::SlotState>& states);

// MGMT_ERR_ENOTSUP, for commands a device does not implement.
[[nodiscard]] std::unexpected<DeviceError> notSupported();

}  // namespace otafleet::smp
