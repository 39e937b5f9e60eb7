// The console's windows on otafleetd fleets: one RemoteFleet and one MainWindow per server the
// user connected to (otafleet --server, or File > Connect to server… in any window), beside
// the workstation's own window. A window closed by the user takes its connection with it.
#pragma once

#include "consoleclient/ConsoleSettings.h"
#include "fleet/RemoteFleet.h"
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
    // Lets `window`'s "Connect to server…" open server windows here.
    void watch(ui::MainWindow& window);

    [[nodiscard]] static client::ConsoleSettings settingsOf(const ui::ServerChoice& choice);

private:
    struct Entry {
        std::unique_ptr<fleet::RemoteFleet> fleet;
        std::unique_ptr<ui::MainWindow> window;
    };
    std::vector<Entry> m_entries;
};

}  // namespace otafleet::app
