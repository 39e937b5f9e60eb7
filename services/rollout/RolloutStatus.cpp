#include "rollout/RolloutStatus.h"

#include <QJsonArray>
#include <QJsonDocument>

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

std::optional<WaveStatus::Phase> phaseFromName(QStringView name) {
    for (const auto phase : {WaveStatus::Phase::Waiting, WaveStatus::Phase::Running,
                             WaveStatus::Phase::Soaking, WaveStatus::Phase::Passed}) {
        if (name == phaseName(phase))
            return phase;
    }
    return std::nullopt;
}

constexpr qsizetype kMaxText = 4096;

std::unexpected<Error> bad(const QString& what) {
    return fail(QStringLiteral("rollout.status-json"),
                QStringLiteral("The rollout status from the server is not valid (%1); the server "
                               "may be of another version.")
                    .arg(what));
}

// A count: a whole number from 0 to 2^53.
std::optional<qint64> countOf(const QJsonValue& v) {
    if (!v.isDouble())
        return std::nullopt;
    const double d = v.toDouble();
    if (!(d >= 0) || d > 9007199254740992.0 || d != double(qint64(d)))
        return std::nullopt;
    return qint64(d);
}

std::optional<QString> textOf(const QJsonValue& v) {
    if (v.isUndefined() || v.isNull())
        return QString();
    if (!v.isString() || v.toString().size() > kMaxText)
        return std::nullopt;
    return v.toString();
}

std::optional<QDateTime> timeOf(const QJsonValue& v) {
    const auto text = textOf(v);
    if (!text)
        return std::nullopt;
    if (text->isEmpty())
        return QDateTime();
    QDateTime t = QDateTime::fromString(*text, Qt::ISODateWithMs);
    if (!t.isValid())
        return std::nullopt;
    return t.toUTC();
}

}  // namespace

Result<RolloutStatus> RolloutStatus::fromJsonBytes(QByteArrayView json) {
    if (json.size() > kMaxJsonSize)
        return bad(QStringLiteral("larger than %1 bytes").arg(kMaxJsonSize));
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(json.toByteArray(), &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return bad(QStringLiteral("not a JSON object"));
    const QJsonObject o = doc.object();
    RolloutStatus s;
    const auto state = rolloutStateFromName(o.value(QLatin1StringView("state")).toString());
    if (!state)
        return bad(QStringLiteral("unknown state"));
    s.state = *state;
    const auto wave = countOf(o.value(QLatin1StringView("current_wave")));
    const auto total = countOf(o.value(QLatin1StringView("total")));
    if (!wave || *wave > kMaxWaves || !total)
        return bad(QStringLiteral("current_wave or total"));
    s.currentWave = int(*wave);
    s.total = *total;
    const QJsonArray waves = o.value(QLatin1StringView("waves")).toArray();
    if (waves.size() > kMaxWaves)
        return bad(QStringLiteral("more than %1 waves").arg(kMaxWaves));
    for (const QJsonValue& v : waves) {
        const QJsonObject w = v.toObject();
        WaveStatus ws;
        const auto number = countOf(w.value(QLatin1StringView("number")));
        const auto phase = phaseFromName(w.value(QLatin1StringView("state")).toString());
        const auto planned = textOf(w.value(QLatin1StringView("planned")));
        const auto size = countOf(w.value(QLatin1StringView("size")));
        const auto succeeded = countOf(w.value(QLatin1StringView("succeeded")));
        const auto failed = countOf(w.value(QLatin1StringView("failed")));
        const auto skipped = countOf(w.value(QLatin1StringView("skipped")));
        const auto inProgress = countOf(w.value(QLatin1StringView("in_progress")));
        // Absent from an older otafleetd's status (whose in_progress counted these too).
        const QJsonValue pendingValue = w.value(QLatin1StringView("pending"));
        const auto pending =
            pendingValue.isUndefined() ? std::optional<qint64>(0) : countOf(pendingValue);
        const auto started = timeOf(w.value(QLatin1StringView("started_at")));
        const auto passed = timeOf(w.value(QLatin1StringView("passed_at")));
        if (!number || *number > kMaxWaves || !phase || !planned || !size || !succeeded ||
            !failed || !skipped || !inProgress || !pending || !started || !passed)
            return bad(QStringLiteral("wave %1").arg(s.waves.size() + 1));
        ws.number = int(*number);
        ws.phase = *phase;
        ws.planned = *planned;
        ws.size = *size;
        ws.succeeded = *succeeded;
        ws.failed = *failed;
        ws.skipped = *skipped;
        ws.inProgress = *inProgress;
        ws.pending = *pending;
        ws.startedAt = *started;
        ws.passedAt = *passed;
        s.waves.append(ws);
    }
    const QJsonObject counts = o.value(QLatin1StringView("counts")).toObject();
    for (const DeviceState d : kAllDeviceStates) {
        const QJsonValue v = counts.value(deviceStateName(d));
        if (v.isUndefined())
            continue;
        const auto n = countOf(v);
        if (!n)
            return bad(QStringLiteral("count of %1").arg(deviceStateName(d)));
        s.counts[static_cast<std::size_t>(d)] = *n;
    }
    const auto reason = textOf(o.value(QLatin1StringView("pause_reason")));
    const auto author = textOf(o.value(QLatin1StringView("author")));
    const auto approvedBy = textOf(o.value(QLatin1StringView("approved_by")));
    const auto soak = timeOf(o.value(QLatin1StringView("soak_until")));
    if (!reason || !author || !approvedBy || !soak)
        return bad(QStringLiteral("pause_reason, author, approved_by or soak_until"));
    s.pauseReason = *reason;
    s.author = *author;
    s.approvedBy = *approvedBy;
    s.soakUntil = *soak;
    return s;
}

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
        o[QLatin1StringView("pending")] = w.pending;
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
