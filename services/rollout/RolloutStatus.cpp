#include "rollout/RolloutStatus.h"

#include <QJsonArray>

namespace otafleet::rollout {
namespace {

QString phaseName(WaveStatus::Phase phase) {
    switch (phase) {
        case WaveStatus::Phase::Waiting:
            return QStringLiteral("waiting");
        case WaveStatus::Phase::Running:
            return QStringLiteral("running");
        case WaveStatus::Phase::Soaking:
            return QStringLiteral("soaking");
        case WaveStatus::Phase::Passed:
            return QStringLiteral("passed");
    }
    return {};
}

QString iso(const QDateTime& t) {
    return t.toUTC().toString(Qt::ISODateWithMs);
}

}  // namespace

QJsonObject RolloutStatus::toJson() const {
    QJsonArray waveArray;
    for (const auto& w : waves) {
        QJsonObject o;
        o[QLatin1StringView("number")] = w.number;
        o[QLatin1StringView("planned")] = w.planned;
        o[QLatin1StringView("state")] = phaseName(w.phase);
        o[QLatin1StringView("size")] = w.size;
        o[QLatin1StringView("succeeded")] = w.succeeded;
        o[QLatin1StringView("failed")] = w.failed;
        o[QLatin1StringView("skipped")] = w.skipped;
        o[QLatin1StringView("in_progress")] = w.inProgress;
        if (w.startedAt.isValid()) {
            o[QLatin1StringView("started_at")] = iso(w.startedAt);
        }
        if (w.passedAt.isValid()) {
            o[QLatin1StringView("passed_at")] = iso(w.passedAt);
        }
        waveArray.append(o);
    }
    QJsonObject countObject;
    for (const DeviceState s : kAllDeviceStates) {
        countObject[deviceStateName(s)] = count(s);
    }
    QJsonObject o;
    o[QLatin1StringView("state")] = rolloutStateName(state);
    o[QLatin1StringView("current_wave")] = currentWave;
    o[QLatin1StringView("waves")] = waveArray;
    o[QLatin1StringView("counts")] = countObject;
    o[QLatin1StringView("total")] = total;
    o[QLatin1StringView("pause_reason")] = pauseReason;
    o[QLatin1StringView("author")] = author;
    o[QLatin1StringView("approved_by")] = approvedBy;
    if (soakUntil.isValid()) {
        o[QLatin1StringView("soak_until")] = iso(soakUntil);
    }
    return o;
}

}  // namespace otafleet::rollout
