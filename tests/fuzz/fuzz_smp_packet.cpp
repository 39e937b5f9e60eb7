// Fuzz target: the SMP packet decoder (8-byte header and bounded CBOR body) and every response
// parser behind it. A device, or anything pretending to be one on a serial port or UDP socket,
// controls every byte.
#include "smp/SmpCommands.h"
#include "smp/SmpError.h"
#include "smp/SmpPacket.h"
#include "smp/SmpProvisioning.h"

#include <QByteArrayView>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace smp = otafleet::smp;
    const QByteArrayView input(data, static_cast<qsizetype>(size));
    const auto packet = smp::decodePacket(input);
    if (!packet) {
        if (packet.error().code.isEmpty() || packet.error().message.isEmpty()) {
            __builtin_trap();
        }
        return 0;
    }
    if (packet->header.length != input.size() - smp::kHeaderSize) {
        __builtin_trap();  // accepted a packet whose length does not match
    }
    // Every parser must answer with a value or an error, never crash.
    const QCborMap& body = packet->body;
    (void)smp::checkResponse(body);
    (void)smp::os::parseEcho(body);
    (void)smp::os::parseMcumgrParameters(body);
    (void)smp::os::parseBootloaderInfo(body);
    const auto slots = smp::image::parseState(body);
    if (slots && slots->size() > smp::kMaxCborItems) {
        __builtin_trap();
    }
    (void)smp::image::parseUpload(body);
    (void)smp::provision::parseImageFormat(body);
    // What was decoded encodes again within SMP's limits.
    const auto again = smp::encodePacket(packet->header, body);
    if (again && smp::decodePacket(*again).has_value() == false) {
        __builtin_trap();
    }
    return 0;
}
