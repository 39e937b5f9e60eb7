// Fuzz target: the device filter expression an operator types after --filter or --target. Must
// refuse anything malformed with an error (never crash, never recurse without bound), and what it
// accepts must print to a canonical form that parses back to the same meaning.
#include "rollout/DeviceFilter.h"

#include <QString>

#include <cstddef>
#include <cstdint>

using otafleet::rollout::DeviceFacts;
using otafleet::rollout::DeviceFilter;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const QString text =
        QString::fromUtf8(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    auto filter = DeviceFilter::parse(text);
    if (!filter) {
        if (filter.error().code.isEmpty() || filter.error().message.isEmpty()) {
            __builtin_trap();
        }
        return 0;
    }
    auto again = DeviceFilter::parse(filter->toString());
    if (!again || again->toString() != filter->toString()) {
        __builtin_trap();
    }
    const DeviceFacts devices[] = {
        {QStringLiteral("dev-1"),
         QStringLiteral("bench"),
         QStringLiteral("gw-x1"),
         QStringLiteral("rev-a"),
         QStringLiteral("1.9.0"),
         {QStringLiteral("pilot")},
         {QStringLiteral("lab")},
         true},
        {QStringLiteral("dev-2"),
         QString(),
         QStringLiteral("gw-x2"),
         QStringLiteral("rev-b"),
         QStringLiteral("not-semver"),
         {},
         {},
         false},
    };
    for (const auto& device : devices) {
        if (filter->matches(device) != again->matches(device)) {
            __builtin_trap();
        }
    }
    return 0;
}
