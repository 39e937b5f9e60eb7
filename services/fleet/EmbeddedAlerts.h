// New releases in the embedded fleet's store (its releases table: what the console's release
// import writes), noticed by asking the store every pollInterval on a thread of its own with its
// own connection: the Notifier announces them however they got there (this console, another
// console process on the same file). Releases already there at the first look are not new.
#pragma once

#include "fleet/NewReleases.h"

#include <QObject>
#include <QTimer>

#include <chrono>
#include <memory>

namespace otafleet::fleet {

class EmbeddedAlerts : public QObject {
    Q_OBJECT
public:
    explicit EmbeddedAlerts(QString storePath,
                            std::chrono::milliseconds pollInterval = std::chrono::seconds(5),
                            QObject* parent = nullptr);
    ~EmbeddedAlerts() override;

    // Looks now (and then every interval).
    void poll();

    class Worker;

Q_SIGNALS:
    void releaseAdded(const QString& version, const QString& detail);

private:
    QTimer m_timer;
    bool m_polling = false;
    NewReleases m_releases;
    std::unique_ptr<Worker> m_worker;
};

}  // namespace otafleet::fleet
