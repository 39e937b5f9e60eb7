// otafleet: the desktop console. Parses options, wires store + device hub + fleet + main
// window, and with --demo brings up a local playground (PKI on SoftHSM, two agents, bundles).
#include "ConsoleLogging.h"
#include "ConsolePaths.h"
#include "DemoEnvironment.h"
#include "SampleAudit.h"
#include "SampleFleet.h"
#include "SampleReleases.h"
#include "ServerWindows.h"
#include "StationConsole.h"
#include "ViewRenderer.h"

#include "common/ProcessHardening.h"
#include "common/Version.h"
#include "crypto/SecretString.h"
#include "fleet/EmbeddedAlerts.h"
#include "fleet/EmbeddedAudit.h"
#include "fleet/EmbeddedFleet.h"
#include "fleet/EmbeddedReleases.h"
#include "fleet/EmbeddedRollouts.h"
#include "fleet/EmbeddedTelemetry.h"
#include "fleet/HotplugDevices.h"
#include "fleet/Notifier.h"
#include "link/DeviceHub.h"
#include "link/PortWatcher.h"
#include "rollout/Clock.h"
#include "store/FleetStore.h"
#include "ui/AdministrationPanels.h"
#include "ui/MainWindow.h"
#include "ui/PinDialog.h"
#include "ui/ReleasesView.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QMessageBox>
#include <QStandardPaths>
#include <QStatusBar>
#include <QSysInfo>
#include <QTabWidget>

#include <cstdio>

Q_LOGGING_CATEGORY(lcConsole, "otafleet.console")

namespace {

// Who the rollout engines record as acting from this workstation (embedded mode has no sign-in).
QString localOperatorName() {
    for (const char* variable : {"USER", "LOGNAME", "USERNAME"}) {
        const QString name = qEnvironmentVariable(variable);
        if (!name.isEmpty())
            return name;
    }
    return QStringLiteral("operator");
}

int failStart(const otafleet::Error& error) {
    std::fprintf(stderr, "otafleet: %s\n", qPrintable(error.toString()));
    QMessageBox::critical(nullptr, QStringLiteral("otafleet"), error.message);
    return 1;
}

// The PIN dialog as the services' PIN provider. ui/ knows nothing of crypto/ and crypto/ knows
// nothing of widgets; this is the one place that joins them. The PIN is moved from the dialog
// into a SecretString, so no copy stays behind here.
otafleet::app::DemoPinProvider demoPinDialog() {
    return []() -> otafleet::Result<otafleet::crypto::SecretString> {
        otafleet::ui::PinDialog dialog(
            QString::fromLatin1(otafleet::app::DemoEnvironment::kTokenLabel),
            QStringLiteral("The demo keeps its PKI and release key on a development SoftHSM "
                           "token. Its PIN is needed once, to create the demo PKI, set up the "
                           "demo devices and sign the demo bundles."));
        dialog.setDevelopmentPin(
            QString::fromLatin1(otafleet::app::DemoEnvironment::kDevelopmentPin));
        if (dialog.exec() != QDialog::Accepted) {
            return otafleet::fail(QStringLiteral("console.pin-cancelled"),
                                  QStringLiteral("No PIN was entered for the token."));
        }
        return otafleet::crypto::SecretString(dialog.takePin());
    };
}

// --help and --version must work without a display (scripts, CI, ssh sessions).
bool wantsOnlyText(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const QByteArrayView arg(argv[i]);
        if (arg == "-h" || arg == "--help" || arg == "--help-all" || arg == "-v" ||
            arg == "--version") {
            return true;
        }
    }
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    // Key material and PINs pass through this process (demo setup, the PIN dialog); a core
    // dump would write them to disk, so the console makes none.
    if (!otafleet::disableCoreDumps())
        qCWarning(lcConsole) << "could not switch off core dumps";
    std::unique_ptr<QCoreApplication> appOwner =
        wantsOnlyText(argc, argv) ? std::make_unique<QCoreApplication>(argc, argv)
                                  : std::make_unique<QApplication>(argc, argv);
    QCoreApplication& app = *appOwner;
    QApplication::setApplicationName(QStringLiteral("otafleet"));
    QApplication::setApplicationVersion(QString::fromLatin1(otafleet::kVersion));
    QApplication::setApplicationDisplayName(QStringLiteral("otafleet"));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Secure firmware-update console for IoT fleets."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption dataDirOption(
        QStringLiteral("data-dir"),
        QStringLiteral("Folder for the fleet database and demo files (default: %1).")
            .arg(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)),
        QStringLiteral("DIR"));
    const QCommandLineOption pkiOption(
        QStringLiteral("pki"),
        QStringLiteral("PKI folder made by 'otafleetctl pki init' (default: DATA/pki)."),
        QStringLiteral("DIR"));
    const QCommandLineOption demoOption(
        QStringLiteral("demo"),
        QStringLiteral("Start a local demo: development PKI on a SoftHSM token, two devices, "
                       "two signed bundles, and (in a new data folder) the sample fleet's "
                       "simulated devices and history."));
    const QCommandLineOption sampleOption(
        QStringLiteral("sample-fleet"),
        QStringLiteral("Fill an empty fleet with a few hundred simulated devices and a rollout "
                       "history, to try the views. They are not contacted."));
    const QCommandLineOption renderOption(
        QStringLiteral("render-views"),
        QStringLiteral("Draw every main view to PNG files in DIR, then quit (documentation, "
                       "tests/gui/render_views.sh)."),
        QStringLiteral("DIR"));
    const QCommandLineOption serverOption(
        QStringLiteral("server"),
        QStringLiteral("Open the fleet of the otafleetd at HOST:PORT instead of this "
                       "workstation's, signed in with --pki (its operator certificate) or with "
                       "--ca, --user and --password-env."),
        QStringLiteral("HOST:PORT"));
    const QCommandLineOption caOption(
        QStringLiteral("ca"),
        QStringLiteral("With --server and --user: the fleet root CA the server's certificate "
                       "must chain to."),
        QStringLiteral("ROOT.pem"));
    const QCommandLineOption userOption(QStringLiteral("user"),
                                        QStringLiteral("With --server: the user to sign in as."),
                                        QStringLiteral("NAME"));
    const QCommandLineOption passwordEnvOption(
        QStringLiteral("password-env"),
        QStringLiteral("With --user: the environment variable that holds the password."),
        QStringLiteral("VAR"));
    parser.addOptions({dataDirOption, pkiOption, demoOption, sampleOption, renderOption,
                       serverOption, caOption, userOption, passwordEnvOption});
    parser.addPositionalArgument(
        QStringLiteral("BUNDLE"),
        QStringLiteral("A signed bundle (.otab) whose report to show at start (what opening a "
                       ".otab file from the desktop does)."),
        QStringLiteral("[BUNDLE]"));
    parser.process(app);
    const QStringList bundles = parser.positionalArguments();
    if (bundles.size() > 1) {
        std::fprintf(stderr,
                     "otafleet: give one bundle at a time [console.usage]\n"
                     "Try 'otafleet --help'.\n");
        return 2;
    }

    if (parser.isSet(serverOption)) {
        // The server's fleet in place of this workstation's: nothing local is opened.
        otafleet::client::ConsoleSettings settings;
        settings.address = parser.value(serverOption);
        if (parser.isSet(userOption) || parser.isSet(caOption)) {
            settings.caFile = QDir::current().absoluteFilePath(parser.value(caOption));
            settings.user = parser.value(userOption);
            auto secret =
                otafleet::crypto::SecretString::fromEnvironment(parser.value(passwordEnvOption));
            if (!secret)
                return failStart(secret.error());
            settings.password = QByteArray(secret->c_str(), secret->size());
        } else if (parser.isSet(pkiOption)) {
            settings.pkiDir = QDir::current().absoluteFilePath(parser.value(pkiOption));
        }
        if (auto valid = settings.validate(); !valid)
            return failStart(valid.error());
        otafleet::app::ServerWindows servers;
        servers.open(std::move(settings));
        return app.exec();
    }

    const QString dataDir =
        QDir::cleanPath(parser.isSet(dataDirOption)
                            ? QDir::current().absoluteFilePath(parser.value(dataDirOption))
                            : QStandardPaths::writableLocation(QStandardPaths::AppDataLocation));
    const QString pkiDir = QDir::cleanPath(
        parser.isSet(pkiOption) ? QDir::current().absoluteFilePath(parser.value(pkiOption))
                                : QDir(dataDir).filePath(QStringLiteral("pki")));
    if (!QDir().mkpath(dataDir)) {
        return failStart({QStringLiteral("console.data-dir"),
                          QStringLiteral("The data folder %1 cannot be created; choose another "
                                         "with --data-dir.")
                              .arg(dataDir)});
    }

    // Destroyed last, so the agents stop only after every link to them is gone.
    std::unique_ptr<otafleet::app::DemoEnvironment> demo;
    if (parser.isSet(demoOption)) {
        auto prepared = otafleet::app::DemoEnvironment::prepare(
            dataDir, pkiDir, otafleet::app::agentProgram(), demoPinDialog());
        if (!prepared)
            return failStart(prepared.error());
        demo = std::move(*prepared);
        if (auto started = demo->startAgents(); !started)
            return failStart(started.error());
    }

    const QStringList pluginDirs = otafleet::app::pluginDirectories();
    qCInfo(lcConsole) << "plugin directories:" << pluginDirs;
    otafleet::link::DeviceHub hub(otafleet::link::LinkContext{pkiDir, {}, {}, {}}, pluginDirs);

    auto store =
        otafleet::store::FleetStore::open(QDir(dataDir).filePath(QStringLiteral("fleet.sqlite")));
    if (!store)
        return failStart(store.error());
    const bool sample = parser.isSet(sampleOption);
    bool sampleCreated = false;  // an empty fleet was filled now (not an existing one reused)
    // The demo shows a lively fleet: its two real agents among the simulated ones, so every view
    // and chart has history to show from the first start.
    if (sample || demo) {
        auto seeded = otafleet::app::SampleFleet::seed(**store, QDateTime::currentDateTimeUtc());
        if (!seeded && seeded.error().code != QLatin1String("sample.not-empty"))
            return failStart(seeded.error());
        qCInfo(lcConsole) << "sample fleet:" << (seeded ? "created" : "already there");
        if (auto audited = otafleet::app::SampleAudit::seed(**store); !audited)
            return failStart(audited.error());
        sampleCreated = seeded.has_value();
    }
    auto fleet = otafleet::fleet::EmbeddedFleet::create(std::move(*store), hub);
    if (!fleet)
        return failStart(fleet.error());
    // Bundles are checked before they are pushed against the same root the devices trust.
    (*fleet)->setTrustedRootFile(QDir(pkiDir).filePath(QStringLiteral("root-ca.pem")));
    // MCUboot images are checked against the PKI's release signer, as `mcu upload --pki` does.
    if (QFileInfo(pkiDir).isDir())
        (*fleet)->setReleaseKey(pkiDir);

    // Rollouts run in the console itself in embedded mode; their state lives in the fleet file,
    // so running ones resume here after a restart.
    const otafleet::rollout::SystemClock clock;
    auto rollouts = otafleet::fleet::EmbeddedRollouts::create(**fleet, clock);
    if (!rollouts)
        return failStart(rollouts.error());

    // The charts read the fleet file on a thread of their own (a second connection to it).
    otafleet::fleet::EmbeddedTelemetry telemetry(**fleet, rollouts->get());
    // The fleet file's audit log (its own connection and thread), appended to as the fleet and
    // its rollouts change; the notifier announces pauses and tampering.
    otafleet::fleet::EmbeddedAudit audit((*fleet)->store().path(), localOperatorName());
    audit.watch(**fleet, rollouts->get());
    otafleet::fleet::Notifier notifier;
    notifier.watchRollouts(**rollouts, localOperatorName());
    notifier.watchFleet(**fleet);
    otafleet::fleet::EmbeddedAlerts alerts((*fleet)->store().path());
    notifier.watchAlerts(alerts);
    // Releases: bundles kept in DATA/releases, signed with the PKI's release signers.
    const otafleet::fleet::release::Places releasePlaces{
        (*fleet)->store().path(), pkiDir, QDir(dataDir).filePath(QStringLiteral("releases")),
        localOperatorName()};
    // Only into a sample fleet made now: a PKI is created where there is none.
    if (sample && sampleCreated) {
        auto seeded = otafleet::app::SampleReleases::seed(releasePlaces);
        if (!seeded && seeded.error().code != QLatin1String("sample.not-empty"))
            qCWarning(lcConsole) << "sample releases:" << seeded.error().toString();
    }
    otafleet::fleet::EmbeddedReleases releases(**fleet, pkiDir, releasePlaces.releaseDir,
                                               localOperatorName());
    otafleet::ui::MainWindow window(**fleet);
    window.addRollouts(**rollouts, localOperatorName(), demo ? demo->bundleDirectory() : QString());
    window.addTelemetry(telemetry);
    window.addReleases(releases);
    if (demo) {
        window.releasesView()->setDevelopmentPin(
            QString::fromLatin1(otafleet::app::DemoEnvironment::kTokenLabel),
            QString::fromLatin1(otafleet::app::DemoEnvironment::kDevelopmentPin));
    }
    otafleet::ui::AdministrationPanels::attach(window, audit, nullptr, notifier);
    // The factory station: a tile per port, runs in this process (services/station).
    otafleet::ui::StationViewRequest stationDefaults;
    stationDefaults.ports = QStringLiteral("/dev/ttyACM*");
    stationDefaults.pki = pkiDir;
    stationDefaults.operatorName = localOperatorName();
    stationDefaults.stationId = QSysInfo::machineHostName();
    stationDefaults.database = QDir(dataDir).filePath(QStringLiteral("station.sqlite"));
    otafleet::app::StationConsole station(stationDefaults);
    window.tabs()->addTab(station.view(), QObject::tr("&Station"));
    if (hub.transports().isEmpty()) {
        window.statusBar()->showMessage(
            QStringLiteral("No transport plugins were found; devices cannot be reached. Check "
                           "the installation or set OTAFLEET_PLUGIN_DIR."));
    }
    if (demo) {
        for (const otafleet::app::DemoDevice& device : demo->devices()) {
            auto added = (*fleet)->addDevice(device.target, device.name);
            if (!added && added.error().code != QLatin1String("store.duplicate"))
                qCWarning(lcConsole) << "demo device" << device.name << added.error().toString();
        }
        window.statusBar()->showMessage(
            QStringLiteral("Demo: select a device and choose Update… with a bundle from %1")
                .arg(QDir::toNativeSeparators(demo->bundleDirectory())));
    }
    if (parser.isSet(renderOption)) {
        // What the store holds is drawn; nobody is contacted.
        const QString out = QDir::current().absoluteFilePath(parser.value(renderOption));
        if (auto rendered = otafleet::app::ViewRenderer::renderAll(window, out); !rendered) {
            std::fprintf(stderr, "otafleet: %s\n", qPrintable(rendered.error().toString()));
            return 1;
        }
        std::fprintf(stderr, "otafleet: rendered %lld views to %s\n",
                     static_cast<long long>(otafleet::app::ViewRenderer::fileNames().size()),
                     qPrintable(QDir::toNativeSeparators(out)));
        return 0;
    }
    if (sample) {
        // The sample devices live at documentation addresses; contacting them would only
        // turn every one of them into a failure.
        window.statusBar()->showMessage(
            QStringLiteral("Sample fleet: simulated devices with a rollout history; they are "
                           "not contacted."));
    } else if (demo) {
        // Only the demo's agents answer; the simulated devices are not contacted.
        for (const otafleet::fleet::FleetDevice& d : (*fleet)->devices()) {
            if (!otafleet::app::SampleFleet::isSampleDevice(d.uri) && !d.running)
                (void)(*fleet)->refresh(d.id);  // a failure shows on the device
        }
    } else {
        (*fleet)->refreshAll();
    }
    // MCU-class devices: USB serial ones join the device list while they are plugged in;
    // Bluetooth LE ones are found through the scan dialog. Both through the plugins' discovery
    // face, so the console knows no transport's types.
    std::unique_ptr<otafleet::link::PortWatcher> ports;
    std::unique_ptr<otafleet::fleet::HotplugDevices> hotplug;
    if (auto root = hub.pluginObject(QStringLiteral("serial"))) {
        auto* discovery = qobject_cast<otafleet::link::DiscoveryPlugin*>(*root);
        if (auto enumerator = discovery ? discovery->createPortEnumerator() : nullptr) {
            ports = std::make_unique<otafleet::link::PortWatcher>(std::move(enumerator));
            hotplug = std::make_unique<otafleet::fleet::HotplugDevices>(**fleet, *ports);
            // A station run opens its ports itself; the device list leaves them alone meanwhile.
            QObject::connect(
                &station, &otafleet::app::StationConsole::runStarted, hotplug.get(),
                [&hotplug](const QString& pattern) { hotplug->setExcludedPattern(pattern); });
            QObject::connect(&station, &otafleet::app::StationConsole::runFinished, hotplug.get(),
                             [&hotplug] { hotplug->setExcludedPattern({}); });
            ports->start();
        }
    }
    window.setBleScannerFactory(
        [&hub]() -> otafleet::Result<std::unique_ptr<otafleet::link::DeviceScanner>> {
            auto root = hub.pluginObject(QStringLiteral("ble"));
            if (!root)
                return otafleet::fail(root.error());
            auto* discovery = qobject_cast<otafleet::link::DiscoveryPlugin*>(*root);
            if (discovery == nullptr)
                return otafleet::fail(
                    QStringLiteral("mcu.ble-unavailable"),
                    QStringLiteral("The Bluetooth LE plugin cannot scan; reinstall otafleet."));
            return discovery->createScanner();
        });
    // File > Connect to server… opens the server's fleet in a window of its own.
    otafleet::app::ServerWindows servers;
    servers.watch(window);
    window.acceptFileOpenEvents(app);
    window.show();
    if (!bundles.isEmpty())
        window.openBundleReport(QDir::current().absoluteFilePath(bundles.first()));
    return app.exec();
}
