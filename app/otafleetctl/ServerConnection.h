// How otafleetctl's server commands (user, audit, fleet, release, rollout) reach otafleetd: the
// common options (--server HOST:PORT, then --pki PKI for the operator certificate or --ca
// ROOT.pem --user NAME --password-env VAR for a password login) turned into the settings of a
// client::ConsoleClient, which the console's RemoteFleet uses as well.
#pragma once

#include "Cli.h"

#include "consoleclient/ConsoleClient.h"

#include <QCommandLineOption>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

namespace otafleet::cli {

namespace cpb = otafleet::console::v1;

extern const QCommandLineOption kServerOpt;
extern const QCommandLineOption kServerPki;
extern const QCommandLineOption kServerCa;
extern const QCommandLineOption kServerUser;
extern const QCommandLineOption kServerPasswordEnv;
extern const QCommandLineOption kServerJson;
[[nodiscard]] QList<QCommandLineOption> serverOptions();

// The console's client of otafleetd (services/consoleclient), opened from the options above.
using ServerConnection = client::ConsoleClient;

// Connects and, for a password user, signs in. Errors cli.usage, io.*, server.*.
[[nodiscard]] Result<std::unique_ptr<ServerConnection>> openServerConnection(
    const QCommandLineParser& p);

// A server command: the connection options plus `extra`; `run` gets an open connection
// (UserAuditCommands.cpp).
[[nodiscard]] Command serverCommandFor(
    const QString& group, const QString& name, const QString& summary, const QString& synopsis,
    QList<QCommandLineOption> extra,
    std::function<int(const QCommandLineParser&, ServerConnection&, bool json)> run);

using client::roleFromName;
using client::roleToName;
[[nodiscard]] QString isoTime(qint64 unixMs);

}  // namespace otafleet::cli
