// The station's traceability exports and the one import: CSV for spreadsheets, JSON for programs
// and for merging another station's records (`otafleetctl station import`). The JSON export is
//   {"format": "otafleet.station-records", "version": 1, "summary": {...}, "records": [{...}]}
// with the record keys of recordJson(). An import is outside data: parseRecordsJson bounds its
// size, record count and every field, and checks each record the way the station writes them.
#pragma once

#include "common/Error.h"
#include "station/UnitRecord.h"

#include <QByteArray>
#include <QJsonObject>

namespace otafleet::station {

inline constexpr auto kExportFormat = "otafleet.station-records";
inline constexpr int kExportVersion = 1;
inline constexpr qsizetype kMaxImportBytes = 32 * 1024 * 1024;
inline constexpr qsizetype kMaxImportRecords = 100'000;
inline constexpr qsizetype kMaxField = 256;    // serial numbers, ports, ids, codes, names
inline constexpr qsizetype kMaxReason = 2048;  // failure sentences

[[nodiscard]] QJsonObject recordJson(const UnitRecord& record);
[[nodiscard]] QJsonObject summaryJson(const StationSummary& summary);
// The whole JSON export (indented, UTF-8).
[[nodiscard]] QByteArray exportJson(const QList<UnitRecord>& records);
// RFC 4180 CSV with a header line; fields that start with = + - @ are prefixed with ' so a
// spreadsheet does not run them as formulas.
[[nodiscard]] QByteArray exportCsv(const QList<UnitRecord>& records);

// Errors: station.import-too-large, station.import-invalid (naming the record and the field).
[[nodiscard]] Result<QList<UnitRecord>> parseRecordsJson(QByteArrayView bytes);

// ISO 8601 UTC with milliseconds ("2026-12-03T08:01:02.345Z"), as records store times.
[[nodiscard]] QString timeText(const QDateTime& time);

}  // namespace otafleet::station
