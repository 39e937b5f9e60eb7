// Internal: the TLS credentials every AgentClient channel uses, with otafleet's own check of the
// agent's certificate instead of gRPC's host-name-only rule. An agent serves either with a
// server certificate from the server CA (setup-time [tls]; it must name the dialled host) or,
// once enrolled, with its device identity (leaf -> "<fleet> device CA" -> "<fleet> root CA",
// CN = device id; it names a device, not a host, so no host name applies, and its usage is the
// device's TLS client usage). Both must chain to the fleet root and be valid now; a server
// certificate must also be meant for TLS servers. Failures carry their own codes:
// link.agent-certificate-expired, link.agent-certificate-not-yet-valid,
// link.agent-certificate-untrusted, link.agent-name-mismatch.
#pragma once

#include "agentclient/AgentClient.h"

#include <grpcpp/security/credentials.h>

#include <memory>
#include <mutex>

namespace otafleet::agentclient::detail {

// The device id the last accepted handshake's certificate names (empty for a server
// certificate): what the agent says of itself in GetInfo must match it.
class PeerIdentity {
public:
    void set(const QString& deviceId);
    [[nodiscard]] QString deviceId() const;

private:
    mutable std::mutex m_mutex;
    QString m_deviceId;
};

[[nodiscard]] std::shared_ptr<grpc::ChannelCredentials> agentCredentials(
    const TlsIdentity& identity, const QString& target, std::shared_ptr<PeerIdentity> peer);

// The Error a failed check put into the handshake's status message, if `message` carries one.
[[nodiscard]] std::optional<Error> verifierError(const QString& message);

}  // namespace otafleet::agentclient::detail
