// otafleet-agent: `setup` prepares a device directory; `--config FILE` runs the agent.
#include "AgentRunner.h"
#include "EnrollCommand.h"

#include "agent/Agent.h"
#include "agent/AgentSetup.h"
#include "common/ProcessHardening.h"
#include "crypto/TlsPolicy.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <unistd.h>

namespace {

constexpr int kExitUsage = 2;
constexpr int kExitFailure = 1;

int failWith(const otafleet::Error& error) {
    std::fprintf(stderr, "otafleet-agent: %s\n", qPrintable(error.toString()));
    return kExitFailure;
}

int usage(const QString& message) {
    std::fprintf(stderr, "otafleet-agent: %s [agent.usage]\nTry 'otafleet-agent --help'.\n",
                 qPrintable(message));
    return kExitUsage;
}

int runSetup(const QStringList& arguments) {
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Prepares DIR as a ready device for the fleet PKI at PKI: agent.conf, a TLS identity "
        "issued by the server CA (SAN = the listen host, key 0600), trust/root-ca.pem, the "
        "operator CA bundle, slot files A and B, and a signed factory image committed in slot A "
        "(also kept as DIR/factory.otab)."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("setup"), QStringLiteral("The setup command."));
    const QCommandLineOption dir(QStringLiteral("dir"),
                                 QStringLiteral("Device directory to create."),
                                 QStringLiteral("DIR"));
    const QCommandLineOption pki(QStringLiteral("pki"),
                                 QStringLiteral("PKI directory made by 'otafleetctl pki init'."),
                                 QStringLiteral("PKI"));
    const QCommandLineOption listen(QStringLiteral("listen"),
                                    QStringLiteral("Address the agent serves on, HOST:PORT."),
                                    QStringLiteral("HOST:PORT"));
    const QCommandLineOption model(QStringLiteral("model"),
                                   QStringLiteral("Device model (default otafleet-devkit)."),
                                   QStringLiteral("M"), QStringLiteral("otafleet-devkit"));
    const QCommandLineOption hardware(
        QStringLiteral("hardware"),
        QStringLiteral("Hardware revision bundles must name (default rev-a)."), QStringLiteral("H"),
        QStringLiteral("rev-a"));
    const QCommandLineOption name(QStringLiteral("name"),
                                  QStringLiteral("Device name (default: the directory's name)."),
                                  QStringLiteral("N"));
    const QCommandLineOption backend(
        QStringLiteral("boot-backend"),
        QStringLiteral("Boot control: file (DIR/state/boot.state), uboot (redundant U-Boot "
                       "environment in DIR/state via fw_setenv, needs libubootenv-tool) or grub "
                       "(two GRUB environment blocks DIR/state/grubenv[.b] via grub-editenv, "
                       "needs grub-common). Default file."),
        QStringLiteral("B"), QStringLiteral("file"));
    const QCommandLineOption pinEnv(
        QStringLiteral("pin-env"),
        QStringLiteral(
            "Environment variable holding the token PIN when the PKI keys are on a token."),
        QStringLiteral("VAR"));
    const QCommandLineOption version(
        QStringLiteral("factory-version"),
        QStringLiteral("Version of the factory image (default 1.0.0)."), QStringLiteral("V"),
        QStringLiteral("1.0.0"));
    const QCommandLineOption security(
        QStringLiteral("factory-security-version"),
        QStringLiteral("Security version of the factory image (default 1)."), QStringLiteral("N"),
        QStringLiteral("1"));
    const QCommandLineOption slotSize(
        QStringLiteral("slot-size"),
        QStringLiteral("Capacity of each slot in bytes (default 67108864)."),
        QStringLiteral("BYTES"), QStringLiteral("67108864"));
    const QCommandLineOption crl(
        QStringLiteral("crl"),
        QStringLiteral("Revocation list from 'otafleetctl pki crl' to install (repeatable); "
                       "PKI/crl.pem is installed too when it exists."),
        QStringLiteral("CRL.pem"));
    p.addOptions({dir, pki, listen, model, hardware, name, backend, pinEnv, version, security,
                  slotSize, crl});
    if (!p.parse(arguments))
        return usage(p.errorText());
    if (p.isSet(QStringLiteral("help"))) {
        std::fprintf(stdout, "%s", qPrintable(p.helpText()));
        return 0;
    }
    otafleet::agent::SetupOptions o;
    o.directory = p.value(dir);
    o.pkiDirectory = p.value(pki);
    o.listen = p.value(listen);
    o.model = p.value(model);
    o.hardware = p.value(hardware);
    o.name = p.value(name);
    o.bootBackend = p.value(backend);
    o.pinEnv = p.value(pinEnv);
    o.factoryVersion = p.value(version);
    o.crlFiles = p.values(crl);
    bool ok1 = false, ok2 = false;
    o.factorySecurityVersion = p.value(security).toULongLong(&ok1);
    o.slotSize = p.value(slotSize).toULongLong(&ok2);
    if (!ok1 || !ok2 || o.slotSize == 0) {
        return usage(
            QStringLiteral("--factory-security-version and --slot-size take whole numbers"));
    }
    if (o.directory.isEmpty() || o.pkiDirectory.isEmpty() || o.listen.isEmpty()) {
        return usage(QStringLiteral("setup needs --dir, --pki and --listen"));
    }
    if (auto result = otafleet::agent::setUpAgent(o); !result)
        return failWith(result.error());
    std::fprintf(stdout, "otafleet-agent: set up %s (config %s/agent.conf)\n",
                 qPrintable(o.directory), qPrintable(o.directory));
    return 0;
}

int runOffline(const QStringList& arguments) {
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Runs one boot (trial countdown, slot verification, health check) and the given "
        "operations without serving, then exits and prints the state as one line. For service "
        "technicians (install from a local file) and for the fault-injection tests."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("offline"), QStringLiteral("The offline command."));
    const QCommandLineOption config(QStringLiteral("config"),
                                    QStringLiteral("The agent's configuration file."),
                                    QStringLiteral("FILE"));
    const QCommandLineOption install(
        QStringLiteral("install"),
        QStringLiteral("Verify BUNDLE and install it into the inactive slot for a trial boot."),
        QStringLiteral("BUNDLE"));
    const QCommandLineOption commit(QStringLiteral("commit"),
                                    QStringLiteral("Commit the trial slot that this boot runs."));
    const QCommandLineOption rollback(
        QStringLiteral("rollback"), QStringLiteral("Make the other verified slot primary again."));
    p.addOptions({config, install, commit, rollback});
    if (!p.parse(arguments))
        return usage(p.errorText());
    if (p.isSet(QStringLiteral("help"))) {
        std::fprintf(stdout, "%s", qPrintable(p.helpText()));
        return 0;
    }
    if (!p.isSet(config))
        return usage(QStringLiteral("offline needs --config DIR/agent.conf"));
    otafleet::agent::OfflineOptions o;
    o.installBundle = p.value(install);
    o.commit = p.isSet(commit);
    o.rollback = p.isSet(rollback);
    if (auto result = otafleet::agent::runOffline(p.value(config), o); !result)
        return failWith(result.error());
    return 0;
}

// Every key of agent.conf, for --help (resources/agent/agent.conf.example has an example).
constexpr char kConfigHelp[] = R"(
Configuration (agent.conf; '[section]', 'key = value', '#' comments; relative paths are relative
to the file's directory; unknown keys, duplicates and bad values are reported line by line and
the agent refuses to start):
  [device]  id (required)        device id, a UUID written by setup
            name, model          shown to operators
            hardware (required)  hardware revision bundles must name
  [agent]   listen (required)    HOST:PORT to serve gRPC/TLS on
            data_dir             state, slots manifests and uploads (default: config's dir)
            max_bundle_size      largest accepted upload in bytes (default 4294967296)
  [slots]   slot_a, slot_b (required)  slot files or block devices
            slot_size            capacity of a slot in bytes (0/absent: no limit)
  [boot]    backend              file | uboot | grub (default file)
            trial_tries          boots a new slot gets to be committed, 1-100 (default 3)
            uboot_env_config     uboot: fw_env.config naming two env copies (FILE OFFSET SIZE)
            grub_env             grub: first environment block; the second is grub_env.b
  [trust]   bundle_root (required)     root CA that bundles must chain to
            crl                  CRL file from 'otafleetctl pki crl' (repeatable): new
                                 bundles from a revoked signer and revoked operator
                                 certificates are refused (committed firmware keeps booting)
            signers_required     distinct trusted release signers an update needs, 1-16
                                 (default 1; 2 = two-person release signing)
  [server]  address              HOST:PORT of the fleet's server or factory station;
                                 'enroll' uses it when --station is not given; once
                                 enrolled ([identity]) the agent dials otafleetd there with
                                 its device certificate, reports inventory, takes update
                                 offers and reconnects with backoff (LAN service unchanged)
            enroll_token_file    a one-time enrolment token: without [identity] the agent
                                 enrols with it at start, then deletes the file
            enroll_station       HOST:PORT of the enrolment station (default: address)
  [tls]     certificate, key, operator_ca (required)  agent identity and operator CA bundle
  [identity] certificate, key    device certificate and key file from 'otafleet-agent enroll';
                                 when present the agent serves with them instead of [tls]
                                 and refuses to start while they are expired or revoked
                                 (agent.identity-expired, agent.identity-revoked)
            key_uri, pin_env, pkcs11_module  a device key in a PKCS#11 token instead of 'key'
  [health]  command              run after each boot, exit 0 = healthy; gets OTAFLEET_SLOT,
                                 OTAFLEET_SLOT_PATH, OTAFLEET_VERSION
            timeout              seconds before the command is killed, 1-3600 (default 30)
            min_free             built-in: bytes the data directory needs free (default: any)
            check_tcp            built-in, repeatable: HOST:PORT that must accept a TCP
                                 connection (the server, a gateway); the data directory is
                                 always checked for writing. A failed built-in check fails the
                                 trial like the command does.
  [telemetry] max_bytes          cap of the event queue in DATA/telemetry (update phases,
                                 boots, health checks, free space, system metrics), bytes
                                 from 65536 to 67108864 (default 1048576); when full, the
                                 oldest unacknowledged events go and a 'dropped' event says
                                 how many. 'otafleetctl device events --ack' fetches them.
            metrics_interval     seconds between metrics snapshots (free space, load,
                                 memory, uptime), 0 = only at boots and installs (default 3600)
  [smp]     serial               answer MCUmgr SMP on this serial port (a USB gadget port such
                                 as /dev/ttyGS0), or 'pty': make a pseudo-terminal and print
                                 'otafleet-agent: smp pty /dev/pts/N' (tests, benches). Uploads
                                 are .otab bundles; test = verify and install for a trial boot,
                                 reset = reboot, confirm = commit (README "SMP on a Linux agent")
            baud                 the port's rate (default 115200); on a pty the rate it is
                                 paced at like a UART, 0 = unpaced

Environment:
  QT_LOGGING_RULES               e.g. "otafleet.agent.debug=true" for more log output
  OTAFLEET_AGENT_CRASH_AT        TEST HOOK, never set in production: POINT:N kills the agent
                                 with SIGKILL at the N-th hit of the named crash point
                                 (slot-write-bytes:N after N payload bytes); 'trace' prints
                                 every crash point as it is passed. Used by tst_faultsweep.
)";

// The serving agent resolves every symbol of every library at start, by running itself once more
// with LD_BIND_NOW=1 (gRPC and protobuf are built for lazy binding): a lazy lookup later, at the
// first call of each library function, reads the symbol tables of all libraries again, pages the
// agent released once it was ready to serve (AgentRunner.cpp). Its children (health checks) get
// the environment as it was.
void bindSymbolsNow(int argc, char** argv) {
    if (std::getenv("OTAFLEET_AGENT_BOUND")) {
        if (std::getenv("OTAFLEET_AGENT_BOUND")[0] == '0')
            ::unsetenv("LD_BIND_NOW");
        ::unsetenv("OTAFLEET_AGENT_BOUND");
        return;
    }
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "setup" || a == "offline" || a == "enroll" || a == "--help" || a == "-h")
            return;
    }
    ::setenv("OTAFLEET_AGENT_BOUND", std::getenv("LD_BIND_NOW") ? "1" : "0", 1);
    ::setenv("LD_BIND_NOW", "1", 1);
    ::execv("/proc/self/exe", argv);
    ::unsetenv("LD_BIND_NOW");  // could not: run with lazy binding
    ::unsetenv("OTAFLEET_AGENT_BOUND");
}

}  // namespace

int main(int argc, char** argv) {
    bindSymbolsNow(argc, argv);
    // Before anything makes a TLS context (gRPC's server, the enrolment client): TLS 1.3 only.
    if (auto tls = otafleet::crypto::requireTls13(); !tls)
        return failWith(tls.error());
    // The agent holds its TLS key and, during setup, a token PIN: no core dumps.
    const bool noCoreDumps = otafleet::disableCoreDumps();
    qSetMessagePattern(QStringLiteral("%{category} %{type}: %{message}"));
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("otafleet-agent"));
    QCoreApplication::setApplicationVersion(otafleet::agent::agentVersion());
    if (!noCoreDumps)
        qWarning("could not switch off core dumps");
    const QStringList arguments = QCoreApplication::arguments();
    if (arguments.size() > 1 && arguments.at(1) == u"setup")
        return runSetup(arguments);
    if (arguments.size() > 1 && arguments.at(1) == u"offline")
        return runOffline(arguments);
    if (arguments.size() > 1 && arguments.at(1) == u"enroll")
        return otafleet::agent::runEnrollCommand(arguments);

    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "The otafleet device agent: A/B slots, verified installs, trial boots with automatic "
        "revert, served over gRPC/TLS to operators with client certificates.\n\n"
        "Commands:\n"
        "  otafleet-agent setup --dir DIR --pki PKI --listen HOST:PORT [options]\n"
        "      prepare a device directory (see 'otafleet-agent setup --help')\n"
        "  otafleet-agent --config DIR/agent.conf\n"
        "      run the agent: boot stage (trial countdown, slot verification, health check),\n"
        "      then serve; prints 'otafleet-agent: listening on HOST:PORT' when ready.\n"
        "  otafleet-agent offline --config DIR/agent.conf [--install B] [--commit] [--rollback]\n"
        "      one boot and the given operations without serving (see 'offline --help').\n"
        "  otafleet-agent enroll --config DIR/agent.conf --station HOST:PORT [--key pkcs11:URI]\n"
        "      get a device certificate from a factory station (see 'enroll --help').\n\n"
        "Every error is printed as a sentence and a stable [code]; the exit code is 0 only on "
        "success (1 failure, 2 usage)."));
    p.addHelpOption();
    p.addVersionOption();
    const QCommandLineOption config(QStringLiteral("config"),
                                    QStringLiteral("The agent's configuration file."),
                                    QStringLiteral("FILE"));
    p.addOption(config);
    if (!p.parse(arguments))
        return usage(p.errorText());
    if (p.isSet(QStringLiteral("help"))) {
        std::fprintf(stdout, "%s%s\n%s\n", qPrintable(p.helpText()), kConfigHelp,
                     otafleet::crypto::tls13PolicyHelp());
        return 0;
    }
    if (p.isSet(QStringLiteral("version"))) {
        std::fprintf(stdout, "otafleet-agent %s\n", qPrintable(otafleet::agent::agentVersion()));
        return 0;
    }
    if (!p.isSet(config))
        return usage(QStringLiteral("pass --config DIR/agent.conf or the setup command"));
    if (auto result = otafleet::agent::runAgent(p.value(config), argv); !result) {
        return failWith(result.error());
    }
    return 0;
}
