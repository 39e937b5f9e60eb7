// Runs a configured agent: boot stage, then AgentService over TLS until a signal (clean exit) or
// a Reboot RPC (clean shutdown, then re-execution of the same binary with the same arguments).
#pragma once

#include "common/Error.h"

#include <QString>

namespace otafleet::agent {

// Returns only on a clean stop or an error; a reboot does not return (execv).
[[nodiscard]] Status runAgent(const QString& configPath, char** argv);

}  // namespace otafleet::agent
