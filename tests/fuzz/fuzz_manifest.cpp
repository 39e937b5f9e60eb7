// Fuzz target: the bundle manifest parser, which reads JSON from a bundle before its signature is
// checked (the frame must be parsed to find the signature at all).

#include "bundle/Manifest.h"

#include <QByteArrayView>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const QByteArrayView input(data, static_cast<qsizetype>(size));
    auto manifest = otafleet::bundle::Manifest::parse(input);
    if (manifest) {
        // Whatever parses must serialize to something that parses to the same thing.
        const QByteArray again = manifest->serialize();
        auto reparsed = otafleet::bundle::Manifest::parse(again);
        if (!reparsed || reparsed->serialize() != again) {
            __builtin_trap();
        }
    } else if (manifest.error().code.isEmpty() || manifest.error().message.isEmpty()) {
        __builtin_trap();
    }
    return 0;
}
