// SMP over Bluetooth LE (Zephyr's "SMP Transport Specification", Bluetooth): one GATT service
// with one characteristic. A request is written to the characteristic with Write Without
// Response, in pieces of at most ATT_MTU - 3 bytes; the answer comes back as notifications of at
// most ATT_MTU - 3 bytes each. There is no framing of its own: the first piece starts with the
// 8-byte SMP header, and its length field says how many bytes complete the packet. This file is
// that cutting and reassembling, without any radio, so it can be tested and fuzzed.
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QList>

namespace otafleet::smp {

// The SMP GATT service and its one characteristic (write without response, notify).
inline constexpr char kSmpBleServiceUuid[] = "8d53dc1d-1db7-4cd3-868b-8a527460aa84";
inline constexpr char kSmpBleCharacteristicUuid[] = "da2e7828-fbce-4e01-ae9e-261174997c48";

// ATT: a write or notification carries opcode (1) and handle (2) besides the value.
inline constexpr int kAttHeaderSize = 3;
// ATT_MTU before (or without) an MTU exchange.
inline constexpr int kBleDefaultMtu = 23;
// The largest ATT_MTU any stack offers (an attribute value holds at most 512 bytes).
inline constexpr int kBleMaxMtu = 517;
inline constexpr int kBleMaxAttributeValue = 512;
// The reassembler never holds more than this many bytes of one packet (the header's length
// field could claim 65535 + 8).
inline constexpr qsizetype kMaxBlePacket = 16 * 1024;
// A packet still incomplete this long after its first piece is given up.
inline constexpr qint64 kBleReassemblyTimeoutMs = 5000;

// The payload a write or notification can carry at `mtu` (clamped to 23..517): mtu - 3, at most
// 512.
[[nodiscard]] int blePayloadSize(int mtu);

// `packet` cut into writes of at most blePayloadSize(mtu) bytes, in order.
[[nodiscard]] QList<QByteArray> splitForBle(QByteArrayView packet, int mtu);

// Turns a sequence of characteristic values (notifications on the client, writes on the
// device) back into SMP packets. A piece that starts a packet must begin with a valid SMP
// header of the expected direction; a packet ends exactly where its length field says, and a
// piece never holds the end of one packet and the start of the next. Each problem is reported
// once, with its own code, and the bytes concerned are dropped:
//   smp.ble-bad-header        a packet's first bytes are not an SMP header of the expected kind
//                             (garbage, or a request where a response belongs)
//   smp.ble-packet-too-large  a header announcing more than kMaxBlePacket bytes
//   smp.ble-overlong          a piece carrying more bytes than the header announced
//   smp.ble-stale-packet      a packet left incomplete for kBleReassemblyTimeoutMs
class BleReassembler {
public:
    enum class Expect { Requests, Responses };
    explicit BleReassembler(Expect expect = Expect::Responses) : m_expect(expect) {}

    // Feeds one characteristic value received at `nowMs` (any monotonic clock); returns every
    // packet (or error) it completes, in order. An empty value is ignored.
    [[nodiscard]] QList<Result<QByteArray>> feed(QByteArrayView value, qint64 nowMs);
    // True while a packet is partly received.
    [[nodiscard]] bool inPacket() const { return !m_buffer.isEmpty(); }
    // Forgets a partial packet (the link went down).
    void reset();

private:
    Expect m_expect;
    QByteArray m_buffer;
    qsizetype m_expected = -1;  // header + body, once the header is in
    qint64 m_startedMs = 0;
};

}  // namespace otafleet::smp
