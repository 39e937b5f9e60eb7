// Telemetry that agents dialling in to otafleetd sent over their sessions, one row per event keyed
// by (device, the agent's sequence number), flattened into the columns the fleet's charts group
// by: hour, model, hardware, version, event, error code, duration, bytes, throughput. Inserting is
// idempotent (an agent resends what it had not seen acknowledged). The aggregates are computed by
// the database, so a report over a large fleet moves only its buckets.
#pragma once

#include "common/Error.h"

#include <QDateTime>
#include <QList>
#include <QString>

namespace otafleet::store {

struct DeviceTelemetryRecord {
    QString deviceId;
    quint64 seq = 0;
    QDateTime time;  // when the device recorded it (UTC)
    QString model;
    QString hardware;
    QString version;  // the version the event is about (else the one the device ran)
    QString event;    // "install-done", "install-failed", "revert", "boot", "health", ...
    QString errorCode;
    quint64 durationMs = 0;
    quint64 bytes = 0;
    double throughput = 0;  // bytes per second
};

struct TelemetryQuery {
    QDateTime since;
    QDateTime until;
    QString model;  // empty: any
    QString version;
};

struct TelemetryBucketRow {
    QDateTime hour;
    QString model;
    QString hardware;
    QString version;
    QString event;
    qint64 count = 0;
    qint64 devices = 0;
    double avgDurationMs = 0;
    qint64 bytes = 0;
    double avgThroughput = 0;
};

struct ReasonRow {
    QString errorCode;
    qint64 count = 0;
    qint64 devices = 0;
};

// The newest event of each device that carried an error code of interest.
struct DeviceEventRow {
    QString deviceId;
    QString model;
    QString version;
    QString event;
    QString errorCode;
    QDateTime time;
};

class DeviceTelemetryRepository {
public:
    static constexpr int kMaxBatch = 1000;
    static constexpr int kMaxBuckets = 50000;
    static constexpr int kMaxReasons = 100;
    static constexpr int kMaxDeviceRows = 10000;

    explicit DeviceTelemetryRepository(QString connectionName);

    // In one transaction; (device, seq) pairs already stored are kept as they were. Error
    // store.invalid-input for a batch past kMaxBatch or a record without device or seq.
    [[nodiscard]] Status append(const QList<DeviceTelemetryRecord>& records);
    [[nodiscard]] Result<QList<TelemetryBucketRow>> hourly(const TelemetryQuery& query) const;
    // Error codes of failed installs, reverts and boots in the range, most frequent first.
    [[nodiscard]] Result<QList<ReasonRow>> failureReasons(const TelemetryQuery& query) const;
    // Failed updates (install-failed, revert) and finished ones (those plus install-done) in
    // [since, until).
    struct Outcomes {
        qint64 failed = 0;
        qint64 finished = 0;
    };
    [[nodiscard]] Result<Outcomes> outcomes(const QDateTime& since, const QDateTime& until) const;
    // Per device, its newest event whose error code is one of `codes` or starts with one of
    // `prefixes` (e.g. "crypto.signature-").
    [[nodiscard]] Result<QList<DeviceEventRow>> latestWithError(const QStringList& codes,
                                                                const QStringList& prefixes) const;
    [[nodiscard]] Result<qint64> count() const;
    // The newest events of the kinds `events` in the range (narrowed as the query says), newest
    // first, at most `limit` (<= kMaxSamples) of them: the raw values the charts' distributions
    // and adoption are computed from.
    static constexpr int kMaxSamples = 200000;
    [[nodiscard]] Result<QList<DeviceTelemetryRecord>> samples(const TelemetryQuery& query,
                                                               const QStringList& events,
                                                               int limit) const;

private:
    QString m_connectionName;
};

}  // namespace otafleet::store
