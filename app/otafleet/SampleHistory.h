// The history behind `otafleet --sample-fleet`: what the sample devices' agents would have
// reported over the last month (boots with the version they ran, downloads with their
// throughput, installs with their duration, failures with their error code) and every move of
// every device in the sample rollouts, written to the store the way the embedded fleet writes
// them (store::TelemetryRepository with agent event JSON, store::RolloutEventLog). The telemetry
// charts replay this history like any other; nothing on a chart is made up elsewhere.
#pragma once

#include "common/Error.h"
#include "rollout/RolloutTypes.h"

#include <QDateTime>
#include <QHash>
#include <QList>
#include <QRandomGenerator>
#include <QString>

namespace otafleet::store {
class FleetStore;
}

namespace otafleet::app {

// One offer of a sample rollout and how it ended.
struct SampleAttempt {
    qint64 deviceId = 0;
    QDateTime offered;
    int wave = 0;                                                    // 1-based
    rollout::DeviceState outcome = rollout::DeviceState::Succeeded;  // what the device reported
    rollout::DeviceState after = rollout::DeviceState::Succeeded;    // where the engine put it
    QString reason;
};

struct SampleDeviceHistory {
    QString model;
    QString firstVersion;  // ran it a month ago
    QString version;       // runs it now
};

class SampleHistory {
public:
    SampleHistory(const QDateTime& now, QRandomGenerator& random) : m_now(now), m_random(random) {}

    // The rollout's attempts, as `rolloutId` installing `version`, become its history and the
    // devices' update telemetry. Call for every rollout before write().
    void addRollout(qint64 rolloutId, const QString& version, const QList<SampleAttempt>& attempts);
    // Writes each device's telemetry: a boot a month ago, the rollouts' updates, and a manual
    // update to the version it runs now where no rollout explains it. Errors: store.*.
    [[nodiscard]] Status write(store::FleetStore& store,
                               const QHash<qint64, SampleDeviceHistory>& devices);

private:
    struct Update {
        QDateTime offered;
        QString version;
        rollout::DeviceState outcome = rollout::DeviceState::Succeeded;
        QString errorCode;
    };

    QDateTime m_now;
    QRandomGenerator& m_random;
    QHash<qint64, QList<Update>> m_updates;
    QList<std::pair<qint64, QList<SampleAttempt>>> m_rollouts;
};

}  // namespace otafleet::app
