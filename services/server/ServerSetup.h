// `otafleetd setup`: makes DIR a ready server for the fleet PKI at PKI:
//   DIR/otafleetd.conf            (ServerConfig.h; written last, so it exists only when complete)
//   DIR/tls/server.pem, .key      identity from the PKI's server CA, SAN = the listen host(s)
//   DIR/trust/root-ca.pem         the fleet root: every client chain must reach it
//   DIR/trust/device-ca.pem       the device CA (DeviceService callers)
//   DIR/data/otafleetd.sqlite     the store (WAL), with user "admin" bound to PKI/operator.pem
//                                 (or the PostgreSQL database --database names, same content)
//   DIR/blobs/                    release bundles
#pragma once

#include "common/Error.h"

#include <QString>

namespace otafleet::server {

struct ServerSetupOptions {
    QString directory;
    QString pkiDirectory;
    QString listen;       // HOST:PORT
    QString agentListen;  // optional HOST:PORT for DeviceService
    QString pinEnv;       // token PIN, when the PKI's keys are on a token
    QString database;     // store location: SQLite file or postgresql:// URL; empty: the default
};

// Errors server.setup-invalid (options), server.setup-exists, pki.*, crypto.*, io.*, store.*.
[[nodiscard]] Status setUpServer(const ServerSetupOptions& options);

}  // namespace otafleet::server
