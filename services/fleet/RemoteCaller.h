// One signed-in connection to otafleetd for a worker thread of the fleet library (private: it
// shows gRPC, so no header the UI sees includes it). Signs in on first use and again after the
// connection failed (the server may have restarted), puts a deadline on every call, and lets
// another thread cancel the call in flight when the worker's thread is about to end.
#pragma once

#include "consoleclient/ConsoleClient.h"
#include "consoleclient/ConsoleSettings.h"

#include <QString>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>

namespace otafleet::fleet {

class RemoteCaller {
public:
    RemoteCaller(client::ConsoleSettings settings, std::chrono::seconds deadline)
        : m_settings(std::move(settings)), m_deadline(deadline) {}
    ~RemoteCaller() { std::fill(m_settings.password.begin(), m_settings.password.end(), '\0'); }
    RemoteCaller(const RemoteCaller&) = delete;
    RemoteCaller& operator=(const RemoteCaller&) = delete;

    // Any thread: stops the call in flight; later calls fail with fleet.closing.
    void abort() {
        std::lock_guard lock(m_callMutex);
        m_aborted = true;
        if (m_call)
            m_call->TryCancel();
    }

    // The next call signs in again (after a failure that may mean the server restarted).
    void disconnect() { m_client.reset(); }

    template <class Request, class Reply>
    Result<Reply> call(grpc::Status (client::cpb::ConsoleService::Stub::*method)(
                           grpc::ClientContext*, const Request&, Reply*),
                       const Request& request) {
        if (!m_client) {
            client::ConsoleSettings attempt = m_settings;  // open() wipes the copy's password
            attempt.password.detach();
            auto opened = client::ConsoleClient::open(attempt);
            if (!opened)
                return std::unexpected(opened.error());
            m_client = std::move(*opened);
        }
        auto ctx = m_client->context(m_deadline);
        {
            std::lock_guard lock(m_callMutex);
            if (m_aborted)
                return fail(QStringLiteral("fleet.closing"),
                            QStringLiteral("The console is closing this connection."));
            m_call = ctx.get();
        }
        Reply reply;
        const grpc::Status status = ((m_client->stub()).*method)(ctx.get(), request, &reply);
        {
            std::lock_guard lock(m_callMutex);
            m_call = nullptr;
        }
        if (!status.ok()) {
            Error error = m_client->toError(status);
            if (error.code == u"server.unreachable" || error.code == u"server.timeout" ||
                error.code == u"server.token-invalid")
                m_client.reset();
            return std::unexpected(std::move(error));
        }
        return reply;
    }

private:
    client::ConsoleSettings m_settings;
    std::chrono::seconds m_deadline;
    std::unique_ptr<client::ConsoleClient> m_client;
    std::mutex m_callMutex;
    grpc::ClientContext* m_call = nullptr;
    bool m_aborted = false;
};

}  // namespace otafleet::fleet
