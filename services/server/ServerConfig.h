// otafleetd.conf: what `otafleetd setup` writes and `otafleetd --config` reads. INI-like text,
// "[section]" then "key = value" lines, '#' comments; relative paths are relative to the file's
// directory. Keys (the contract):
//   [server]   listen = HOST:PORT          ConsoleService (and DeviceService unless agent_listen)
//              agent_listen = HOST:PORT    optional: DeviceService on its own port
//   [tls]      certificate, key            server identity (server CA leaf + chain, key 0600)
//              root_ca                     the fleet root: the only anchor for client chains
//              device_ca                   device CA: DeviceService peers must be issued by it
//   [store]    database                    SQLite file (WAL), or a PostgreSQL database as
//                                          postgresql://USER@HOST:PORT/DBNAME (password from
//                                          PGPASSWORD or ~/.pgpass, never in the file)
//              blobs                       directory of release bundles
//   [limits]   max_release_size            bytes (default 2 GiB, at most 64 GiB)
//              token_lifetime              seconds a password login's token lives (60..86400)
//              max_message_size            bytes per gRPC message (64 KiB..16 MiB, default 4 MiB)
//              upload_timeout              seconds an upload may take besides one per 256 KiB
//                                          (1..3600, default 60): a stream that never ends is cut
//              busy_backlog                store writes waiting at which DeviceService turns new
//                                          sessions away with server.busy and a retry hint
//                                          (0..1,000,000, default 20,000; 0 turns every device
//                                          away, e.g. to drain a server before maintenance)
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QString>

namespace otafleet::server {

struct ServerConfig {
    static constexpr qint64 kMaxFileSize = 64 * 1024;

    QString listen;
    QString agentListen;  // empty: DeviceService shares `listen`
    QString certificate;
    QString key;
    QString rootCa;
    QString deviceCa;
    QString database;
    QString blobs;
    qint64 maxReleaseSize = 2LL * 1024 * 1024 * 1024;
    int tokenLifetimeSeconds = 900;
    int maxMessageSize = 4 * 1024 * 1024;
    int uploadTimeoutSeconds = 60;
    qint64 busyBacklog = 20'000;

    // Errors server.config-invalid (line and what is wrong), server.config-unreadable.
    [[nodiscard]] static Result<ServerConfig> parse(QByteArrayView text, const QString& baseDir);
    [[nodiscard]] static Result<ServerConfig> load(const QString& path);
};

// "HOST:PORT" with a non-empty host and a port 0..65535 ("[::1]:7443" too).
[[nodiscard]] bool validHostPort(const QString& address);

}  // namespace otafleet::server
