#include "server/ServerSetup.h"

#include "common/AtomicFile.h"
#include "crypto/Certificate.h"
#include "crypto/Pki.h"
#include "server/ServerConfig.h"
#include "store/FleetStore.h"
#include "store/SqlDialect.h"

#include <QDir>
#include <QFileInfo>
#include <QScopeGuard>
#include <QSysInfo>

namespace otafleet::server {
namespace {

constexpr qint64 kMaxPem = 1024 * 1024;

std::unexpected<Error> invalid(const QString& message) {
    return fail(QStringLiteral("server.setup-invalid"), message);
}

QString hostOf(const QString& address) {
    QString host = address.left(address.lastIndexOf(u':'));
    if (host.startsWith(u'[') && host.endsWith(u']'))
        host = host.mid(1, host.size() - 2);
    return host;
}

// The names clients dial: the listen hosts, or for a wildcard the machine's name and loopback.
QStringList subjectAltNames(const QStringList& addresses) {
    QStringList names;
    for (const QString& address : addresses) {
        if (address.isEmpty())
            continue;
        const QString host = hostOf(address);
        if (host == u"0.0.0.0" || host == u"::") {
            names << QSysInfo::machineHostName() << QStringLiteral("localhost")
                  << QStringLiteral("127.0.0.1");
        } else {
            names << host;
        }
    }
    names.removeDuplicates();
    return names;
}

Status copyFile(const QString& from, const QString& to) {
    auto bytes = readFileBounded(from, kMaxPem);
    if (!bytes)
        return fail(bytes.error());
    return writeFileAtomically(to, *bytes);
}

}  // namespace

Status setUpServer(const ServerSetupOptions& o) {
    if (o.directory.isEmpty() || o.pkiDirectory.isEmpty() || o.listen.isEmpty())
        return invalid(QStringLiteral("setup needs --dir, --pki and --listen."));
    if (!validHostPort(o.listen))
        return invalid(QStringLiteral("--listen must be HOST:PORT, e.g. 0.0.0.0:8443."));
    if (!o.agentListen.isEmpty() && !validHostPort(o.agentListen))
        return invalid(QStringLiteral("--agent-listen must be HOST:PORT, e.g. 0.0.0.0:8444."));
    const QDir dir(o.directory);
    const QString confPath = dir.filePath(QStringLiteral("otafleetd.conf"));
    if (QFileInfo::exists(confPath)) {
        return fail(QStringLiteral("server.setup-exists"),
                    QStringLiteral("%1 already holds a server; choose an empty directory.")
                        .arg(o.directory));
    }
    for (const char* sub : {"tls", "trust", "data", "blobs"}) {
        if (!QDir().mkpath(dir.filePath(QLatin1String(sub)))) {
            return fail(QStringLiteral("io.write-failed"),
                        QStringLiteral("Could not create %1; check the permissions.")
                            .arg(dir.filePath(QLatin1String(sub))));
        }
    }
    auto pki = crypto::Pki::open(o.pkiDirectory);
    if (!pki)
        return fail(pki.error());

    // The PIN is read once and handed out as copies, then wiped.
    QByteArray pin;
    if (!o.pinEnv.isEmpty()) {
        auto secret = crypto::SecretString::fromEnvironment(o.pinEnv);
        if (!secret)
            return fail(secret.error());
        pin = QByteArray(secret->c_str(), secret->size());
    }
    const auto wipePin = qScopeGuard([&pin] { pin.fill('\0'); });
    const auto pinProvider = [&pin]() -> Result<crypto::SecretString> {
        if (pin.isEmpty()) {
            return fail(QStringLiteral("crypto.pin-missing"),
                        QStringLiteral("The PKI keys are on a token; pass --pin-env VAR with the "
                                       "PIN in that environment variable."));
        }
        return crypto::SecretString(pin);
    };
    auto identity = pki->issueServerIdentity(
        QStringLiteral("otafleetd"), subjectAltNames({o.listen, o.agentListen}), pinProvider);
    if (!identity)
        return fail(identity.error());
    if (auto ok = writeFileAtomically(dir.filePath(QStringLiteral("tls/server.pem")),
                                      identity->certificateChainPem);
        !ok)
        return ok;
    if (auto ok = writeFileAtomically(dir.filePath(QStringLiteral("tls/server.key")),
                                      identity->privateKeyPem, 0600);
        !ok)
        return ok;
    if (auto ok = copyFile(pki->rootCaPath(), dir.filePath(QStringLiteral("trust/root-ca.pem")));
        !ok)
        return ok;
    if (auto ok = copyFile(QDir(o.pkiDirectory).filePath(QStringLiteral("ca/device-ca.pem")),
                           dir.filePath(QStringLiteral("trust/device-ca.pem")));
        !ok)
        return ok;

    // The admin signs in with the PKI's operator certificate (bound by its fingerprint).
    auto operatorCerts = crypto::Certificate::loadPemFile(pki->operatorCertPath());
    if (!operatorCerts)
        return fail(operatorCerts.error());
    if (operatorCerts->isEmpty()) {
        return fail(QStringLiteral("pki.invalid"),
                    QStringLiteral("%1 holds no certificate; the PKI is incomplete.")
                        .arg(pki->operatorCertPath()));
    }
    const QString fingerprint = operatorCerts->first().sha256Fingerprint();
    if (o.database.contains(u'\n') || o.database.contains(u'#')) {
        return fail(QStringLiteral("server.setup-invalid"),
                    QStringLiteral("--database must be one line without '#'; give a SQLite file "
                                   "path or postgresql://USER@HOST:PORT/DBNAME."));
    }
    // Relative SQLite paths are relative to DIR, as in otafleetd.conf.
    const QString database =
        o.database.isEmpty() ? QStringLiteral("data/otafleetd.sqlite") : o.database;
    const QString databaseLocation = store::isPostgresLocation(database)
                                         ? database
                                         : QDir::cleanPath(dir.absoluteFilePath(database));
    {
        auto store = store::FleetStore::open(databaseLocation);
        if (!store)
            return fail(store.error());
        store::UserRecord admin{
            QStringLiteral("admin"),        store::Role::Admin, QString(), fingerprint, false,
            QDateTime::currentDateTimeUtc()};
        if (auto ok = (*store)->users().add(admin); !ok)
            return ok;
        auto audited = (*store)->audit().append(
            QStringLiteral("system"), QStringLiteral("user:admin"), QStringLiteral("user.add"),
            QStringLiteral("role admin, operator certificate %1 (otafleetd setup)")
                .arg(fingerprint));
        if (!audited)
            return fail(audited.error());
    }

    QString conf = QStringLiteral(
                       "# otafleetd configuration, written by 'otafleetd setup'.\n"
                       "# Relative paths are relative to this file's directory.\n\n"
                       "[server]\nlisten = %1\n")
                       .arg(o.listen);
    if (!o.agentListen.isEmpty())
        conf += QStringLiteral("agent_listen = %1\n").arg(o.agentListen);
    conf += QStringLiteral(
                "\n[tls]\ncertificate = tls/server.pem\nkey = tls/server.key\n"
                "root_ca = trust/root-ca.pem\ndevice_ca = trust/device-ca.pem\n\n"
                "[store]\ndatabase = %1\nblobs = blobs\n\n"
                "[limits]\nmax_release_size = 2147483648\ntoken_lifetime = 900\n"
                "max_message_size = 4194304\nupload_timeout = 60\n")
                .arg(database);
    if (auto parsed = ServerConfig::parse(conf.toUtf8(), dir.absolutePath()); !parsed)
        return fail(parsed.error());
    return writeFileAtomically(confPath, conf.toUtf8());
}

}  // namespace otafleet::server
