#include "rollout/PlanValues.h"

#include <QRegularExpression>

#include <cmath>

namespace otafleet::rollout {
namespace {

Error badValue(const char* code, const QString& option, QStringView text, const QString& hint) {
    return Error{
        QString::fromLatin1(code),
        QStringLiteral("%1 '%2' is not valid: %3.").arg(option, text.left(64).toString(), hint)};
}

bool tooLong(QStringView text) {
    return text.size() > plan_values::kMaxOptionLength;
}

}  // namespace

QString WaveSize::toString() const {
    return kind == Kind::Count ? QString::number(count) : plan_values::formatPercent(percent);
}

qint64 WaveSize::sizeFor(qint64 remaining) const {
    if (remaining <= 0) {
        return 0;
    }
    if (kind == Kind::Count) {
        return std::min(count, remaining);
    }
    // Hundredths of a percent are exact integers, so rounding up never depends on float noise.
    const auto hundredths = static_cast<qint64>(std::llround(percent * 100.0));
    const qint64 size = (remaining * hundredths + 9999) / 10000;
    return std::clamp<qint64>(size, 1, remaining);
}

namespace plan_values {

Result<Seconds> parseDuration(QStringView text, const QString& option) {
    const QString hint = QStringLiteral("write a duration such as 90s, 15m, 1h30m or 2d");
    if (tooLong(text)) {
        return fail(badValue("plan.duration", option, text, hint));
    }
    const QString trimmed = text.trimmed().toString();
    static const QRegularExpression whole(QStringLiteral("^(?:\\d{1,9}[dhms])+$|^\\d{1,9}$"));
    if (!whole.match(trimmed).hasMatch()) {
        return fail(badValue("plan.duration", option, text, hint));
    }
    static const QRegularExpression part(QStringLiteral("(\\d+)([dhms]?)"));
    qint64 total = 0;
    int lastRank = 5;
    auto it = part.globalMatch(trimmed);
    while (it.hasNext()) {
        const auto m = it.next();
        const qint64 n = m.captured(1).toLongLong();
        const QString unit = m.captured(2);
        const int rank = unit == u"d" ? 4 : unit == u"h" ? 3 : unit == u"m" ? 2 : 1;
        if (rank >= lastRank) {
            return fail(badValue("plan.duration", option, text,
                                 QStringLiteral("give each unit once, largest first (1h30m)")));
        }
        lastRank = rank;
        const qint64 scale = rank == 4 ? 86400 : rank == 3 ? 3600 : rank == 2 ? 60 : 1;
        total += n * scale;
        if (total > kMaxDuration.count()) {
            return fail(badValue("plan.duration", option, text,
                                 QStringLiteral("durations are at most 365 days")));
        }
    }
    return Seconds(total);
}

QString formatDuration(Seconds duration) {
    qint64 s = duration.count();
    if (s == 0) {
        return QStringLiteral("0s");
    }
    QString out;
    const std::pair<qint64, char16_t> units[] = {
        {86400, u'd'}, {3600, u'h'}, {60, u'm'}, {1, u's'}};
    for (const auto& [scale, unit] : units) {
        if (s >= scale) {
            out += QString::number(s / scale) + QChar(unit);
            s %= scale;
        }
    }
    return out;
}

Result<double> parsePercent(QStringView text, const QString& option) {
    const QString hint = QStringLiteral("write a percentage from 0 to 100 such as 95 or 12.5%");
    if (tooLong(text)) {
        return fail(badValue("plan.percent", option, text, hint));
    }
    static const QRegularExpression re(QStringLiteral("^(\\d{1,3})(?:\\.(\\d{1,2}))?%?$"));
    const auto m = re.match(text.trimmed());
    if (!m.hasMatch()) {
        return fail(badValue("plan.percent", option, text, hint));
    }
    const QString fraction = m.captured(2);
    const qint64 hundredths =
        m.captured(1).toLongLong() * 100 +
        (fraction.isEmpty() ? 0 : fraction.leftJustified(2, u'0').toLongLong());
    if (hundredths > 10000) {
        return fail(badValue("plan.percent", option, text, hint));
    }
    return static_cast<double>(hundredths) / 100.0;
}

QString formatPercent(double percent) {
    return QString::number(percent, 'f', 2).remove(QRegularExpression(QStringLiteral("\\.?0+$"))) +
           QLatin1Char('%');
}

Result<QList<WaveSize>> parseWaves(QStringView text) {
    const QString option = QStringLiteral("--waves");
    if (text.size() > kMaxOptionLength || text.trimmed().isEmpty()) {
        return fail(badValue("plan.waves", option, text,
                             QStringLiteral("list wave sizes as percentages or counts, such as "
                                            "1%,10%,50%,100% or 10,100,1000")));
    }
    const auto parts = text.split(u',');
    if (parts.size() > kMaxWaves) {
        return fail(badValue("plan.waves", option, text,
                             QStringLiteral("at most %1 waves").arg(kMaxWaves)));
    }
    QList<WaveSize> waves;
    for (const auto& raw : parts) {
        const QStringView part = raw.trimmed();
        WaveSize wave;
        if (part.endsWith(u'%')) {
            auto percent = parsePercent(part, option);
            if (!percent || *percent <= 0.0) {
                return fail(badValue("plan.waves", option, text,
                                     QStringLiteral("'%1' is not a percentage above 0 and up "
                                                    "to 100")
                                         .arg(part.left(16))));
            }
            wave.kind = WaveSize::Kind::Percent;
            wave.percent = *percent;
        } else {
            auto count = parseCount(part, option, 1, kMaxWaveCount);
            if (!count) {
                return fail(badValue("plan.waves", option, text,
                                     QStringLiteral("'%1' is neither a device count nor a "
                                                    "percentage such as 10%")
                                         .arg(part.left(16))));
            }
            wave.kind = WaveSize::Kind::Count;
            wave.count = *count;
        }
        waves.append(wave);
    }
    return waves;
}

Result<double> parseRate(QStringView text) {
    const QString option = QStringLiteral("--rate");
    static const QRegularExpression re(QStringLiteral("^(\\d{1,7})/(min|h|s)$"));
    const auto m = tooLong(text) ? QRegularExpressionMatch() : re.match(text.trimmed());
    if (!m.hasMatch()) {
        return fail(badValue("plan.rate", option, text,
                             QStringLiteral("write devices per minute such as 20/min")));
    }
    const double n = m.captured(1).toDouble();
    const QString unit = m.captured(2);
    const double perMinute = unit == u"s" ? n * 60.0 : unit == u"h" ? n / 60.0 : n;
    if (perMinute < 1.0 || perMinute > static_cast<double>(kMaxRatePerMinute)) {
        return fail(badValue(
            "plan.rate", option, text,
            QStringLiteral("the rate must be between 1/min and %1/min").arg(kMaxRatePerMinute)));
    }
    return perMinute;
}

Result<double> parseRamp(QStringView text) {
    static const QRegularExpression re(QStringLiteral("^(\\d{1,2})(?:\\.(\\d{1,2}))?x?$"));
    const auto m = tooLong(text) ? QRegularExpressionMatch() : re.match(text.trimmed());
    const QString hint = QStringLiteral("write a factor from 1 to 10 such as 2 or 1.5");
    if (!m.hasMatch()) {
        return fail(badValue("plan.ramp", QStringLiteral("--ramp"), text, hint));
    }
    const QString fraction = m.captured(2);
    const qint64 hundredths =
        m.captured(1).toLongLong() * 100 +
        (fraction.isEmpty() ? 0 : fraction.leftJustified(2, u'0').toLongLong());
    if (hundredths < 100 || hundredths > 1000) {
        return fail(badValue("plan.ramp", QStringLiteral("--ramp"), text, hint));
    }
    return static_cast<double>(hundredths) / 100.0;
}

Result<qint64> parseCount(QStringView text, const QString& option, qint64 min, qint64 max) {
    static const QRegularExpression re(QStringLiteral("^\\d{1,12}$"));
    const QStringView trimmed = text.trimmed();
    if (tooLong(text) || !re.match(trimmed).hasMatch() || trimmed.toLongLong() < min ||
        trimmed.toLongLong() > max) {
        return fail(
            badValue("plan.count", option, text,
                     QStringLiteral("write a whole number from %1 to %2").arg(min).arg(max)));
    }
    return trimmed.toLongLong();
}

}  // namespace plan_values
}  // namespace otafleet::rollout
