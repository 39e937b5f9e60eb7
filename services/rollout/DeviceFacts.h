// What the rollout logic knows about one device: the fields a filter expression can test. The
// store fills it from its device table; the engine never sees more than this.
#pragma once

#include <QString>
#include <QStringList>

namespace otafleet::rollout {

struct DeviceFacts {
    QString id;
    QString name;
    QString model;
    QString hardware;  // hardware revision, e.g. "rev-a"
    QString version;   // running firmware version; SemVer 2.0 when the device reports one
    QStringList tags;
    QStringList groups;
    bool online = false;
};

}  // namespace otafleet::rollout
