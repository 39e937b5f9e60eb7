// The station's traceability database: one SQLite file (--db FILE, WAL mode) with one row per
// unit attempt. Schema (user_version 1), the contract for anyone who queries it directly:
//   CREATE TABLE station_units (
//     id TEXT PRIMARY KEY,            -- UUID of the attempt
//     serial_number TEXT NOT NULL, port TEXT NOT NULL,
//     image_hash TEXT NOT NULL, image_version TEXT NOT NULL,
//     cert_fingerprint TEXT NOT NULL, -- '' when no identity was provisioned
//     station_id TEXT NOT NULL, operator TEXT NOT NULL,
//     started_at TEXT NOT NULL, finished_at TEXT NOT NULL,  -- ISO 8601 UTC with milliseconds
//     result TEXT NOT NULL CHECK (result IN ('pass', 'fail')),
//     failed_stage TEXT NOT NULL, failure_code TEXT NOT NULL, failure_reason TEXT NOT NULL);
//   CREATE INDEX station_units_serial ON station_units (serial_number, started_at);
#pragma once

#include "common/Error.h"
#include "station/UnitRecord.h"

#include <QString>

namespace otafleet::station {

inline constexpr int kTraceSchemaVersion = 1;

class TraceStore {
public:
    // Opens or creates the file. Errors: station.db-failed (cannot open, or a newer schema).
    [[nodiscard]] static Result<TraceStore> open(const QString& path);
    ~TraceStore();
    TraceStore(TraceStore&& other) noexcept;
    TraceStore& operator=(TraceStore&&) = delete;
    TraceStore(const TraceStore&) = delete;
    TraceStore& operator=(const TraceStore&) = delete;

    // Error station.db-failed.
    [[nodiscard]] Status add(const UnitRecord& record);
    // Adds the records not yet present (by id) in one transaction; returns how many were new.
    [[nodiscard]] Result<int> merge(const QList<UnitRecord>& records);
    // All records, oldest first; with a station id, only that station's.
    [[nodiscard]] Result<QList<UnitRecord>> records(const QString& stationId = {}) const;

private:
    explicit TraceStore(QString connectionName);
    QString m_connection;
};

}  // namespace otafleet::station
