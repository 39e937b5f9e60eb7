#include "SerialPlugin.h"

#include "smp/SmpDeviceLink.h"

#include <QSerialPortInfo>
#include <QUrlQuery>

using otafleet::Result;
using otafleet::link::DeviceLink;
using otafleet::link::LinkProvider;

namespace {
constexpr int kDefaultBaud = 115200;

otafleet::Error badUri(const QUrl& uri, const QString& why) {
    return otafleet::Error{
        QStringLiteral("link.bad-uri"),
        QStringLiteral("\"%1\" is not a serial device address: %2. Use "
                       "serial:///dev/ttyACM0 or serial:///dev/ttyACM0?baud=115200.")
            .arg(uri.toDisplayString().left(80), why)};
}
}  // namespace

Result<std::unique_ptr<LinkProvider>> SerialPlugin::createProvider(
    const otafleet::link::LinkContext& context) {
    Q_UNUSED(context);  // SMP over serial has no credentials: the image signature protects it
    return std::make_unique<SerialProvider>();
}

std::unique_ptr<otafleet::link::PortEnumerator> SerialPlugin::createPortEnumerator() {
    return std::make_unique<SerialPortEnumerator>();
}

QList<otafleet::link::PortInfo> SerialPortEnumerator::ports() const {
    QList<otafleet::link::PortInfo> out;
    for (const QSerialPortInfo& info : QSerialPortInfo::availablePorts()) {
        if (!info.hasVendorIdentifier())
            continue;
        otafleet::link::PortInfo port;
        port.path = info.systemLocation();
        port.uri = QStringLiteral("serial://") + port.path;
        port.description = info.description();
        port.manufacturer = info.manufacturer();
        port.vendorId = QStringLiteral("%1").arg(info.vendorIdentifier(), 4, 16, QLatin1Char('0'));
        port.productId =
            info.hasProductIdentifier()
                ? QStringLiteral("%1").arg(info.productIdentifier(), 4, 16, QLatin1Char('0'))
                : QString();
        port.serialNumber = info.serialNumber();
        out.append(port);
    }
    return out;
}

QString SerialProvider::scheme() const {
    return QStringLiteral("serial");
}

Result<std::unique_ptr<DeviceLink>> SerialProvider::open(const QUrl& uri) {
    if (uri.scheme() != scheme()) {
        return otafleet::fail(badUri(uri, QStringLiteral("the scheme is not serial")));
    }
    if (!uri.host().isEmpty() || !uri.path().startsWith(QLatin1Char('/')) ||
        uri.path().size() < 2) {
        return otafleet::fail(badUri(uri, QStringLiteral("it needs the port's absolute path")));
    }
    int baud = kDefaultBaud;
    const QUrlQuery query(uri);
    for (const auto& [key, value] : query.queryItems()) {
        bool ok = false;
        if (key != QLatin1String("baud") || (baud = value.toInt(&ok), !ok) || baud <= 0) {
            return otafleet::fail(badUri(uri, QStringLiteral("the only option is baud=N")));
        }
    }
    auto transport = std::make_unique<otafleet::smp::SerialTransport>(uri.path(), baud);
    return std::make_unique<otafleet::smp::SmpDeviceLink>(uri.toString(), std::move(transport));
}
