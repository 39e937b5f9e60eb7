#include "LanPlugin.h"

#include "LanProvider.h"

#include "agentclient/AgentClient.h"

using otafleet::Result;
using otafleet::agentclient::TlsIdentity;
using otafleet::link::LinkContext;
using otafleet::link::LinkProvider;

Result<std::unique_ptr<LinkProvider>> LanPlugin::createProvider(const LinkContext& context) {
    Result<TlsIdentity> identity = [&]() -> Result<TlsIdentity> {
        if (!context.caFile.isEmpty() && !context.certFile.isEmpty() && !context.keyFile.isEmpty())
            return TlsIdentity::fromFiles(context.caFile, context.certFile, context.keyFile);
        if (!context.pkiDirectory.isEmpty())
            return TlsIdentity::fromPkiDirectory(context.pkiDirectory);
        return otafleet::fail(QStringLiteral("link.credentials"),
                              QStringLiteral("The LAN transport needs an operator identity; start "
                                             "the console with --pki DIR (made by otafleetctl "
                                             "pki init)."));
    }();
    if (!identity) {
        return otafleet::fail(identity.error().withContext(
            QStringLiteral("while reading the operator identity for LAN devices: ")));
    }
    return std::make_unique<LanProvider>(*identity);
}
