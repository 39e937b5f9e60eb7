#include "ServerWindows.h"

#include <QDir>

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
    fleet::RemoteFleetOptions options;
    options.trustedRootFile = settings.pkiDir.isEmpty()
                                  ? settings.caFile
                                  : QDir(settings.pkiDir).filePath(QStringLiteral("root-ca.pem"));
    Entry e;
    e.fleet = std::make_unique<fleet::RemoteFleet>(std::move(settings), options);
    std::fill(settings.password.begin(), settings.password.end(), '\0');
    e.window = std::make_unique<ui::MainWindow>(*e.fleet);
    e.window->setAttribute(Qt::WA_DeleteOnClose, false);
    ui::MainWindow* window = e.window.get();
    watch(*window);
    m_entries.push_back(std::move(e));
    window->show();
    return window;
}

void ServerWindows::watch(ui::MainWindow& window) {
    connect(&window, &ui::MainWindow::connectRequested, this,
            [this](const ui::ServerChoice& choice) { open(settingsOf(choice)); });
}

}  // namespace otafleet::app
