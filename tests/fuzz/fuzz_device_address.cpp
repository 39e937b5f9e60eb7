// DeviceHub::normalizeUri on arbitrary text: what a technician types into "Add device".
// Must never crash, must refuse oversized input, and anything it accepts must be stable
// (normalizing the result again gives the same URI). A LAN address always names a host and a
// port, and any other scheme is written scheme://...
#include "link/DeviceHub.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const QString text =
        QString::fromUtf8(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    auto url = otafleet::link::DeviceHub::normalizeUri(text);
    if (!url) {
        if (url.error().code.isEmpty() || url.error().message.isEmpty())
            std::abort();
        return 0;
    }
    if (text.size() > otafleet::link::DeviceHub::kMaxUriLength + 64)
        std::abort();
    const QString written = url->toString();
    if (url->scheme() == QLatin1String("lan") &&
        (url->host().isEmpty() || url->port(-1) < 1 || url->port(-1) > 65535))
        std::abort();
    if (!written.startsWith(url->scheme() + QLatin1String("://")))
        std::abort();
    auto again = otafleet::link::DeviceHub::normalizeUri(url->toString());
    if (!again || again->toString() != url->toString())
        std::abort();
    return 0;
}
