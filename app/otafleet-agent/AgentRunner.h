// Runs a configured agent: boot stage, then AgentService over TLS until a signal (clean exit) or
// a Reboot RPC (clean shutdown, then re-execution of the same binary with the same arguments).
#pragma once

#include "common/Error.h"

#include <QString>

namespace otafleet::agent {

// Returns only on a clean stop or an error; a reboot does not return (execv).
[[nodiscard]] Status runAgent(const QString& configPath, char** argv);

struct OfflineOptions {
    QString installBundle;  // install this bundle file into the inactive slot
    bool commit = false;
    bool rollback = false;
};

// `otafleet-agent offline`: one boot (boot stage) and the given operations without serving, then
// exit; prints the resulting state as one line ("otafleet-agent: state booted=A version=1.0.0
// trial=0 tries_left=0 primary=A security_version=1 state=idle healthy=1").
[[nodiscard]] Status runOffline(const QString& configPath, const OfflineOptions& options);

}  // namespace otafleet::agent
