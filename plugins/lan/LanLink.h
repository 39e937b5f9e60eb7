// A device reached over the LAN: each operation runs the blocking AgentClient call on a pool
// thread (QtConcurrent) and reports back through a QFutureWatcher; progress reaches this
// object's thread only through queued calls, so the GUI thread never waits on the network.
#pragma once

#include "agentclient/AgentClient.h"
#include "link/DeviceLink.h"

#include <QFutureWatcher>

#include <functional>
#include <memory>

class LanLink : public otafleet::link::DeviceLink {
    Q_OBJECT
public:
    LanLink(QString uri, QString target, otafleet::agentclient::TlsIdentity identity,
            QObject* parent = nullptr);
    // Cancels a running call and waits for its thread to let go of this object.
    ~LanLink() override;

    [[nodiscard]] static otafleet::link::DeviceSnapshot toSnapshot(
        const otafleet::agentclient::AgentInfo& info);

protected:
    void startRefresh() override;
    void startUpdate(const QString& bundlePath,
                     const otafleet::link::UpdateOptions& options) override;
    void startCommit() override;
    void startRollback() override;
    void startReboot() override;
    void requestCancel() override;

private:
    using Job = std::function<otafleet::Result<otafleet::agentclient::AgentInfo>(
        otafleet::agentclient::AgentClient&)>;
    void run(Job job);
    // On the worker thread, after a refresh's GetInfo (see DeviceLink::eventsReceived).
    void fetchTelemetry(otafleet::agentclient::AgentClient& client, quint64 storedThrough);
    void onJobFinished();

    QString m_target;
    otafleet::agentclient::TlsIdentity m_identity;
    // A fresh client per operation: a cancelled client is never reused.
    std::shared_ptr<otafleet::agentclient::AgentClient> m_client;
    QFutureWatcher<otafleet::Result<otafleet::link::DeviceSnapshot>> m_watcher;
};
