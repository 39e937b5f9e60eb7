// How otafleetctl's server commands (user, audit, fleet, release) reach otafleetd: the common
// options (--server HOST:PORT, then --pki PKI for the operator certificate or --ca ROOT.pem
// --user NAME --password-env VAR for a password login), one TLS channel pinned to the fleet
// root, a deadline on every call, and gRPC failures turned into otafleet errors (the server's
// stable code when it sent one; server.unreachable, server.timeout, server.tls-rejected
// otherwise).
#pragma once

#include "Cli.h"

#include "otafleet/console/v1/console.grpc.pb.h"

#include <grpcpp/grpcpp.h>

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

class ServerConnection {
public:
    static constexpr std::chrono::seconds kCallDeadline{30};
    static constexpr qint64 kMaxMessage = 4 * 1024 * 1024;

    // Connects and, for a password user, logs in. Errors cli.usage, io.*, server.*.
    [[nodiscard]] static Result<std::unique_ptr<ServerConnection>> open(
        const QCommandLineParser& p);

    // A context with the deadline and, after a password login, the bearer token.
    [[nodiscard]] std::unique_ptr<grpc::ClientContext> context(
        std::chrono::seconds deadline = kCallDeadline) const;
    cpb::ConsoleService::Stub& stub() { return *m_stub; }
    [[nodiscard]] Error toError(const grpc::Status& status) const;

    template <class Request, class Reply>
    Result<Reply> call(grpc::Status (cpb::ConsoleService::Stub::*method)(grpc::ClientContext*,
                                                                         const Request&, Reply*),
                       const Request& request) {
        auto ctx = context();
        Reply reply;
        const grpc::Status status = ((*m_stub).*method)(ctx.get(), request, &reply);
        if (!status.ok())
            return fail(toError(status));
        return reply;
    }

private:
    QString m_target;
    std::shared_ptr<grpc::Channel> m_channel;
    std::unique_ptr<cpb::ConsoleService::Stub> m_stub;
    std::string m_token;
};

// A server command: the connection options plus `extra`; `run` gets an open connection
// (UserAuditCommands.cpp).
[[nodiscard]] Command serverCommandFor(
    const QString& group, const QString& name, const QString& summary, const QString& synopsis,
    QList<QCommandLineOption> extra,
    std::function<int(const QCommandLineParser&, ServerConnection&, bool json)> run);

// "viewer" <-> ROLE_VIEWER, ...
[[nodiscard]] std::optional<cpb::Role> roleFromName(const QString& name);
[[nodiscard]] QString roleToName(cpb::Role role);
[[nodiscard]] QString isoTime(qint64 unixMs);

}  // namespace otafleet::cli
