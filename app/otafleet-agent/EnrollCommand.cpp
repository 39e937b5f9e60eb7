#include "EnrollCommand.h"

#include "agent/Enrollment.h"
#include "crypto/SecretString.h"

#include <QCommandLineParser>

#include <cstdio>

namespace otafleet::agent {

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int usage(const QString& message) {
    std::fprintf(stderr, "otafleet-agent: %s [agent.usage]\nTry 'otafleet-agent enroll --help'.\n",
                 qPrintable(message));
    return kExitUsage;
}

}  // namespace

int runEnrollCommand(const QStringList& arguments) {
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Enrols this device with a factory station ('otafleetctl pki station'): makes the "
        "device key (ECDSA P-256; a file created with mode 0600 beside agent.conf, or in a "
        "PKCS#11 token with --key), sends a certificate request for the device id of agent.conf "
        "with the enrolment token, checks the returned certificate (chains to [trust] "
        "bundle_root through the device CA, names this device and key, is valid now, is not on "
        "a [trust] CRL), stores it and adds an [identity] section to agent.conf. The agent then "
        "serves with this identity. Run again to retry: an existing key file is reused. Prints "
        "'otafleet-agent: enrolled ID serial S until DATE' on success."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("enroll"), QStringLiteral("The enroll command."));
    const QCommandLineOption config(QStringLiteral("config"),
                                    QStringLiteral("The agent's configuration file."),
                                    QStringLiteral("FILE"));
    const QCommandLineOption station(QStringLiteral("station"),
                                     QStringLiteral("The factory station, HOST:PORT (default: "
                                                    "[server] address of agent.conf); its TLS "
                                                    "certificate must chain to [trust] "
                                                    "bundle_root and name HOST."),
                                     QStringLiteral("HOST:PORT"));
    const QCommandLineOption tokenEnv(
        QStringLiteral("token-env"),
        QStringLiteral("Environment variable holding the enrolment token (default "
                       "OTAFLEET_ENROLL_TOKEN)."),
        QStringLiteral("VAR"), QStringLiteral("OTAFLEET_ENROLL_TOKEN"));
    const QCommandLineOption key(
        QStringLiteral("key"),
        QStringLiteral("Keep the device key in a PKCS#11 token: pkcs11:token=LABEL;object=NAME "
                       "(generated there when missing); the agent then opens it at start with "
                       "the PIN from [identity] pin_env."),
        QStringLiteral("pkcs11:URI"));
    const QCommandLineOption module(QStringLiteral("pkcs11-module"),
                                    QStringLiteral("PKCS#11 module for --key (default: the URI's "
                                                   "module-path, OTAFLEET_PKCS11_MODULE, "
                                                   "SoftHSM2)."),
                                    QStringLiteral("SO"));
    const QCommandLineOption pinEnv(QStringLiteral("pin-env"),
                                    QStringLiteral("Environment variable holding the token PIN "
                                                   "(with --key)."),
                                    QStringLiteral("VAR"));
    p.addOptions({config, station, tokenEnv, key, module, pinEnv});
    if (!p.parse(arguments))
        return usage(p.errorText());
    if (p.isSet(QStringLiteral("help"))) {
        std::fprintf(stdout, "%s", qPrintable(p.helpText()));
        return 0;
    }
    if (!p.isSet(config))
        return usage(
            QStringLiteral("enroll needs --config DIR/agent.conf (and --station "
                           "HOST:PORT unless agent.conf names a [server] address)"));
    if (p.isSet(key) && !p.value(key).startsWith(QLatin1String("pkcs11:")))
        return usage(QStringLiteral("--key takes a pkcs11: URI; without it the key is a file"));
    auto token = crypto::SecretString::fromEnvironment(p.value(tokenEnv));
    if (!token) {
        std::fprintf(stderr,
                     "otafleet-agent: The enrolment token is missing: set the environment "
                     "variable %s to the station's token. [agent.enroll-token-missing]\n",
                     qPrintable(p.value(tokenEnv)));
        return kExitFailure;
    }
    EnrollOptions o;
    o.configPath = p.value(config);
    o.station = p.value(station);
    o.token = QByteArray(token->c_str(), token->size());
    o.keyUri = p.value(key);
    o.pkcs11Module = p.value(module);
    o.pinEnv = p.value(pinEnv);
    auto report = enrollAgent(o);
    o.token.fill('\0');
    if (!report) {
        std::fprintf(stderr, "otafleet-agent: %s\n", qPrintable(report.error().toString()));
        return kExitFailure;
    }
    std::fprintf(stdout,
                 "otafleet-agent: enrolled %s serial %s until %s (certificate %s, key %s)\n",
                 qPrintable(report->deviceId), qPrintable(report->serial),
                 qPrintable(report->notAfter.toString(Qt::ISODate)),
                 qPrintable(report->certificatePath), qPrintable(report->key));
    return 0;
}

}  // namespace otafleet::agent
