// Fuzz target: SMP over Bluetooth LE reassembly (BleReassembler), which takes every byte a
// device sends as notifications. The input is a script: a first byte choosing the direction
// (bit 0: the device side, which takes requests) and an MTU for the round trip check (the other
// bits), then records of [length][time step in 100 ms][length bytes], each one characteristic
// value, so the fuzzer controls where notifications break and how long they take. Every packet
// that comes out must be one whole SMP packet of the expected direction within the bound, and
// must come back the same when cut at the MTU and reassembled again; every error must be one of
// the documented codes with a sentence.
#include "smp/SmpBle.h"
#include "smp/SmpPacket.h"

#include <QByteArrayView>
#include <QStringList>

#include <cstddef>
#include <cstdint>

namespace {

constexpr qint64 kStepMs = 100;

void check(const otafleet::Result<QByteArray>& result, otafleet::smp::BleReassembler::Expect expect,
           int mtu) {
    namespace smp = otafleet::smp;
    if (!result) {
        static const QStringList codes = {
            QStringLiteral("smp.ble-bad-header"), QStringLiteral("smp.ble-packet-too-large"),
            QStringLiteral("smp.ble-overlong"), QStringLiteral("smp.ble-stale-packet")};
        if (!codes.contains(result.error().code) || result.error().message.isEmpty()) {
            __builtin_trap();
        }
        return;
    }
    const QByteArray& packet = *result;
    if (packet.size() < smp::kHeaderSize || packet.size() > smp::kMaxBlePacket) {
        __builtin_trap();
    }
    const auto header = smp::decodeHeader(packet);
    if (!header || smp::kHeaderSize + header->length != packet.size() ||
        smp::isResponse(header->op) != (expect == smp::BleReassembler::Expect::Responses)) {
        __builtin_trap();
    }
    smp::BleReassembler again(expect);
    QList<otafleet::Result<QByteArray>> out;
    for (const QByteArray& piece : smp::splitForBle(packet, mtu)) {
        if (piece.size() > smp::blePayloadSize(mtu)) {
            __builtin_trap();
        }
        out += again.feed(piece, 0);
    }
    if (out.size() != 1 || !out.first() || *out.first() != packet) {
        __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace smp = otafleet::smp;
    if (size == 0) {
        return 0;
    }
    const auto expect = (data[0] & 1) != 0 ? smp::BleReassembler::Expect::Requests
                                           : smp::BleReassembler::Expect::Responses;
    const int mtu = smp::kBleDefaultMtu + (data[0] >> 1) * 4;
    smp::BleReassembler reassembler(expect);
    qint64 now = 0;
    std::size_t at = 1;
    while (at + 2 <= size) {
        const std::size_t length = std::min<std::size_t>(data[at], size - at - 2);
        now += qint64(data[at + 1]) * kStepMs;
        const QByteArrayView value(data + at + 2, static_cast<qsizetype>(length));
        at += 2 + length;
        for (const auto& result : reassembler.feed(value, now)) {
            check(result, expect, mtu);
        }
    }
    return 0;
}
