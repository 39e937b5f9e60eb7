// Fuzz target: the SMP serial de-framer (marker detection, base64 lines, length field, CRC). The
// input is fed in two pieces at a split point taken from its first byte, as a serial port
// delivers arbitrary chunks; every packet it yields must frame back to the same packet.
#include "smp/SmpSerial.h"

#include <QByteArrayView>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace smp = otafleet::smp;
    if (size == 0) {
        return 0;
    }
    const QByteArrayView input(data + 1, static_cast<qsizetype>(size - 1));
    const qsizetype cut = input.isEmpty() ? 0 : data[0] % (input.size() + 1);
    smp::SerialDeframer deframer;
    auto results = deframer.feed(input.first(cut));
    results += deframer.feed(input.sliced(cut));
    for (const auto& result : results) {
        if (!result) {
            if (result.error().code.isEmpty() || result.error().message.isEmpty()) {
                __builtin_trap();
            }
            continue;
        }
        if (result->size() > smp::kMaxSerialPacket) {
            __builtin_trap();
        }
        smp::SerialDeframer check;
        const auto again = check.feed(smp::encodeSerialFrame(*result));
        if (again.size() != 1 || !again.first() || *again.first() != *result) {
            __builtin_trap();
        }
    }
    return 0;
}
