// The history of every rollout device's state: one row each time the engine moved a device
// (offered, downloading, succeeded, failed with its reason, back to pending for a retry, ...),
// stamped with the engine's clock. The rollout row itself keeps only the present
// (RolloutRepository); this log is what the telemetry charts replay to show a rollout's progress
// over time and why its devices failed. Append-only; rows stay when a rollout finishes.
#pragma once

#include "common/Error.h"

#include <QDateTime>
#include <QList>
#include <QString>

namespace otafleet::store {

struct RolloutEventRecord {
    qint64 rolloutId = 0;
    qint64 deviceId = 0;
    QDateTime time;  // UTC
    QString state;   // the device's state after the change (rollout::deviceStateName)
    int wave = 0;    // 1-based; 0 while in no wave
    QString reason;  // "code: sentence" for failures, timeouts and skips; else ""

    friend bool operator==(const RolloutEventRecord&, const RolloutEventRecord&) = default;
};

class RolloutEventLog {
public:
    static constexpr qsizetype kMaxReasonLength = 512;
    static constexpr int kMaxBatch = 100000;
    // A 1,000,000-device rollout moves each device through a handful of states.
    static constexpr int kMaxListed = 10'000'000;

    explicit RolloutEventLog(QString connectionName);

    // In one transaction. Error store.invalid-input for a batch past kMaxBatch.
    [[nodiscard]] Status append(const QList<RolloutEventRecord>& records);
    // The rollout's history in the order it was recorded, at most `limit` rows (capped at
    // kMaxListed).
    [[nodiscard]] Result<QList<RolloutEventRecord>> forRollout(qint64 rolloutId,
                                                               int limit = kMaxListed) const;

private:
    QString m_connectionName;
};

}  // namespace otafleet::store
