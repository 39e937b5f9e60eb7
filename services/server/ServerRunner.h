// `otafleetd --config FILE`: opens the store, builds the TLS listeners (ConsoleService and
// DeviceService on [server] listen, or DeviceService on its own [server] agent_listen), prints
// "otafleetd: listening on HOST:PORT" (and "otafleetd: agents on HOST:PORT") on stderr once
// serving, and runs until SIGINT or SIGTERM.
#pragma once

#include "common/Error.h"

#include <QString>

namespace otafleet::server {

// Errors server.config-*, server.tls-unreadable, server.listen-failed, store.*.
[[nodiscard]] Status runServer(const QString& configPath);

}  // namespace otafleet::server
