// libFuzzer target: the agent's agent.conf parser must stay bounded and never crash on any bytes.
#include "agent/AgentConfig.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const QByteArrayView bytes(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    auto config = otafleet::agent::AgentConfig::parse(bytes, QStringLiteral("agent.conf"),
                                                      QStringLiteral("/fuzz"));
    if (config) {
        (void)config->listenAddress();
    } else {
        (void)config.error().message.size();
    }
    return 0;
}
