#include "rollout/MaintenanceWindow.h"

#include <QRegularExpression>
#include <QTimeZone>

#include <algorithm>

namespace otafleet::rollout {
namespace {

constexpr std::array<const char*, 7> kDayNames{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

Error badWindow(QStringView text, const QString& why) {
    return Error{QStringLiteral("plan.window"),
                 QStringLiteral("--window '%1' is not valid: %2; write it like "
                                "'Mon-Fri 02:00-05:00 Europe/Berlin'.")
                     .arg(text.left(64).toString(), why)};
}

int dayIndex(QStringView name) {
    for (int i = 0; i < 7; ++i) {
        if (name.compare(QLatin1StringView(kDayNames[static_cast<std::size_t>(i)]),
                         Qt::CaseInsensitive) == 0) {
            return i;
        }
    }
    return -1;
}

QTimeZone zoneFor(const QByteArray& id) {
    return id.isEmpty() ? QTimeZone::utc() : QTimeZone(id);
}

}  // namespace

Result<MaintenanceWindow> MaintenanceWindow::parse(QStringView text) {
    if (text.size() > kMaxLength) {
        return fail(
            badWindow(text, QStringLiteral("it is longer than %1 characters").arg(kMaxLength)));
    }
    const auto parts = text.trimmed().split(u' ', Qt::SkipEmptyParts);
    if (parts.size() < 2 || parts.size() > 3) {
        return fail(badWindow(text, QStringLiteral("give days, a time range and a time zone")));
    }
    MaintenanceWindow window;
    if (parts[0].compare(u"daily", Qt::CaseInsensitive) == 0) {
        window.m_days.fill(true);
    } else {
        for (const auto& item : parts[0].split(u',')) {
            const auto range = item.split(u'-');
            const int from = dayIndex(range.front());
            const int to = range.size() == 2 ? dayIndex(range.back()) : from;
            if (range.size() > 2 || from < 0 || to < 0) {
                return fail(badWindow(text, QStringLiteral("'%1' is not a day or day range "
                                                           "such as Mon-Fri")
                                                .arg(item.left(16))));
            }
            for (int d = from;; d = (d + 1) % 7) {
                window.m_days[static_cast<std::size_t>(d)] = true;
                if (d == to) {
                    break;
                }
            }
        }
    }
    static const QRegularExpression times(
        QStringLiteral("^([01]\\d|2[0-3]):([0-5]\\d)-([01]\\d|2[0-3]|24):([0-5]\\d)$"));
    const auto m = times.match(parts[1]);
    if (!m.hasMatch()) {
        return fail(badWindow(text, QStringLiteral("'%1' is not a time range such as "
                                                   "02:00-05:00")
                                        .arg(parts[1].left(16))));
    }
    window.m_start = QTime(m.captured(1).toInt(), m.captured(2).toInt());
    const int endHour = m.captured(3).toInt();
    if (endHour == 24 && m.captured(4).toInt() != 0) {
        return fail(badWindow(text, QStringLiteral("24:%1 is not a time").arg(m.captured(4))));
    }
    window.m_end = endHour == 24 ? QTime(0, 0) : QTime(endHour, m.captured(4).toInt());
    if (window.m_start == window.m_end) {
        return fail(badWindow(text, QStringLiteral("it opens and closes at the same time; "
                                                   "leave --window out to update at any time")));
    }
    if (parts.size() == 3) {
        window.m_zoneId = parts[2].toLatin1();
        if (parts[2].size() > 64 || !QTimeZone(window.m_zoneId).isValid()) {
            return fail(Error{QStringLiteral("plan.timezone"),
                              QStringLiteral("--window: '%1' is not a known IANA time zone; use "
                                             "a name such as Europe/Berlin or UTC.")
                                  .arg(parts[2].left(64))});
        }
        if (window.m_zoneId.compare("UTC", Qt::CaseInsensitive) == 0) {
            window.m_zoneId.clear();
        }
    }
    return window;
}

bool MaintenanceWindow::isOpen(const QDateTime& instant) const {
    const QDateTime local = instant.toTimeZone(zoneFor(m_zoneId));
    const QTime time = local.time();
    const int today = local.date().dayOfWeek() - 1;
    const int yesterday = (today + 6) % 7;
    if (!crossesMidnight()) {
        return m_days[static_cast<std::size_t>(today)] && time >= m_start && time < m_end;
    }
    return (m_days[static_cast<std::size_t>(today)] && time >= m_start) ||
           (m_days[static_cast<std::size_t>(yesterday)] && time < m_end);
}

QDateTime MaintenanceWindow::nextOpening(const QDateTime& after) const {
    const QTimeZone zone = zoneFor(m_zoneId);
    const QDate first = after.toTimeZone(zone).date();
    for (int offset = 0; offset <= 8; ++offset) {
        const QDate day = first.addDays(offset);
        if (!m_days[static_cast<std::size_t>(day.dayOfWeek() - 1)]) {
            continue;
        }
        const QDateTime opening(day, m_start, zone);
        if (opening > after) {
            return opening.toUTC();
        }
    }
    return {};
}

QString MaintenanceWindow::toString() const {
    QString days;
    if (std::all_of(m_days.begin(), m_days.end(), [](bool d) { return d; })) {
        days = QStringLiteral("daily");
    } else {
        QStringList runs;
        for (int d = 0; d < 7;) {
            if (!m_days[static_cast<std::size_t>(d)]) {
                ++d;
                continue;
            }
            int e = d;
            while (e + 1 < 7 && m_days[static_cast<std::size_t>(e + 1)]) {
                ++e;
            }
            const QString from = QLatin1StringView(kDayNames[static_cast<std::size_t>(d)]);
            const QString to = QLatin1StringView(kDayNames[static_cast<std::size_t>(e)]);
            runs << (e == d ? from : from + QLatin1Char('-') + to);
            d = e + 1;
        }
        days = runs.join(u',');
    }
    const QString end = m_end.toString(QStringLiteral("HH:mm"));  // 24:00 reads back as 00:00
    return QStringLiteral("%1 %2-%3 %4")
        .arg(days, m_start.toString(QStringLiteral("HH:mm")), end,
             m_zoneId.isEmpty() ? QStringLiteral("UTC") : QString::fromLatin1(m_zoneId));
}

}  // namespace otafleet::rollout
