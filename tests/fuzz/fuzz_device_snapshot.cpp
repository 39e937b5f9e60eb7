// DeviceSnapshot::parse on arbitrary bytes: device reports read back from a fleet database that
// may be damaged. Bounded input, bounded slot count, and a parsed report survives a round trip.
#include "link/DeviceSnapshot.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using otafleet::link::DeviceSnapshot;
    auto snapshot = DeviceSnapshot::parse(
        QByteArrayView(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size)));
    if (!snapshot)
        return 0;
    if (size > static_cast<size_t>(DeviceSnapshot::kMaxJsonBytes) ||
        snapshot->slots.size() > DeviceSnapshot::kMaxSlots) {
        std::abort();
    }
    if (DeviceSnapshot::fromJson(snapshot->toJson()) != *snapshot)
        std::abort();
    return 0;
}
