#include "BlePlugin.h"

#include "QtBleScanner.h"
#include "QtGattLink.h"
#include "smp/BleTransport.h"
#include "smp/SmpDeviceLink.h"

#include <QBluetoothAddress>
#include <QRegularExpression>

using otafleet::Result;
using otafleet::link::DeviceLink;
using otafleet::link::LinkProvider;

namespace {

// Six colon-separated hex pairs; QBluetoothAddress alone would read garbage as 00:00:...
Result<QBluetoothAddress> parseAddress(const QString& text) {
    static const QRegularExpression mac(QStringLiteral("^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$"));
    const QBluetoothAddress address(text);
    if (!mac.match(text).hasMatch() || address.isNull()) {
        return otafleet::fail(QStringLiteral("ble.bad-address"),
                              QStringLiteral("\"%1\" is not a Bluetooth device address; write it "
                                             "as six hex pairs, for example "
                                             "C0:FF:EE:00:12:34.")
                                  .arg(text.left(80)));
    }
    return address;
}

std::unique_ptr<otafleet::smp::BleTransport> makeTransport(const QBluetoothAddress& address) {
    return std::make_unique<otafleet::smp::BleTransport>(std::make_unique<QtGattLink>(address));
}

}  // namespace

Result<std::unique_ptr<LinkProvider>> BlePlugin::createProvider(
    const otafleet::link::LinkContext& context) {
    Q_UNUSED(context);  // SMP over BLE has no credentials here: the image signature protects it
    return std::make_unique<BleProvider>();
}

Result<std::unique_ptr<otafleet::smp::SmpTransport>> BlePlugin::createTransport(
    const QString& address) {
    auto parsed = parseAddress(address);
    if (!parsed) {
        return otafleet::fail(parsed.error());
    }
    return makeTransport(*parsed);
}

std::unique_ptr<otafleet::link::DeviceScanner> BlePlugin::createScanner() {
    return std::make_unique<QtBleScanner>();
}

QString BleProvider::scheme() const {
    return QStringLiteral("ble");
}

Result<std::unique_ptr<DeviceLink>> BleProvider::open(const QUrl& uri) {
    const auto badUri = [&uri](const QString& why) {
        return otafleet::fail(QStringLiteral("link.bad-uri"),
                              QStringLiteral("\"%1\" is not a Bluetooth LE device address: %2. "
                                             "Use ble:///AA:BB:CC:DD:EE:FF.")
                                  .arg(uri.toDisplayString().left(80), why));
    };
    if (uri.scheme() != scheme()) {
        return badUri(QStringLiteral("the scheme is not ble"));
    }
    if (!uri.host().isEmpty() || uri.hasQuery() || uri.hasFragment() ||
        !uri.path().startsWith(QLatin1Char('/'))) {
        return badUri(QStringLiteral("it needs the address as the path"));
    }
    auto address = parseAddress(uri.path().mid(1));
    if (!address) {
        return badUri(address.error().message);
    }
    // No adapter is known at once; say so now rather than after the first request.
    if (const otafleet::Status adapter = QtGattLink::checkAdapter(address->toString()); !adapter) {
        return otafleet::fail(adapter.error());
    }
    return std::make_unique<otafleet::smp::SmpDeviceLink>(uri.toString(), makeTransport(*address));
}
