#include "fleet/HotplugDevices.h"

#include <QFileInfo>

namespace otafleet::fleet {

HotplugDevices::HotplugDevices(FleetService& fleet, link::PortWatcher& watcher, QObject* parent)
    : QObject(parent), m_fleet(fleet) {
    connect(&watcher, &link::PortWatcher::portAdded, this, &HotplugDevices::onAdded);
    connect(&watcher, &link::PortWatcher::portRemoved, this,
            [this](const link::PortInfo& port) { m_fleet.detachDevice(port.uri); });
    for (const link::PortInfo& port : watcher.ports())
        onAdded(port);
}

QString HotplugDevices::nameFor(const link::PortInfo& port) {
    const QString file = QFileInfo(port.path).fileName();
    QString what = port.description.isEmpty() ? tr("Serial device") : port.description;
    if (!port.serialNumber.isEmpty())
        what += tr(" SN %1").arg(port.serialNumber);
    return tr("%1 (%2)").arg(what, file);
}

void HotplugDevices::onAdded(const link::PortInfo& port) {
    if (auto attached = m_fleet.attachDevice(port.uri, nameFor(port)); !attached)
        Q_EMIT attachFailed(port, attached.error());
}

}  // namespace otafleet::fleet
