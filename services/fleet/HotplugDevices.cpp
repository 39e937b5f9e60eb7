#include "fleet/HotplugDevices.h"

#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>

namespace otafleet::fleet {

HotplugDevices::HotplugDevices(FleetService& fleet, link::PortWatcher& watcher, QObject* parent)
    : QObject(parent), m_fleet(fleet), m_watcher(watcher) {
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

void HotplugDevices::setExcludedPattern(const QString& glob) {
    m_excluded = glob;
    for (const link::PortInfo& port : m_watcher.ports()) {
        if (isExcluded(port))
            m_fleet.detachDevice(port.uri);
        else
            onAdded(port);  // already attached ones are returned as they are
    }
}

bool HotplugDevices::isExcluded(const link::PortInfo& port) const {
    if (m_excluded.isEmpty())
        return false;
    // A path glob, as the station reads it: '*' stays within one folder.
    const QRegularExpression glob(QRegularExpression::wildcardToRegularExpression(m_excluded));
    const QString resolved = QFileInfo(port.path).canonicalFilePath();
    // The pattern may name the port or a symlink to it (/dev/serial/by-id/...): compare what
    // each resolves to.
    if (glob.match(port.path).hasMatch() ||
        (!resolved.isEmpty() && glob.match(resolved).hasMatch()))
        return true;
    const QFileInfo dir(QFileInfo(m_excluded).path());
    if (!dir.isDir())
        return false;
    const QDir folder(dir.filePath());
    for (const QFileInfo& entry :
         folder.entryInfoList(QDir::System | QDir::Files | QDir::NoDotAndDotDot)) {
        if (glob.match(entry.absoluteFilePath()).hasMatch() &&
            entry.canonicalFilePath() == resolved)
            return true;
    }
    return false;
}

void HotplugDevices::onAdded(const link::PortInfo& port) {
    if (isExcluded(port))
        return;
    if (auto attached = m_fleet.attachDevice(port.uri, nameFor(port)); !attached)
        Q_EMIT attachFailed(port, attached.error());
}

}  // namespace otafleet::fleet
