// One unit's passage through a factory station, as the traceability database keeps it and the
// CSV/JSON exports carry it: which unit (serial number), what it got (image hash and version,
// identity certificate fingerprint), where, by whom, when, and how it ended. One record per
// attempt: a unit that fails and is tried again has two, which is what first-pass yield counts.
#pragma once

#include <QDateTime>
#include <QList>
#include <QMap>
#include <QString>

#include <optional>

namespace otafleet::station {

inline constexpr auto kResultPass = "pass";
inline constexpr auto kResultFail = "fail";

struct UnitRecord {
    QString id;  // UUID of this attempt (stable across exports and imports: merges deduplicate)
    QString serialNumber;
    QString port;
    QString imageHash;        // hex SHA-256 of the MCUboot image (its hash TLV)
    QString imageVersion;     // "1.2.3" or "1.2.3+4"
    QString certFingerprint;  // hex SHA-256 of the issued identity certificate; empty: none
    QString stationId;
    QString operatorName;
    QDateTime startedAt;  // UTC, millisecond precision
    QDateTime finishedAt;
    QString result;         // "pass" or "fail"
    QString failedStage;    // fail only: "connect", "identify", "upload", ...
    QString failureCode;    // fail only: the stable error code
    QString failureReason;  // fail only: the sentence

    [[nodiscard]] bool passed() const { return result == QLatin1String(kResultPass); }
    bool operator==(const UnitRecord&) const = default;
};

struct StationSummary {
    int units = 0;  // records (attempts)
    int passed = 0;
    int failed = 0;
    int distinctUnits = 0;                 // serial numbers (a record without one counts alone)
    int passedFirstTime = 0;               // of those, the ones whose first attempt passed
    std::optional<double> firstPassYield;  // passedFirstTime / distinctUnits
    std::optional<double> unitsPerHour;    // records / hours from first start to last end
    std::optional<double> passedPerHour;
    double spanSeconds = 0;
    QMap<QString, int> failuresByCode;
};

[[nodiscard]] StationSummary summarize(const QList<UnitRecord>& records);

}  // namespace otafleet::station
