// Request builders and response parsers of the two SMP groups a firmware update needs: OS
// management (group 0: echo, reset, MCUmgr parameters, bootloader information) and image
// management (group 1: state, upload, erase). Field names are those of Zephyr's
// services/device_mgmt/smp_groups/smp_group_0 and smp_group_1 documents.
#pragma once

#include "common/Error.h"
#include "smp/SmpPacket.h"

#include <QCborMap>
#include <QList>

#include <optional>

namespace otafleet::smp {

struct Request {
    Op op = Op::Read;
    quint16 group = 0;
    quint8 command = 0;
    QCborMap body;
};

// The packet bytes of `request` with the given version and sequence number.
[[nodiscard]] Result<QByteArray> encodeRequest(const Request& request, Version version,
                                               quint8 sequence);

namespace os {
inline constexpr quint8 kEcho = 0;
inline constexpr quint8 kReset = 5;
inline constexpr quint8 kMcumgrParameters = 6;
inline constexpr quint8 kBootloaderInfo = 8;

struct McumgrParameters {
    qint64 bufSize = 0;   // the largest SMP packet the device accepts
    qint64 bufCount = 0;  // how many it can hold at once
};

[[nodiscard]] Request echo(const QString& text);
[[nodiscard]] Request reset(bool force = false);
[[nodiscard]] Request mcumgrParameters();
[[nodiscard]] Request bootloaderInfo(const QString& query = {});

// Parsers check the response's error first (see SmpError.h); then: smp.bad-response.
[[nodiscard]] Result<QString> parseEcho(const QCborMap& body);
[[nodiscard]] Result<McumgrParameters> parseMcumgrParameters(const QCborMap& body);
// The "bootloader" name ("MCUboot").
[[nodiscard]] Result<QString> parseBootloaderInfo(const QCborMap& body);
}  // namespace os

namespace image {
inline constexpr quint8 kState = 0;
inline constexpr quint8 kUpload = 1;
inline constexpr quint8 kErase = 5;
inline constexpr int kShaSize = 32;

struct SlotState {
    int image = 0;
    int slot = 0;
    QString version;
    QByteArray hash;
    bool bootable = false;
    bool pending = false;
    bool confirmed = false;
    bool active = false;
    bool permanent = false;
};

struct UploadChunk {
    qint64 offset = 0;
    QByteArray data;
    // Sent with the first chunk only (offset 0), as the specification asks.
    int image = 0;
    qint64 totalLength = 0;
    QByteArray sha;  // SHA-256 of the whole image: lets a device resume the same upload
    bool upgradeOnly = false;
};

struct UploadResult {
    qint64 offset = 0;          // where the device wants the next chunk
    std::optional<bool> match;  // with the last chunk: the image matched "sha"
};

[[nodiscard]] Request stateRead();
// Marks the image with `hash` for a test boot (confirm false) or confirms it (confirm true; an
// empty hash confirms the running image).
[[nodiscard]] Request stateWrite(const QByteArray& hash, bool confirm);
[[nodiscard]] Request upload(const UploadChunk& chunk);
[[nodiscard]] Request erase(std::optional<int> slot = std::nullopt);

[[nodiscard]] Result<QList<SlotState>> parseState(const QCborMap& body);
[[nodiscard]] Result<UploadResult> parseUpload(const QCborMap& body);

// CBOR bytes an upload request needs besides its data: the client sizes chunks with it so a
// whole request fits the device's buffer.
[[nodiscard]] qint64 uploadOverhead(const UploadChunk& chunkWithoutData);
}  // namespace image

}  // namespace otafleet::smp
