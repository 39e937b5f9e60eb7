// A recurring maintenance window in a time zone, from `rollout create --window`:
//   "Mon-Fri 02:00-05:00 Europe/Berlin", "Sat,Sun 22:00-04:00 UTC", "daily 01:00-03:00",
//   "Fri-Mon 23:30-00:30 America/New_York".
// Days: "daily" or a comma list of days (Mon..Sun, any case) and ranges (which may wrap, Fri-Mon).
// A window whose end is not after its start crosses midnight: it opens on the listed day and
// closes on the next. The zone is an IANA id resolved through QTimeZone; without one, UTC.
// Local times follow the zone's daylight-saving rules.
#pragma once

#include "common/Error.h"

#include <QDateTime>
#include <QString>
#include <QTime>

#include <array>

namespace otafleet::rollout {

class MaintenanceWindow {
public:
    static constexpr qsizetype kMaxLength = 128;

    // Codes: plan.window (form, days or times), plan.timezone (unknown zone).
    [[nodiscard]] static Result<MaintenanceWindow> parse(QStringView text);

    // Whether `instant` lies inside an occurrence of the window.
    [[nodiscard]] bool isOpen(const QDateTime& instant) const;
    // The next instant strictly after `after` at which an occurrence opens (within 8 days).
    [[nodiscard]] QDateTime nextOpening(const QDateTime& after) const;
    // Canonical text, parses back to the same window: "Mon-Fri 02:00-05:00 Europe/Berlin".
    [[nodiscard]] QString toString() const;

    [[nodiscard]] QTime start() const { return m_start; }
    [[nodiscard]] QTime end() const { return m_end; }
    [[nodiscard]] QByteArray zoneId() const { return m_zoneId; }
    [[nodiscard]] bool crossesMidnight() const { return m_end <= m_start; }

    friend bool operator==(const MaintenanceWindow& a, const MaintenanceWindow& b) {
        return a.toString() == b.toString();
    }

private:
    std::array<bool, 7> m_days{};  // index 0 = Monday, as QDate::dayOfWeek() - 1
    QTime m_start;
    QTime m_end;
    QByteArray m_zoneId;
};

}  // namespace otafleet::rollout
