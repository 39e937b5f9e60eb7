// A client of otafleetd's ConsoleService (console/v1/console.proto), shared by otafleetctl's
// server commands and the console's RemoteFleet: one TLS 1.3 channel pinned to the fleet root,
// signed in with the operator certificate of a PKI folder or with a user name and password
// (a short-lived bearer token), a deadline on every call, and gRPC failures turned into
// otafleet errors: the server's stable code when it sent one, else server.unreachable,
// server.timeout, server.tls-rejected, server.too-large or server.protocol.
#pragma once

#include "common/Error.h"
#include "consoleclient/ConsoleSettings.h"

#include "otafleet/console/v1/console.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <QString>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace otafleet::client {

namespace cpb = otafleet::console::v1;

class ConsoleClient {
public:
    static constexpr std::chrono::seconds kCallDeadline{30};
    static constexpr qint64 kMaxMessage = 4 * 1024 * 1024;

    // Opens the channel and, for a password user, signs in (the password is wiped from
    // `settings` afterwards, whatever the outcome). Errors client.settings, io.*, server.*, and
    // the server's auth.* refusals.
    [[nodiscard]] static Result<std::unique_ptr<ConsoleClient>> open(ConsoleSettings& settings);

    // A context with a deadline and, after a password login, the bearer token.
    [[nodiscard]] std::unique_ptr<grpc::ClientContext> context(
        std::chrono::seconds deadline = kCallDeadline) const;
    cpb::ConsoleService::Stub& stub() { return *m_stub; }
    [[nodiscard]] const QString& address() const { return m_address; }
    [[nodiscard]] Error toError(const grpc::Status& status) const;

    // One unary call with context(); the reply or the call's error.
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

protected:
    ConsoleClient() = default;

private:
    QString m_address;
    std::shared_ptr<grpc::Channel> m_channel;
    std::unique_ptr<cpb::ConsoleService::Stub> m_stub;
    std::string m_token;
};

// "viewer" <-> ROLE_VIEWER, ...
[[nodiscard]] std::optional<cpb::Role> roleFromName(const QString& name);
[[nodiscard]] QString roleToName(cpb::Role role);

}  // namespace otafleet::client
