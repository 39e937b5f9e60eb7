#include "LanProvider.h"

#include "LanLink.h"

using otafleet::Result;
using otafleet::link::DeviceLink;

namespace {
constexpr int kMaxPort = 65535;

otafleet::Error badUri(const QUrl& uri, const QString& why) {
    return otafleet::Error{
        QStringLiteral("link.bad-uri"),
        QStringLiteral("\"%1\" is not a LAN device address: %2. Use lan://HOST:PORT.")
            .arg(uri.toDisplayString().left(80), why)};
}
}  // namespace

LanProvider::LanProvider(otafleet::agentclient::TlsIdentity identity, QObject* parent)
    : LinkProvider(parent), m_identity(std::move(identity)) {}

QString LanProvider::scheme() const {
    return QStringLiteral("lan");
}

Result<QString> LanProvider::targetOf(const QUrl& uri) {
    if (uri.scheme() != QLatin1String("lan"))
        return otafleet::fail(badUri(uri, QStringLiteral("the scheme is not lan")));
    if (uri.host().isEmpty())
        return otafleet::fail(badUri(uri, QStringLiteral("the host is missing")));
    const int port = uri.port(-1);
    if (port < 1 || port > kMaxPort)
        return otafleet::fail(badUri(uri, QStringLiteral("the port must be 1 to 65535")));
    if (!uri.userInfo().isEmpty() || uri.hasQuery() || uri.hasFragment() ||
        (!uri.path().isEmpty() && uri.path() != QLatin1String("/"))) {
        return otafleet::fail(badUri(uri, QStringLiteral("it has parts after the port")));
    }
    const QString host = uri.host();
    const bool ipv6 = host.contains(QLatin1Char(':'));
    return (ipv6 ? QStringLiteral("[%1]:%2") : QStringLiteral("%1:%2")).arg(host).arg(port);
}

Result<std::unique_ptr<DeviceLink>> LanProvider::open(const QUrl& uri) {
    auto target = targetOf(uri);
    if (!target)
        return otafleet::fail(target.error());
    return std::make_unique<LanLink>(QStringLiteral("lan://") + *target, *target, m_identity);
}
