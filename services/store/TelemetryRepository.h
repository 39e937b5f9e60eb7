// Telemetry the fleet collected from its devices' agents (update phases, boots, health checks,
// metrics), one row per device event keyed by (device, the agent's sequence number). Inserting
// is idempotent, so an event delivered twice (fetched, stored, then the acknowledgement lost) is
// kept once; the highest stored sequence number is what the fleet acknowledges next time.
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>

namespace otafleet::store {

struct TelemetryRecord {
    qint64 deviceId = 0;
    quint64 seq = 0;
    QDateTime time;   // when the device recorded it (UTC)
    QString type;     // "boot", "health", "metrics", "dropped", or the phase: "install-done"
    QByteArray json;  // the whole event as `otafleetctl device events --json` prints it
};

class TelemetryRepository {
public:
    static constexpr qsizetype kMaxJsonBytes = 16 * 1024;
    static constexpr int kMaxListed = 10000;

    explicit TelemetryRepository(QString connectionName);

    // All in one transaction; rows already stored are left as they are. Error
    // store.invalid-input for an oversized event.
    [[nodiscard]] Status append(const QList<TelemetryRecord>& records);
    // 0 when nothing is stored for the device.
    [[nodiscard]] Result<quint64> lastSeq(qint64 deviceId) const;
    // Oldest first, at most `limit` (capped at kMaxListed), optionally of one type only.
    [[nodiscard]] Result<QList<TelemetryRecord>> forDevice(qint64 deviceId,
                                                           const QString& type = {},
                                                           int limit = 1000) const;
    // Every device's events of the given types (e.g. "upload-completed", "install-done",
    // "boot"), oldest first, at most `limit` (capped at kMaxAcrossDevices): what the telemetry
    // charts read.
    static constexpr int kMaxAcrossDevices = 5'000'000;
    [[nodiscard]] Result<QList<TelemetryRecord>> ofTypes(const QStringList& types,
                                                         int limit = kMaxAcrossDevices) const;

private:
    QString m_connectionName;
};

}  // namespace otafleet::store
