#include "ServerWindows.h"

#include "ui/AdministrationPanels.h"

#include <QDir>
#include <QStandardPaths>

#include <algorithm>

namespace otafleet::app {

ServerWindows::ServerWindows(QObject* parent) : QObject(parent) {}

ServerWindows::~ServerWindows() {
    // Windows first: they hold references to their fleets.
    for (Entry& e : m_entries)
        e.window.reset();
}

client::ConsoleSettings ServerWindows::settingsOf(const ui::ServerChoice& choice) {
    client::ConsoleSettings s;
    s.address = choice.address;
    s.pkiDir = choice.pkiDir;
    s.caFile = choice.caFile;
    s.user = choice.user;
    s.password = choice.password;
    return s;
}

ui::MainWindow* ServerWindows::open(client::ConsoleSettings settings) {
    return open(std::move(settings), {}, {});
}

ui::MainWindow* ServerWindows::open(client::ConsoleSettings settings,
                                    const fleet::RemoteFleetOptions& fleetOptions,
                                    const fleet::RemoteRolloutsOptions& rolloutOptions) {
    fleet::RemoteFleetOptions options = fleetOptions;
    options.trustedRootFile = settings.pkiDir.isEmpty()
                                  ? settings.caFile
                                  : QDir(settings.pkiDir).filePath(QStringLiteral("root-ca.pem"));
    Entry e;
    // Each part signs in on its own connection (its own thread); the password stays in their
    // memory only, to sign in again after a reconnect.
    e.fleet = std::make_unique<fleet::RemoteFleet>(settings, options);
    e.rollouts = std::make_unique<fleet::RemoteRollouts>(settings, *e.fleet, rolloutOptions);
    e.audit = std::make_unique<fleet::RemoteAudit>(settings, *e.fleet, options.callDeadline);
    e.users = std::make_unique<fleet::RemoteUsers>(settings, *e.fleet, options.callDeadline);
    e.alerts = std::make_unique<fleet::RemoteAlerts>(settings, options.pollInterval * 2,
                                                     options.callDeadline);
    e.notifier = std::make_unique<fleet::Notifier>();
    e.notifier->watchRollouts(*e.rollouts);
    e.notifier->watchAlerts(*e.alerts);
    // Releases made in this window are built here (and signed with this workstation's PKI, when
    // it signed in with one) before they are uploaded.
    e.releases = std::make_unique<fleet::RemoteReleases>(
        settings, *e.fleet, settings.pkiDir,
        QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation))
            .filePath(QStringLiteral("server-releases")));
    e.telemetry = std::make_unique<fleet::RemoteTelemetry>(std::move(settings), e.rollouts.get(),
                                                           options.callDeadline);
    std::fill(settings.password.begin(), settings.password.end(), '\0');
    e.window = std::make_unique<ui::MainWindow>(*e.fleet);
    // Who acts is the user the server signed in (RolloutService::signedInUser()), never a name
    // typed here.
    e.window->addRollouts(*e.rollouts, QString());
    e.window->addTelemetry(*e.telemetry);
    e.window->addReleases(*e.releases);
    ui::AdministrationPanels::attach(*e.window, *e.audit, e.users.get(), *e.notifier);
    e.window->setAttribute(Qt::WA_DeleteOnClose, false);
    ui::MainWindow* window = e.window.get();
    watch(*window);
    m_entries.push_back(std::move(e));
    window->show();
    return window;
}

fleet::RemoteRollouts* ServerWindows::rolloutsOf(const ui::MainWindow* window) const {
    for (const Entry& e : m_entries) {
        if (e.window.get() == window)
            return e.rollouts.get();
    }
    return nullptr;
}

fleet::RemoteFleet* ServerWindows::fleetOf(const ui::MainWindow* window) const {
    for (const Entry& e : m_entries) {
        if (e.window.get() == window)
            return e.fleet.get();
    }
    return nullptr;
}

void ServerWindows::watch(ui::MainWindow& window) {
    connect(&window, &ui::MainWindow::connectRequested, this,
            [this](const ui::ServerChoice& choice) { open(settingsOf(choice)); });
}

}  // namespace otafleet::app
