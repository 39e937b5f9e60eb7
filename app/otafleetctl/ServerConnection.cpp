#include "ServerConnection.h"

#include "crypto/SecretString.h"

#include <QDateTime>
#include <QDir>

namespace otafleet::cli {

const QCommandLineOption kServerOpt(QStringLiteral("server"),
                                    QStringLiteral("otafleetd's address."),
                                    QStringLiteral("HOST:PORT"));
const QCommandLineOption kServerPki(QStringLiteral("pki"),
                                    QStringLiteral("PKI directory: its root CA and operator "
                                                   "certificate (the admin's sign-in)."),
                                    QStringLiteral("PKI"));
const QCommandLineOption kServerCa(QStringLiteral("ca"),
                                   QStringLiteral("Fleet root CA PEM the server's certificate "
                                                  "must chain to (with --user)."),
                                   QStringLiteral("ROOT.pem"));
const QCommandLineOption kServerUser(QStringLiteral("user"),
                                     QStringLiteral("User name for a password login."),
                                     QStringLiteral("NAME"));
const QCommandLineOption kServerPasswordEnv(QStringLiteral("password-env"),
                                            QStringLiteral("Environment variable holding the "
                                                           "password."),
                                            QStringLiteral("VAR"));
const QCommandLineOption kServerJson(QStringLiteral("json"), QStringLiteral("Print JSON."));

QList<QCommandLineOption> serverOptions() {
    return {kServerOpt, kServerPki, kServerCa, kServerUser, kServerPasswordEnv, kServerJson};
}

Result<std::unique_ptr<ServerConnection>> openServerConnection(const QCommandLineParser& p) {
    if (!p.isSet(kServerOpt)) {
        return fail(QStringLiteral("cli.usage"), QStringLiteral("--server HOST:PORT is required."));
    }
    // With --pki, --password-env is not a login: `user add` reads the new user's password there.
    const bool password = p.isSet(kServerUser) || p.isSet(kServerCa);
    if (p.isSet(kServerPki) == password ||
        (password &&
         !(p.isSet(kServerCa) && p.isSet(kServerUser) && p.isSet(kServerPasswordEnv)))) {
        return fail(QStringLiteral("cli.usage"),
                    QStringLiteral("Give either --pki PKI (operator certificate) or --ca ROOT.pem "
                                   "--user NAME --password-env VAR (password login)."));
    }
    client::ConsoleSettings settings;
    settings.address = p.value(kServerOpt);
    if (password) {
        auto secret = crypto::SecretString::fromEnvironment(p.value(kServerPasswordEnv));
        if (!secret)
            return fail(secret.error());
        settings.caFile = p.value(kServerCa);
        settings.user = p.value(kServerUser);
        settings.password = QByteArray(secret->c_str(), secret->size());
    } else {
        settings.pkiDir = p.value(kServerPki);
    }
    return client::ConsoleClient::open(settings);
}

QString isoTime(qint64 unixMs) {
    if (unixMs <= 0)
        return QString();
    return QDateTime::fromMSecsSinceEpoch(unixMs, Qt::UTC).toString(Qt::ISODateWithMs);
}

}  // namespace otafleet::cli
