// The MCUmgr Simple Management Protocol packet: the 8-byte header of the SMP specification
// (Zephyr docs, services/device_mgmt/smp_protocol, "Frame: the envelope") followed by a CBOR map.
// Everything read from a device goes through decodePacket(), which is bounded in size, nesting
// and element count and refuses anything but one well-formed map filling exactly `length` bytes.
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QCborMap>

namespace otafleet::smp {

enum class Op : quint8 { Read = 0, ReadResponse = 1, Write = 2, WriteResponse = 3 };
// Ver field: 0 is the original protocol (errors as "rc"), 1 is SMP version 2 (errors as
// "err": {group, rc}).
enum class Version : quint8 { V1 = 0, V2 = 1 };

inline constexpr int kHeaderSize = 8;
// Data Length is 16 bits; nothing bigger can be described.
inline constexpr qsizetype kMaxBodySize = 0xffff;
// Bounds of the CBOR reader: SMP bodies are flat maps with at most one level of arrays of maps
// ("images": [{...}]) and one nested map ("err": {...}).
inline constexpr int kMaxCborDepth = 8;
inline constexpr int kMaxCborItems = 4096;

// Group IDs (smp_protocol "Management Group ID's").
inline constexpr quint16 kGroupOs = 0;
inline constexpr quint16 kGroupImage = 1;

struct Header {
    Op op = Op::Read;
    Version version = Version::V2;
    quint8 flags = 0;
    quint16 length = 0;  // of the CBOR data after the header
    quint16 group = 0;
    quint8 sequence = 0;
    quint8 command = 0;
    bool operator==(const Header&) const = default;
};

struct Packet {
    Header header;
    QCborMap body;
};

[[nodiscard]] QByteArray encodeHeader(const Header& header);
// Errors: smp.truncated-header, smp.bad-header (reserved bits set, unknown version).
[[nodiscard]] Result<Header> decodeHeader(QByteArrayView bytes);

// Header with `length` filled in from the encoded body. Error smp.body-too-large.
[[nodiscard]] Result<QByteArray> encodePacket(Header header, const QCborMap& body);
// Errors: those of decodeHeader, smp.length-mismatch (data shorter or longer than the header's
// length), smp.bad-cbor, smp.body-not-map, smp.cbor-too-complex.
[[nodiscard]] Result<Packet> decodePacket(QByteArrayView bytes);

// Bounded CBOR decoding of one map that must fill `bytes` exactly (an empty input is an empty
// map, as the specification allows a packet without data). Errors as decodePacket.
[[nodiscard]] Result<QCborMap> decodeCborMap(QByteArrayView bytes);

[[nodiscard]] bool isResponse(Op op);
[[nodiscard]] Op responseOp(Op requestOp);

}  // namespace otafleet::smp
