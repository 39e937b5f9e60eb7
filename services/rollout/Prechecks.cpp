#include "rollout/Prechecks.h"

#include <QRegularExpression>
#include <QStringList>

namespace otafleet::rollout {
namespace {

Error badCheck(QStringView item) {
    return Error{QStringLiteral("plan.precheck"),
                 QStringLiteral("--precheck item '%1' is not valid; use battery>=N, free>=Nx, "
                                "free>=SIZE (K, M, G), health or link>=N, separated by commas.")
                     .arg(item.left(32).toString())};
}

}  // namespace

Result<Prechecks> Prechecks::parse(QStringView text) {
    Prechecks checks;
    if (text.size() > kMaxLength) {
        return fail(badCheck(text));
    }
    if (text.trimmed().isEmpty()) {
        return checks;
    }
    static const QRegularExpression percent(QStringLiteral("^(battery|link)>=(\\d{1,3})%?$"));
    static const QRegularExpression factor(QStringLiteral("^free>=(\\d{1,2})(?:\\.(\\d))?x$"));
    static const QRegularExpression bytes(QStringLiteral("^free>=(\\d{1,16})([KMG])?(?:i?B)?$"));
    for (const auto& raw : text.split(u',')) {
        const QString item = raw.trimmed().toString().toLower().remove(u' ');
        if (item == u"health") {
            checks.health = true;
        } else if (auto m = percent.match(item); m.hasMatch()) {
            const int value = m.captured(2).toInt();
            if (value > 100) {
                return fail(badCheck(raw));
            }
            (m.captured(1) == u"battery" ? checks.minBatteryPercent : checks.minLinkPercent) =
                value;
        } else if (auto f = factor.match(item); f.hasMatch()) {
            const double value = f.captured(1).toInt() +
                                 (f.captured(2).isEmpty() ? 0.0 : f.captured(2).toInt() / 10.0);
            if (value <= 0.0) {
                return fail(badCheck(raw));
            }
            checks.minFreeFactor = value;
        } else if (auto b = bytes.match(
                       item.toUpper().replace(QStringLiteral("FREE>="), QStringLiteral("free>=")));
                   b.hasMatch()) {
            const QString unit = b.captured(2);
            const int shift = unit == u"K" ? 10 : unit == u"M" ? 20 : unit == u"G" ? 30 : 0;
            const qint64 value = b.captured(1).toLongLong();
            if (value > (kMaxFreeBytes >> shift)) {
                return fail(badCheck(raw));
            }
            checks.minFreeBytes = value << shift;
        } else {
            return fail(badCheck(raw));
        }
    }
    return checks;
}

QString Prechecks::toString() const {
    QStringList items;
    if (minBatteryPercent) {
        items << QStringLiteral("battery>=%1").arg(*minBatteryPercent);
    }
    if (minFreeFactor) {
        items << QStringLiteral("free>=%1x").arg(*minFreeFactor);
    }
    if (minFreeBytes) {
        // The largest unit that divides exactly, so that what parse() read reads back the same.
        qint64 value = *minFreeBytes;
        const char* unit = "";
        for (const char* next : {"K", "M", "G"}) {
            if (value == 0 || value % 1024 != 0) {
                break;
            }
            value /= 1024;
            unit = next;
        }
        items << QStringLiteral("free>=%1%2").arg(value).arg(QLatin1String(unit));
    }
    if (health) {
        items << QStringLiteral("health");
    }
    if (minLinkPercent) {
        items << QStringLiteral("link>=%1").arg(*minLinkPercent);
    }
    return items.join(u',');
}

}  // namespace otafleet::rollout
