// otafleetd: `setup` prepares a server directory; `--config FILE` runs the server.
#include "common/ProcessHardening.h"
#include "common/Version.h"
#include "crypto/TlsPolicy.h"
#include "server/ServerRunner.h"
#include "server/ServerSetup.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QLoggingCategory>

#include <cstdio>

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int failWith(const otafleet::Error& error) {
    std::fprintf(stderr, "otafleetd: %s\n", qPrintable(error.toString()));
    return kExitFailure;
}

int usage(const QString& message) {
    std::fprintf(stderr, "otafleetd: %s [server.usage]\nTry 'otafleetd --help'.\n",
                 qPrintable(message));
    return kExitUsage;
}

int runSetup(const QStringList& arguments) {
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Prepares DIR as a ready otafleetd for the fleet PKI at PKI: otafleetd.conf, a TLS "
        "identity issued by the server CA (SAN = the listen hosts, key 0600), trust/root-ca.pem "
        "and trust/device-ca.pem, the SQLite store (data/otafleetd.sqlite, WAL) with the user "
        "'admin' bound to PKI/operator.pem, and the blob directory for releases."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("setup"), QStringLiteral("The setup command."));
    const QCommandLineOption dir(QStringLiteral("dir"),
                                 QStringLiteral("Server directory to create."),
                                 QStringLiteral("DIR"));
    const QCommandLineOption pki(QStringLiteral("pki"),
                                 QStringLiteral("PKI directory made by 'otafleetctl pki init'."),
                                 QStringLiteral("PKI"));
    const QCommandLineOption listen(
        QStringLiteral("listen"),
        QStringLiteral("Address consoles (and agents, without --agent-listen) dial, HOST:PORT."),
        QStringLiteral("HOST:PORT"));
    const QCommandLineOption agentListen(
        QStringLiteral("agent-listen"),
        QStringLiteral("Separate address for device agents (DeviceService), HOST:PORT."),
        QStringLiteral("HOST:PORT"));
    const QCommandLineOption pinEnv(
        QStringLiteral("pin-env"),
        QStringLiteral("Environment variable holding the token PIN (the server CA's key is on "
                       "the token)."),
        QStringLiteral("VAR"));
    const QCommandLineOption database(
        QStringLiteral("database"),
        QStringLiteral("Where the store lives: a PostgreSQL database as "
                       "postgresql://USER@HOST:PORT/DBNAME (password from PGPASSWORD or "
                       "~/.pgpass), or a SQLite file (default DIR/data/otafleetd.sqlite)."),
        QStringLiteral("LOCATION"));
    p.addOptions({dir, pki, listen, agentListen, pinEnv, database});
    if (!p.parse(arguments))
        return usage(p.errorText());
    if (p.isSet(QStringLiteral("help"))) {
        std::fputs(qPrintable(p.helpText()), stdout);
        return 0;
    }
    if (!p.isSet(dir) || !p.isSet(pki) || !p.isSet(listen))
        return usage(QStringLiteral("setup needs --dir, --pki and --listen"));
    otafleet::server::ServerSetupOptions options{p.value(dir),    p.value(pki),
                                                 p.value(listen), p.value(agentListen),
                                                 p.value(pinEnv), p.value(database)};
    if (auto ok = otafleet::server::setUpServer(options); !ok)
        return failWith(ok.error());
    std::fprintf(stdout, "otafleetd: server ready in %s; start it with 'otafleetd --config %s'\n",
                 qPrintable(p.value(dir)),
                 qPrintable(p.value(dir) + QStringLiteral("/otafleetd.conf")));
    return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
    // Before gRPC makes any TLS context: TLS 1.3 only (gRPC 1.51 has no setting of its own).
    if (auto tls = otafleet::crypto::requireTls13(); !tls) {
        std::fprintf(stderr, "otafleetd: error: %s\n", qPrintable(tls.error().toString()));
        return 1;
    }
    // The server's TLS key and users' passwords pass through this process.
    const bool noCoreDumps = otafleet::disableCoreDumps();
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("otafleetd"));
    QCoreApplication::setApplicationVersion(QString::fromLatin1(otafleet::kVersion));
    qSetMessagePattern(
        QStringLiteral("otafleetd: %{if-warning}warning: %{endif}"
                       "%{if-critical}error: %{endif}%{message}"));
    if (!noCoreDumps)
        std::fputs("otafleetd: warning: could not switch off core dumps\n", stderr);

    const QStringList args = QCoreApplication::arguments();
    if (args.size() >= 2 && args.at(1) == QLatin1String("setup"))
        return runSetup(args);

    QCommandLineParser p;
    p.setApplicationDescription(
        QStringLiteral(
            "otafleet's fleet backend: serves ConsoleService (consoles, otafleetctl) and "
            "DeviceService (agents that dial out) over TLS with the fleet root pinned.\n\n"
            "  otafleetd setup --dir DIR --pki PKI --listen HOST:PORT [--agent-listen HOST:PORT] "
            "[--pin-env VAR]\n  otafleetd --config DIR/otafleetd.conf\n\n"
            "otafleetd.conf keys: [server] listen, agent_listen; [tls] certificate, key, root_ca, "
            "device_ca; [store] database (a SQLite file, or postgresql://USER@HOST:PORT/DBNAME "
            "with "
            "the password in PGPASSWORD), blobs; [limits] max_release_size, token_lifetime, "
            "max_message_size, upload_timeout.\n%1\nExit codes: 0 stopped cleanly, 1 failure, 2 "
            "usage.")
            .arg(QString::fromLatin1(otafleet::crypto::tls13PolicyHelp())));
    p.addHelpOption();
    p.addVersionOption();
    const QCommandLineOption config(QStringLiteral("config"),
                                    QStringLiteral("otafleetd.conf written by 'otafleetd setup'."),
                                    QStringLiteral("FILE"));
    const QCommandLineOption verbose(QStringLiteral("verbose"),
                                     QStringLiteral("Log every session and call."));
    p.addOptions({config, verbose});
    if (!p.parse(args))
        return usage(p.errorText());
    if (p.isSet(QStringLiteral("help"))) {
        std::fputs(qPrintable(p.helpText()), stdout);
        return 0;
    }
    if (p.isSet(QStringLiteral("version"))) {
        std::fprintf(stdout, "otafleetd %s\n", otafleet::kVersion);
        return 0;
    }
    if (!p.positionalArguments().isEmpty())
        return usage(QStringLiteral("unknown command '%1'").arg(p.positionalArguments().first()));
    if (!p.isSet(config))
        return usage(QStringLiteral("give --config DIR/otafleetd.conf, or run 'otafleetd setup'"));
    if (!p.isSet(verbose))
        QLoggingCategory::setFilterRules(QStringLiteral("otafleet.*.info=false"));
    if (auto ok = otafleet::server::runServer(p.value(config)); !ok)
        return failWith(ok.error());
    return 0;
}
