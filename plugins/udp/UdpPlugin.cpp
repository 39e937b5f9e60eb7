#include "UdpPlugin.h"

#include "smp/SmpDeviceLink.h"

#include <QHostAddress>

using otafleet::Result;
using otafleet::link::DeviceLink;
using otafleet::link::LinkProvider;

namespace {
otafleet::Error badUri(const QUrl& uri, const QString& why) {
    return otafleet::Error{QStringLiteral("link.bad-uri"),
                           QStringLiteral("\"%1\" is not a UDP device address: %2. Use "
                                          "udp://HOST:PORT with a numeric address.")
                               .arg(uri.toDisplayString().left(80), why)};
}
}  // namespace

Result<std::unique_ptr<LinkProvider>> UdpPlugin::createProvider(
    const otafleet::link::LinkContext& context) {
    Q_UNUSED(context);  // SMP over UDP has no credentials: the image signature protects it
    return std::make_unique<UdpProvider>();
}

QString UdpProvider::scheme() const {
    return QStringLiteral("udp");
}

Result<std::unique_ptr<DeviceLink>> UdpProvider::open(const QUrl& uri) {
    if (uri.scheme() != scheme()) {
        return otafleet::fail(badUri(uri, QStringLiteral("the scheme is not udp")));
    }
    const QHostAddress host(uri.host());
    const int port = uri.port(-1);
    if (host.isNull() || port < 1 || port > 0xffff) {
        return otafleet::fail(badUri(uri, QStringLiteral("it needs a numeric host and a port")));
    }
    if (!uri.userInfo().isEmpty() || uri.hasQuery() || uri.hasFragment() ||
        (!uri.path().isEmpty() && uri.path() != QLatin1String("/"))) {
        return otafleet::fail(badUri(uri, QStringLiteral("it has parts after the port")));
    }
    auto transport = std::make_unique<otafleet::smp::UdpTransport>(host, quint16(port));
    return std::make_unique<otafleet::smp::SmpDeviceLink>(uri.toString(), std::move(transport));
}
