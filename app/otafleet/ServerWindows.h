// The console's windows on otafleetd fleets: per server the user connected to (otafleet --server,
// or File > Connect to server… in any window), a RemoteFleet, its RemoteRollouts and
// RemoteTelemetry, RemoteReleases and one MainWindow with the devices, the dashboard, the rollouts
// (wizard, monitor, approval inbox), the telemetry charts, the releases and the Security menu (the
// server's audit log, its users, notifications: RemoteAudit, RemoteUsers, RemoteAlerts), beside
// the workstation's own window. A window closed by the user takes its connections with it.
#pragma once

#include "consoleclient/ConsoleSettings.h"
#include "fleet/Notifier.h"
#include "fleet/RemoteAlerts.h"
#include "fleet/RemoteAudit.h"
#include "fleet/RemoteFleet.h"
#include "fleet/RemoteReleases.h"
#include "fleet/RemoteRollouts.h"
#include "fleet/RemoteTelemetry.h"
#include "fleet/RemoteUsers.h"
#include "ui/MainWindow.h"

#include <QObject>

#include <memory>
#include <vector>

namespace otafleet::app {

class ServerWindows : public QObject {
    Q_OBJECT
public:
    explicit ServerWindows(QObject* parent = nullptr);
    ~ServerWindows() override;

    // Opens and shows a window on the fleet of `settings.address`; it connects by itself and
    // its status bar says how that goes. Returns the window (tests).
    ui::MainWindow* open(client::ConsoleSettings settings);
    // As open(), with the polling and reconnecting pace given (tests go faster).
    ui::MainWindow* open(client::ConsoleSettings settings, const fleet::RemoteFleetOptions& fleet,
                         const fleet::RemoteRolloutsOptions& rollouts);
    // Lets `window`'s "Connect to server…" open server windows here.
    void watch(ui::MainWindow& window);

    [[nodiscard]] static client::ConsoleSettings settingsOf(const ui::ServerChoice& choice);
    // The rollouts behind `window` (null for a window not opened here).
    [[nodiscard]] fleet::RemoteRollouts* rolloutsOf(const ui::MainWindow* window) const;
    // The fleet behind `window` (null for a window not opened here).
    [[nodiscard]] fleet::RemoteFleet* fleetOf(const ui::MainWindow* window) const;

private:
    struct Entry {
        std::unique_ptr<fleet::RemoteFleet> fleet;
        std::unique_ptr<fleet::RemoteRollouts> rollouts;
        std::unique_ptr<fleet::RemoteTelemetry> telemetry;
        // The Security menu's audit log, users and notifications (ui/AdministrationPanels).
        std::unique_ptr<fleet::RemoteAudit> audit;
        std::unique_ptr<fleet::RemoteUsers> users;
        std::unique_ptr<fleet::RemoteAlerts> alerts;
        std::unique_ptr<fleet::Notifier> notifier;
        std::unique_ptr<fleet::RemoteReleases> releases;
        std::unique_ptr<ui::MainWindow> window;
    };
    std::vector<Entry> m_entries;
};

}  // namespace otafleet::app
