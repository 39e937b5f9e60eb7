// otafleetctl: the scriptable face of otafleet (DESIGN.md section 10). Thin: it parses the
// command line and calls the same services the console uses.
#include "Cli.h"

#include "common/ProcessHardening.h"
#include "common/Version.h"
#include "crypto/TlsPolicy.h"

#include <QCoreApplication>
#include <QLoggingCategory>
#include <QStringList>

#include <cstdio>

using namespace otafleet::cli;

namespace {

QList<Command> allCommands() {
    QList<Command> commands;
    commands += pkiCommands();
    commands += stationCommands();
    commands += bundleCommands();
    commands += deltaCommands();
    commands += deviceCommands();
    commands += mcubootCommands();
    commands += mcuCommands();
    commands += factoryStationCommands();
    commands += userAuditCommands();
    commands += fleetReleaseCommands();
    commands += fleetTelemetryCommands();
    commands += rolloutCommands();
    commands += simulateCommands();
    return commands;
}

void printOverview(const QList<Command>& commands, const QString& onlyGroup = {}) {
    QString text =
        QStringLiteral(
            "otafleetctl %1: signed firmware updates for IoT fleets, from the command line.\n\n"
            "Usage: otafleetctl GROUP COMMAND [options]   (every command has --help)\n\n")
            .arg(QCoreApplication::applicationVersion());
    QString group;
    for (const Command& c : commands) {
        if (!onlyGroup.isEmpty() && c.group != onlyGroup) {
            continue;
        }
        if (c.group != group) {
            group = c.group;
            text += QStringLiteral("%1:\n").arg(group);
        }
        text += QStringLiteral("  %1 %2\n      %3\n").arg(c.group, c.name, c.summary);
    }
    text += QStringLiteral(
                "\nExit codes: 0 success, 1 the operation failed (the message names a stable error "
                "code),"
                " 2 the command line was wrong.\n%1\n")
                .arg(QString::fromLatin1(otafleet::crypto::tls13PolicyHelp()));
    printText(text);
}

}  // namespace

int main(int argc, char* argv[]) {
    // Before any TLS context exists: the station serves, and device commands dial, TLS 1.3 only.
    if (auto tls = otafleet::crypto::requireTls13(); !tls) {
        std::fprintf(stderr, "otafleetctl: %s\n", qPrintable(tls.error().toString()));
        return kFailure;
    }
    // PINs, signing sessions and (for PEM trials) private keys pass through this process.
    const bool noCoreDumps = otafleet::disableCoreDumps();
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("otafleetctl"));
    QCoreApplication::setOrganizationName(QStringLiteral("otafleet"));
    QCoreApplication::setApplicationVersion(QString::fromLatin1(otafleet::kVersion));

    // Library logs are for --verbose; warnings always show, in the command's own voice.
    QLoggingCategory::setFilterRules(
        QStringLiteral("otafleet.*.info=false\notafleet.*.debug=false"));
    if (!noCoreDumps) {
        std::fputs("otafleetctl: warning: could not switch off core dumps\n", stderr);
    }
    qSetMessagePattern(
        QStringLiteral("otafleetctl: %{if-warning}warning: %{endif}"
                       "%{if-critical}error: %{endif}%{message}"));

    const QStringList args = QCoreApplication::arguments();
    const QList<Command> commands = allCommands();
    if (args.size() < 2 || args[1] == QLatin1String("--help") || args[1] == QLatin1String("-h") ||
        args[1] == QLatin1String("help")) {
        printOverview(commands);
        return args.size() < 2 ? kUsage : kSuccess;
    }
    if (args[1] == QLatin1String("--version")) {
        printText(QStringLiteral("otafleetctl %1").arg(QCoreApplication::applicationVersion()));
        return kSuccess;
    }
    const QString group = args[1];
    const bool groupKnown = std::any_of(commands.begin(), commands.end(),
                                        [&](const Command& c) { return c.group == group; });
    if (!groupKnown) {
        return usageError(QStringLiteral("unknown command group '%1'; the groups are pki, bundle, "
                                         "device, mcuboot, mcu, station, user, audit, fleet, "
                                         "release, rollout and simulate")
                              .arg(group));
    }
    // A group that is a single command (simulate) takes its options right after the group.
    const auto single = std::find_if(commands.begin(), commands.end(), [&](const Command& c) {
        return c.group == group && c.name.isEmpty();
    });
    const bool isSingle = single != commands.end();
    if (!isSingle && (args.size() < 3 || args[2].startsWith(QLatin1Char('-')))) {
        printOverview(commands, group);
        return (args.size() >= 3 &&
                (args[2] == QLatin1String("--help") || args[2] == QLatin1String("-h")))
                   ? kSuccess
                   : kUsage;
    }
    const QString verb = isSingle ? QString() : args[2];
    const auto it =
        isSingle ? single : std::find_if(commands.begin(), commands.end(), [&](const Command& c) {
            return c.group == group && c.name == verb;
        });
    if (it == commands.end()) {
        return usageError(QStringLiteral("'%1' has no command '%2'; run 'otafleetctl %1 --help'")
                              .arg(group, verb));
    }

    QCommandLineParser parser;
    parser.setApplicationDescription(it->summary);
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    const QCommandLineOption help(QStringList{QStringLiteral("h"), QStringLiteral("help")},
                                  QStringLiteral("Show this help."));
    parser.addOption(help);
    const QCommandLineOption verbose(QStringList{QStringLiteral("v"), QStringLiteral("verbose")},
                                     QStringLiteral("Log what the services do, on stderr."));
    parser.addOption(verbose);
    if (it->addOptions) {
        it->addOptions(parser);
    }
    const QString commandName = isSingle ? group : QStringLiteral("%1 %2").arg(group, verb);
    QStringList commandArgs{QStringLiteral("otafleetctl %1").arg(commandName)};
    commandArgs += args.mid(isSingle ? 2 : 3);
    if (!parser.parse(commandArgs)) {
        return usageError(parser.errorText());
    }
    if (parser.isSet(help)) {
        // helpText() names the binary's full path; scripts and people know it as the command.
        QString usage = parser.helpText();
        const qsizetype eol = usage.indexOf(QLatin1Char('\n'));
        const QString firstLine = usage.left(eol);
        const qsizetype options = firstLine.indexOf(QStringLiteral(" [options]"));
        usage.replace(0, options < 0 ? eol : options,
                      QStringLiteral("Usage: otafleetctl %1").arg(commandName));
        printText(usage);
        return kSuccess;
    }
    if (parser.isSet(verbose)) {
        QLoggingCategory::setFilterRules(QStringLiteral("otafleet.*.debug=true"));
    }
    return it->run(parser);
}
