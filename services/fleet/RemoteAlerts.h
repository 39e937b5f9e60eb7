// What an otafleetd knows that the console's Notifier announces: devices that reported tampering
// or a signature that did not hold (ListAnomalies: tampered-slot, signature-failure) and releases
// uploaded since the console connected (ListReleases), asked every pollInterval on a worker
// thread with its own signed-in connection. Releases already there at the first answer are not
// new; tampering already reported is announced (it still holds). A failed poll is tried again at
// the next interval (the fleet's connection shows why the server is away).
#pragma once

#include "consoleclient/ConsoleSettings.h"
#include "fleet/NewReleases.h"

#include <QObject>
#include <QTimer>

#include <chrono>
#include <memory>

namespace otafleet::fleet {

class RemoteAlerts : public QObject {
    Q_OBJECT
public:
    explicit RemoteAlerts(client::ConsoleSettings settings,
                          std::chrono::milliseconds pollInterval = std::chrono::seconds(10),
                          std::chrono::seconds callDeadline = std::chrono::seconds(15),
                          QObject* parent = nullptr);
    ~RemoteAlerts() override;

    // Asks now (and then every interval).
    void poll();

    class Worker;

Q_SIGNALS:
    // `key` identifies the report (device, kind, time) so that it is announced once.
    void tamperReported(const QString& device, const QString& detail, const QString& key);
    void releaseAdded(const QString& version, const QString& detail);

private:
    QTimer m_timer;
    bool m_polling = false;
    NewReleases m_releases;
    std::unique_ptr<Worker> m_worker;
};

}  // namespace otafleet::fleet
