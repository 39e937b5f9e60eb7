#include "station/UnitRecord.h"

#include <QHash>

#include <algorithm>

namespace otafleet::station {

StationSummary summarize(const QList<UnitRecord>& records) {
    StationSummary s;
    s.units = int(records.size());
    QList<const UnitRecord*> ordered;
    for (const UnitRecord& r : records) {
        ordered.append(&r);
        if (r.passed()) {
            ++s.passed;
        } else {
            ++s.failed;
            ++s.failuresByCode[r.failureCode];
        }
    }
    std::sort(ordered.begin(), ordered.end(), [](const UnitRecord* a, const UnitRecord* b) {
        return a->startedAt != b->startedAt ? a->startedAt < b->startedAt : a->id < b->id;
    });
    // First pass: the earliest attempt of each serial number decides.
    QHash<QString, bool> firstAttempt;
    for (const UnitRecord* r : ordered) {
        if (r->serialNumber.isEmpty()) {
            ++s.distinctUnits;
            s.passedFirstTime += r->passed() ? 1 : 0;
        } else if (!firstAttempt.contains(r->serialNumber)) {
            firstAttempt.insert(r->serialNumber, r->passed());
            ++s.distinctUnits;
            s.passedFirstTime += r->passed() ? 1 : 0;
        }
    }
    if (s.distinctUnits > 0) {
        s.firstPassYield = double(s.passedFirstTime) / double(s.distinctUnits);
    }
    if (!ordered.isEmpty()) {
        const QDateTime first = ordered.first()->startedAt;
        QDateTime last = first;
        for (const UnitRecord* r : ordered) {
            last = std::max(last, r->finishedAt);
        }
        s.spanSeconds = double(first.msecsTo(last)) / 1000.0;
        constexpr double kSecondsPerHour = 3600.0;
        if (s.spanSeconds > 0) {
            s.unitsPerHour = s.units * kSecondsPerHour / s.spanSeconds;
            s.passedPerHour = s.passed * kSecondsPerHour / s.spanSeconds;
        }
    }
    return s;
}

}  // namespace otafleet::station
