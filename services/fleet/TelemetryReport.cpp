#include "fleet/TelemetryReport.h"

#include "common/SemVer.h"

#include <QHash>

#include <algorithm>
#include <cmath>
#include <map>

namespace otafleet::fleet {

using rollout::DeviceState;

QString progressGroupName(ProgressGroup group) {
    switch (group) {
        case ProgressGroup::Pending:
            return QStringLiteral("pending");
        case ProgressGroup::InProgress:
            return QStringLiteral("in_progress");
        case ProgressGroup::Succeeded:
            return QStringLiteral("succeeded");
        case ProgressGroup::Failed:
            return QStringLiteral("failed");
        case ProgressGroup::Skipped:
            return QStringLiteral("skipped");
    }
    return {};
}

ProgressGroup progressGroupOf(DeviceState state) {
    if (rollout::isInFlight(state))
        return ProgressGroup::InProgress;
    if (rollout::isFailure(state))
        return ProgressGroup::Failed;
    if (state == DeviceState::Succeeded)
        return ProgressGroup::Succeeded;
    if (state == DeviceState::Skipped)
        return ProgressGroup::Skipped;
    return ProgressGroup::Pending;
}

double WaveOutcome::successPercent() const {
    return size > 0 ? 100.0 * double(succeeded) / double(size) : 0.0;
}

double WaveOutcome::failurePercent() const {
    return executed() > 0 ? 100.0 * double(failed) / double(executed()) : 0.0;
}

QList<ProgressPoint> replayProgress(qint64 total, const QDateTime& start,
                                    const QList<DeviceStateChange>& changes, int maxPoints) {
    QList<ProgressPoint> points;
    ProgressPoint current;
    current.time = start;
    current.devices[static_cast<std::size_t>(ProgressGroup::Pending)] = total;
    points.append(current);
    QHash<qint64, ProgressGroup> groupOf;  // devices not in it are pending
    for (qsizetype i = 0; i < changes.size(); ++i) {
        const DeviceStateChange& c = changes.at(i);
        const ProgressGroup before = groupOf.value(c.deviceId, ProgressGroup::Pending);
        const ProgressGroup after = progressGroupOf(c.state);
        groupOf.insert(c.deviceId, after);
        --current.devices[static_cast<std::size_t>(before)];
        ++current.devices[static_cast<std::size_t>(after)];
        // One point per distinct time, after all of its changes.
        const bool lastAtThisTime = i + 1 == changes.size() || changes.at(i + 1).time != c.time;
        if (!lastAtThisTime)
            continue;
        current.time = std::max(c.time, start);
        // The first point stays: everyone pending at the start, even when the first offers
        // carry the start's own time.
        if (points.size() > 1 && points.last().time == current.time)
            points.last() = current;
        else
            points.append(current);
    }
    if (maxPoints >= 2 && points.size() > maxPoints) {
        QList<ProgressPoint> thinned;
        const double step = double(points.size() - 1) / double(maxPoints - 1);
        for (int k = 0; k < maxPoints - 1; ++k)
            thinned.append(points.at(qsizetype(std::floor(k * step))));
        thinned.append(points.last());
        points = thinned;
    }
    return points;
}

QList<ReasonCount> failureReasons(const QList<DeviceStateChange>& changes) {
    std::map<QString, qint64> counts;
    for (const DeviceStateChange& c : changes) {
        if (!rollout::isFailure(c.state))
            continue;
        QString code = c.reason.section(u':', 0, 0).trimmed();
        if (code.isEmpty())
            code = QStringLiteral("(no reason)");
        ++counts[code];
    }
    QList<ReasonCount> out;
    for (const auto& [code, count] : counts)
        out.append({code, count});
    std::stable_sort(out.begin(), out.end(),
                     [](const ReasonCount& a, const ReasonCount& b) { return a.count > b.count; });
    return out;
}

bool versionPrecedes(const QString& a, const QString& b) {
    const auto va = SemVer::parse(a);
    const auto vb = SemVer::parse(b);
    if (va && vb)
        return *va < *vb;
    if (va.has_value() != vb.has_value())
        return va.has_value();
    return a < b;
}

VersionAdoption versionAdoption(QList<VersionSighting> sightings, const QDateTime& until,
                                int maxDays) {
    VersionAdoption out;
    sightings.removeIf(
        [](const VersionSighting& s) { return s.version.isEmpty() || !s.time.isValid(); });
    if (sightings.isEmpty() || maxDays < 1)
        return out;
    std::stable_sort(
        sightings.begin(), sightings.end(),
        [](const VersionSighting& a, const VersionSighting& b) { return a.time < b.time; });
    const QDateTime end = std::max(until.toUTC(), sightings.last().time.toUTC());
    // Day ends: the UTC midnight after each day.
    QDateTime dayEnd(sightings.first().time.toUTC().date().addDays(1), QTime(0, 0), Qt::UTC);
    const QDateTime lastDayEnd(end.date().addDays(1), QTime(0, 0), Qt::UTC);
    if (dayEnd.daysTo(lastDayEnd) >= maxDays)
        dayEnd = lastDayEnd.addDays(-(maxDays - 1));

    QStringList versions;
    for (const VersionSighting& s : std::as_const(sightings))
        if (!versions.contains(s.version))
            versions.append(s.version);
    std::stable_sort(versions.begin(), versions.end(), versionPrecedes);
    QHash<QString, qsizetype> column;
    for (qsizetype i = 0; i < versions.size(); ++i) {
        column.insert(versions.at(i), i);
        out.series.append({versions.at(i), {}});
    }

    QHash<qint64, QString> running;
    QList<qint64> counts(versions.size(), 0);
    qsizetype next = 0;
    for (; dayEnd <= lastDayEnd; dayEnd = dayEnd.addDays(1)) {
        while (next < sightings.size() && sightings.at(next).time < dayEnd) {
            const VersionSighting& s = sightings.at(next++);
            const auto was = running.constFind(s.deviceId);
            if (was != running.cend())
                --counts[column.value(*was)];
            running.insert(s.deviceId, s.version);
            ++counts[column.value(s.version)];
        }
        out.days.append(dayEnd);
        for (qsizetype i = 0; i < versions.size(); ++i)
            out.series[i].devices.append(counts.at(i));
    }
    return out;
}

Histogram histogram(const QList<double>& values, int targetBins) {
    Histogram h;
    double largest = 0;
    QList<double> kept;
    for (double v : values) {
        if (!std::isfinite(v) || v < 0)
            continue;
        kept.append(v);
        largest = std::max(largest, v);
    }
    h.samples = kept.size();
    if (kept.isEmpty())
        return h;
    // A round width: 1, 2 or 5 times a power of ten, about largest / targetBins.
    const double raw = largest > 0 ? largest / std::max(1, targetBins) : 1.0;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double width = magnitude;
    for (double factor : {1.0, 2.0, 5.0, 10.0}) {
        width = factor * magnitude;
        if (width >= raw)
            break;
    }
    h.binWidth = width;
    // A value on a bin's edge belongs to the bin it starts, also when v / width comes out a hair
    // below the whole number (3 / 0.2 = 14.999...).
    const auto binOf = [width](double v) { return qsizetype(std::floor(v / width + 1e-9)); };
    const qsizetype bins = binOf(largest) + 1;
    h.counts = QList<qint64>(bins, 0);
    for (double v : std::as_const(kept))
        ++h.counts[std::min(bins - 1, binOf(v))];
    return h;
}

}  // namespace otafleet::fleet
