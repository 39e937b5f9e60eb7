#include "LanLink.h"

#include <QLoggingCategory>
#include <QPointer>
#include <QtConcurrent/QtConcurrentRun>

Q_LOGGING_CATEGORY(lcLan, "otafleet.lan")

using otafleet::Result;
using otafleet::agentclient::AgentClient;
using otafleet::agentclient::AgentInfo;
using otafleet::agentclient::PushPhase;
using otafleet::link::DeviceSnapshot;
using otafleet::link::UpdatePhase;

namespace {
constexpr std::chrono::seconds kRebootTimeout{60};
// Events per refresh; a device with more hands over the rest at the next refreshes.
constexpr quint32 kTelemetryBatch = 256;

UpdatePhase toUpdatePhase(PushPhase phase) {
    switch (phase) {
        case PushPhase::Uploading:
            return UpdatePhase::Transferring;
        case PushPhase::Verifying:
            return UpdatePhase::Verifying;
        case PushPhase::Writing:
            return UpdatePhase::Writing;
        case PushPhase::Rebooting:
            return UpdatePhase::Rebooting;
        case PushPhase::HealthCheck:
            return UpdatePhase::HealthCheck;
        case PushPhase::Committing:
            return UpdatePhase::Committing;
        case PushPhase::Done:
            return UpdatePhase::Done;
    }
    return UpdatePhase::Transferring;
}
}  // namespace

LanLink::LanLink(QString uri, QString target, otafleet::agentclient::TlsIdentity identity,
                 QObject* parent)
    : DeviceLink(std::move(uri),
                 {QStringLiteral("info"), QStringLiteral("update"), QStringLiteral("commit"),
                  QStringLiteral("rollback"), QStringLiteral("reboot")},
                 parent),
      m_target(std::move(target)),
      m_identity(std::move(identity)) {
    connect(&m_watcher, &QFutureWatcherBase::finished, this, &LanLink::onJobFinished);
}

LanLink::~LanLink() {
    if (m_watcher.isRunning()) {
        if (m_client)
            m_client->cancel();
        m_watcher.waitForFinished();
    }
}

DeviceSnapshot LanLink::toSnapshot(const AgentInfo& info) {
    DeviceSnapshot s;
    s.deviceId = info.deviceId;
    s.name = info.name;
    s.model = info.model;
    s.hardware = info.hardware;
    s.agentVersion = info.agentVersion;
    s.activeSlot = info.activeSlot;
    s.trial = info.trial;
    s.triesLeft = info.triesLeft;
    s.storedSecurityVersion = info.storedSecurityVersion;
    for (const auto& slot : info.slots) {
        s.slots.append(otafleet::link::SlotSnapshot{slot.name, slot.state, slot.version,
                                                    slot.securityVersion, slot.sha256, slot.size,
                                                    std::nullopt});
    }
    s.state = info.state;
    s.healthOk = info.healthOk;
    s.lastErrorCode = info.lastErrorCode;
    s.lastErrorMessage = info.lastErrorMessage;
    s.bootCount = info.bootCount;
    return s;
}

void LanLink::run(Job job) {
    auto client = AgentClient::create(m_target, m_identity);
    if (!client) {
        // Still asynchronous, so callers see the same order of events in every case.
        const otafleet::Error error = client.error();
        QMetaObject::invokeMethod(
            this, [this, error] { complete(otafleet::fail(error)); }, Qt::QueuedConnection);
        return;
    }
    m_client = std::shared_ptr<AgentClient>(std::move(*client));
    auto shared = m_client;
    m_watcher.setFuture(
        QtConcurrent::run([shared, job = std::move(job)]() -> Result<DeviceSnapshot> {
            auto info = job(*shared);
            if (!info)
                return otafleet::fail(info.error());
            return toSnapshot(*info);
        }));
}

void LanLink::onJobFinished() {
    const Result<DeviceSnapshot> result = m_watcher.result();
    m_client.reset();
    complete(result);
}

void LanLink::startRefresh() {
    const quint64 stored = telemetryStoredThrough();
    run([this, stored](AgentClient& client) {
        auto info = client.info();
        if (info)
            fetchTelemetry(client, stored);
        return info;
    });
}

// Best effort: a device whose agent has no telemetry (an older one) still refreshes. What the
// owner stored is acknowledged first, so nothing leaves the device before it is in the store.
void LanLink::fetchTelemetry(AgentClient& client, quint64 storedThrough) {
    if (storedThrough > 0) {
        if (auto acked = client.ackEvents(storedThrough); !acked)
            qCInfo(lcLan) << uri() << "kept its telemetry:" << acked.error().code;
    }
    auto batch = client.events(storedThrough, kTelemetryBatch);
    if (!batch) {
        qCInfo(lcLan) << uri() << "sent no telemetry:" << batch.error().code;
        return;
    }
    if (batch->events.isEmpty())
        return;
    QList<QJsonObject> events;
    for (const auto& event : std::as_const(batch->events))
        events.append(event.toJson());
    // Queued before the job's end, so the owner has the events before finished().
    QMetaObject::invokeMethod(
        this, [this, events] { Q_EMIT eventsReceived(events); }, Qt::QueuedConnection);
}

void LanLink::startUpdate(const QString& bundlePath, const otafleet::link::UpdateOptions& options) {
    otafleet::agentclient::PushOptions push;
    push.reboot = options.reboot;
    push.commit = options.commit;
    push.rebootTimeout = kRebootTimeout;
    // The link outlives the job (the destructor waits), so posting to `this` is safe; the
    // queued call runs in the link's thread.
    run([this, bundlePath, push](AgentClient& client) {
        return client.push(bundlePath, push, [this](PushPhase phase, qint64 done, qint64 total) {
            QMetaObject::invokeMethod(
                this,
                [this, phase, done, total] { reportProgress(toUpdatePhase(phase), done, total); },
                Qt::QueuedConnection);
        });
    });
}

void LanLink::startCommit() {
    run([](AgentClient& client) { return client.commit(); });
}

void LanLink::startRollback() {
    // Mark the other slot primary, then reboot into it and wait until the agent answers again,
    // so the snapshot we report is the one after the rollback took effect.
    run([](AgentClient& client) -> Result<AgentInfo> {
        auto marked = client.rollback(false);
        if (!marked)
            return otafleet::fail(marked.error());
        return client.rebootAndWait(kRebootTimeout);
    });
}

void LanLink::startReboot() {
    run([](AgentClient& client) { return client.rebootAndWait(kRebootTimeout); });
}

void LanLink::requestCancel() {
    if (m_client) {
        qCDebug(lcLan) << "cancelling" << uri();
        m_client->cancel();
    }
}
