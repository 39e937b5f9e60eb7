#include "ConsolePaths.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

namespace otafleet::app {

QStringList pluginDirectories() {
    const QDir binDir(QCoreApplication::applicationDirPath());
    QStringList candidates;
    const QString fromEnv = qEnvironmentVariable("OTAFLEET_PLUGIN_DIR");
    if (!fromEnv.isEmpty())
        candidates.append(fromEnv);
    candidates.append(binDir.filePath(QStringLiteral(OTAFLEET_INSTALLED_PLUGIN_DIR)));
    candidates.append(binDir.filePath(QStringLiteral("../plugins")));
    QStringList existing;
    for (const QString& candidate : candidates) {
        const QString clean = QDir::cleanPath(candidate);
        if (QFileInfo(clean).isDir() && !existing.contains(clean))
            existing.append(clean);
    }
    return existing;
}

QString agentProgram() {
    const QString beside =
        QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("otafleet-agent"));
    if (QFileInfo(beside).isExecutable())
        return beside;
    return QStandardPaths::findExecutable(QStringLiteral("otafleet-agent"));
}

}  // namespace otafleet::app
