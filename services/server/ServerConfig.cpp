#include "server/ServerConfig.h"

#include "common/AtomicFile.h"
#include "store/SqlDialect.h"

#include <QDir>
#include <QFileInfo>
#include <QSet>
#include <QStringList>

namespace otafleet::server {
namespace {

std::unexpected<Error> invalid(int line, const QString& why) {
    return fail(QStringLiteral("server.config-invalid"),
                QStringLiteral("otafleetd.conf line %1: %2; fix the file or run 'otafleetd setup' "
                               "again.")
                    .arg(line)
                    .arg(why));
}

QString resolve(const QString& baseDir, const QString& value) {
    return QDir::cleanPath(QDir(baseDir).absoluteFilePath(value));
}

}  // namespace

bool validHostPort(const QString& address) {
    const qsizetype colon = address.lastIndexOf(u':');
    if (colon <= 0 || address.size() > 300)
        return false;
    bool ok = false;
    const uint port = address.mid(colon + 1).toUInt(&ok);
    return ok && port <= 65535 && !address.left(colon).trimmed().isEmpty();
}

Result<ServerConfig> ServerConfig::parse(QByteArrayView text, const QString& baseDir) {
    if (text.size() > kMaxFileSize)
        return invalid(0, QStringLiteral("the file is larger than %1 bytes").arg(kMaxFileSize));
    ServerConfig c;
    QString section;
    QSet<QString> seen;
    const QStringList lines = QString::fromUtf8(text).split(u'\n');
    for (qsizetype i = 0; i < lines.size(); ++i) {
        const int lineNo = static_cast<int>(i + 1);
        const QString line = lines.at(i).trimmed();
        if (line.isEmpty() || line.startsWith(u'#'))
            continue;
        if (line.startsWith(u'[')) {
            if (!line.endsWith(u']') || line.size() < 3)
                return invalid(lineNo, QStringLiteral("a section header is [name]"));
            section = line.mid(1, line.size() - 2).trimmed();
            continue;
        }
        const qsizetype eq = line.indexOf(u'=');
        if (eq <= 0)
            return invalid(lineNo, QStringLiteral("expected key = value"));
        const QString key = line.left(eq).trimmed();
        const QString value = line.mid(eq + 1).trimmed();
        const QString full = section + u'.' + key;
        if (seen.contains(full))
            return invalid(lineNo, QStringLiteral("%1 is given twice").arg(full));
        seen.insert(full);
        if (value.isEmpty())
            return invalid(lineNo, QStringLiteral("%1 has no value").arg(full));
        bool ok = true;
        if (full == u"server.listen" || full == u"server.agent_listen") {
            if (!validHostPort(value))
                return invalid(lineNo, QStringLiteral("%1 must be HOST:PORT").arg(full));
            (full == u"server.listen" ? c.listen : c.agentListen) = value;
        } else if (full == u"tls.certificate") {
            c.certificate = resolve(baseDir, value);
        } else if (full == u"tls.key") {
            c.key = resolve(baseDir, value);
        } else if (full == u"tls.root_ca") {
            c.rootCa = resolve(baseDir, value);
        } else if (full == u"tls.device_ca") {
            c.deviceCa = resolve(baseDir, value);
        } else if (full == u"store.database") {
            // A postgresql:// URL is kept as written; anything else is a SQLite file.
            c.database = store::isPostgresLocation(value) ? value : resolve(baseDir, value);
        } else if (full == u"store.blobs") {
            c.blobs = resolve(baseDir, value);
        } else if (full == u"limits.max_release_size") {
            c.maxReleaseSize = value.toLongLong(&ok);
            if (!ok || c.maxReleaseSize < 1024 || c.maxReleaseSize > 64LL * 1024 * 1024 * 1024)
                return invalid(lineNo, QStringLiteral("max_release_size must be 1024..64 GiB"));
        } else if (full == u"limits.token_lifetime") {
            c.tokenLifetimeSeconds = value.toInt(&ok);
            if (!ok || c.tokenLifetimeSeconds < 60 || c.tokenLifetimeSeconds > 86400)
                return invalid(lineNo, QStringLiteral("token_lifetime must be 60..86400 seconds"));
        } else if (full == u"limits.max_message_size") {
            c.maxMessageSize = value.toInt(&ok);
            if (!ok || c.maxMessageSize < 64 * 1024 || c.maxMessageSize > 16 * 1024 * 1024)
                return invalid(lineNo, QStringLiteral("max_message_size must be 64 KiB..16 MiB"));
        } else if (full == u"limits.upload_timeout") {
            c.uploadTimeoutSeconds = value.toInt(&ok);
            if (!ok || c.uploadTimeoutSeconds < 1 || c.uploadTimeoutSeconds > 3600)
                return invalid(lineNo, QStringLiteral("upload_timeout must be 1..3600 seconds"));
        } else if (full == u"limits.busy_backlog") {
            c.busyBacklog = value.toLongLong(&ok);
            if (!ok || c.busyBacklog < 0 || c.busyBacklog > 1'000'000)
                return invalid(lineNo, QStringLiteral("busy_backlog must be 0..1000000"));
        } else {
            return invalid(lineNo, QStringLiteral("unknown key %1").arg(full));
        }
    }
    for (const auto& [name, value] :
         {std::pair{"server.listen", c.listen}, std::pair{"tls.certificate", c.certificate},
          std::pair{"tls.key", c.key}, std::pair{"tls.root_ca", c.rootCa},
          std::pair{"tls.device_ca", c.deviceCa}, std::pair{"store.database", c.database},
          std::pair{"store.blobs", c.blobs}}) {
        if (value.isEmpty())
            return invalid(0, QStringLiteral("%1 is required").arg(QLatin1String(name)));
    }
    return c;
}

Result<ServerConfig> ServerConfig::load(const QString& path) {
    auto bytes = readFileBounded(path, kMaxFileSize);
    if (!bytes) {
        return fail(QStringLiteral("server.config-unreadable"),
                    QStringLiteral("Could not read %1 (%2); pass the otafleetd.conf that "
                                   "'otafleetd setup' wrote.")
                        .arg(path, bytes.error().message));
    }
    return parse(*bytes, QFileInfo(path).absolutePath());
}

}  // namespace otafleet::server
