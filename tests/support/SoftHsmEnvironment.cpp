#include "SoftHsmEnvironment.h"

#include <QDir>
#include <QFile>

namespace otafleet::test {

namespace {
constexpr const char* kSoftHsmModule = "/usr/lib/softhsm/libsofthsm2.so";
}

SoftHsmEnvironment::SoftHsmEnvironment(const QString& directory) {
    const QDir dir(directory);
    const QString tokenDir = dir.absoluteFilePath(QStringLiteral("tokens"));
    QDir().mkpath(tokenDir);
    m_confPath = dir.absoluteFilePath(QStringLiteral("softhsm2.conf"));
    QFile conf(m_confPath);
    if (conf.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        conf.write(QStringLiteral("directories.tokendir = %1\n"
                                  "objectstore.backend = file\n"
                                  "log.level = ERROR\n"
                                  "slots.removable = false\n")
                       .arg(tokenDir)
                       .toUtf8());
    } else {
        qWarning("SoftHsmEnvironment: cannot write %s", qPrintable(m_confPath));
    }
    qputenv("SOFTHSM2_CONF", m_confPath.toLocal8Bit());
}

QString SoftHsmEnvironment::modulePath() const {
    return QString::fromLatin1(kSoftHsmModule);
}

QString SoftHsmEnvironment::confPath() const {
    return m_confPath;
}

}  // namespace otafleet::test
