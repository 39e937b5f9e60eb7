// The LAN transport's provider: validates lan://HOST:PORT URIs and opens LanLinks that share
// one operator TLS identity.
#pragma once

#include "agentclient/AgentClient.h"
#include "link/LinkProvider.h"

class LanProvider : public otafleet::link::LinkProvider {
    Q_OBJECT
public:
    explicit LanProvider(otafleet::agentclient::TlsIdentity identity, QObject* parent = nullptr);

    [[nodiscard]] QString scheme() const override;
    [[nodiscard]] otafleet::Result<std::unique_ptr<otafleet::link::DeviceLink>> open(
        const QUrl& uri) override;

    // "HOST:PORT" for a valid lan:// URI. Errors: link.bad-uri.
    [[nodiscard]] static otafleet::Result<QString> targetOf(const QUrl& uri);

private:
    otafleet::agentclient::TlsIdentity m_identity;
};
