// RolloutEngine: its whole state as JSON (what the host persists) and the status snapshot.
// Restoring re-derives every counter from the devices, so a stored state can never carry
// counts that disagree with its devices.
#include "rollout/RolloutEngine.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>
#include <cmath>
#include <limits>

namespace otafleet::rollout {
namespace {

Error badState(const QString& why) {
    return Error{QStringLiteral("rollout.state"),
                 QStringLiteral("The stored rollout state is not valid: %1; restore it from a "
                                "backup or abort the rollout.")
                     .arg(why)};
}

QJsonValue ms(qint64 v) {
    return QJsonValue(static_cast<double>(v));
}

std::optional<qint64> wholeNumber(const QJsonValue& v, qint64 min, qint64 max) {
    if (!v.isDouble()) {
        return std::nullopt;
    }
    const double d = v.toDouble();
    if (!std::isfinite(d) || d != std::floor(d) || d < static_cast<double>(min) ||
        d > static_cast<double>(max)) {
        return std::nullopt;
    }
    return static_cast<qint64>(d);
}

constexpr qint64 kMaxTimeMs = 253402300799999;  // 9999-12-31
constexpr qint64 kMaxTimeUs = kMaxTimeMs * 1000 + 60'000'000;

}  // namespace

QJsonObject RolloutEngine::headerJson() const {
    QJsonArray waves;
    for (const Wave& w : m_waves) {
        waves.append(QJsonArray{ms(w.size), ms(w.startedAtMs), w.passed, ms(w.passedAtMs),
                                ms(w.baseFailed), ms(w.baseExecuted)});
    }
    QJsonObject o;
    o[QLatin1StringView("format")] = kFormatVersion;
    o[QLatin1StringView("plan")] = m_plan.toJson();
    o[QLatin1StringView("author")] = m_author;
    o[QLatin1StringView("approved_by")] = m_approver;
    o[QLatin1StringView("state")] = rolloutStateName(m_state);
    o[QLatin1StringView("pause_reason")] = m_pauseReason;
    o[QLatin1StringView("not_before_ms")] = ms(m_notBeforeMs);
    o[QLatin1StringView("soak_until_ms")] = ms(m_soakUntilMs);
    o[QLatin1StringView("next_offer_us")] = ms(m_nextOfferUs);
    o[QLatin1StringView("current_rate")] = m_currentRate;
    o[QLatin1StringView("successes_since_ramp")] = ms(m_successesSinceRamp);
    o[QLatin1StringView("waves")] = waves;  // [size, started_at_ms, passed, passed_at_ms,
                                            //  base_failed, base_executed]
    o[QLatin1StringView("device_count")] = ms(static_cast<qint64>(m_devices.size()));
    o[QLatin1StringView("queue_seq")] = ms(m_queueSeq);
    return o;
}

QJsonObject RolloutEngine::toJson() const {
    QJsonArray devices;
    for (const DeviceProgress& d : m_devices) {
        devices.append(QJsonArray{d.id, deviceStateName(d.state), d.wave, d.attempts,
                                  ms(d.offeredAtMs), d.reason});
    }
    QJsonArray queue;
    for (const std::size_t position : m_queue) {
        queue.append(static_cast<double>(position));
    }
    QJsonObject o = headerJson();
    o.remove(QLatin1StringView("device_count"));
    o.remove(QLatin1StringView("queue_seq"));
    o[QLatin1StringView("devices")] =
        devices;                            // [id, state, wave, attempts, offered_at_ms, reason]
    o[QLatin1StringView("queue")] = queue;  // positions in devices, offer order
    return o;
}

Result<RolloutEngine> RolloutEngine::fromParts(const QJsonObject& header,
                                               std::vector<DeviceProgress> devices,
                                               const Clock& clock) {
    if (header.contains(QLatin1StringView("devices")) ||
        wholeNumber(header.value(QLatin1StringView("device_count")), 0, kMaxDevices) !=
            static_cast<qint64>(devices.size())) {
        return fail(badState(QStringLiteral("%1 device rows stored, the header expects %2")
                                 .arg(devices.size())
                                 .arg(header.value(QLatin1StringView("device_count")).toDouble())));
    }
    const auto lastSeq = wholeNumber(header.value(QLatin1StringView("queue_seq")), 0,
                                     std::numeric_limits<qint64>::max() / 2);
    if (!lastSeq) {
        return fail(badState(QStringLiteral("queue_seq is missing or out of range")));
    }
    // The offer queue: the queued (pending, in a started wave) devices in the order they were
    // queued; fromJson() checks that it holds exactly those.
    std::vector<std::size_t> queued;
    QJsonArray array;
    for (std::size_t p = 0; p < devices.size(); ++p) {
        const DeviceProgress& d = devices[p];
        array.append(QJsonArray{d.id, deviceStateName(d.state), d.wave, d.attempts,
                                ms(d.offeredAtMs), d.reason});
        if (d.state == DeviceState::Pending && d.wave >= 0) {
            if (d.queueSeq < 1 || d.queueSeq > *lastSeq) {
                return fail(badState(
                    QStringLiteral("queued device %1 has no valid place").arg(d.id.left(64))));
            }
            queued.push_back(p);
        }
    }
    std::stable_sort(queued.begin(), queued.end(), [&devices](std::size_t a, std::size_t b) {
        return devices[a].queueSeq < devices[b].queueSeq;
    });
    QJsonArray queue;
    for (const std::size_t p : queued) {
        queue.append(static_cast<double>(p));
    }
    QJsonObject full = header;
    full.remove(QLatin1StringView("device_count"));
    full.remove(QLatin1StringView("queue_seq"));
    full[QLatin1StringView("devices")] = array;
    full[QLatin1StringView("queue")] = queue;
    auto engine = fromJson(full, clock);
    if (!engine) {
        return fail(engine.error());
    }
    for (const std::size_t p : queued) {
        engine->m_devices[p].queueSeq = devices[p].queueSeq;
    }
    engine->m_queueSeq = *lastSeq;
    return engine;
}

QByteArray RolloutEngine::toJsonBytes() const {
    return QJsonDocument(toJson()).toJson(QJsonDocument::Compact);
}

Result<RolloutEngine> RolloutEngine::fromJsonBytes(QByteArrayView json, const Clock& clock) {
    // A device entry is under 1 KiB even with the longest id and reason.
    constexpr qsizetype kMaxBytes = kMaxDevices * 1024;
    if (json.size() > kMaxBytes) {
        return fail(badState(QStringLiteral("it is larger than %1 bytes").arg(kMaxBytes)));
    }
    QJsonParseError error;
    const auto doc = QJsonDocument::fromJson(json.toByteArray(), &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject()) {
        return fail(badState(QStringLiteral("it is not a JSON object")));
    }
    return fromJson(doc.object(), clock);
}

Result<RolloutEngine> RolloutEngine::fromJson(const QJsonObject& o, const Clock& clock) {
    auto get = [&o](const char* key) { return o.value(QLatin1StringView(key)); };
    if (wholeNumber(get("format"), kFormatVersion, kFormatVersion) != kFormatVersion) {
        return fail(badState(QStringLiteral("format must be %1").arg(kFormatVersion)));
    }
    auto plan = RolloutPlan::fromJson(get("plan").toObject());
    if (!plan) {
        return fail(plan.error());
    }
    const QString author = get("author").toString();
    const auto state = rolloutStateFromName(get("state").toString());
    if (author.isEmpty() || author.size() > kMaxUserLength || !state ||
        get("approved_by").toString().size() > kMaxUserLength ||
        get("pause_reason").toString().size() > 4 * kMaxReasonLength) {
        return fail(badState(QStringLiteral("author, approved_by, state or pause_reason")));
    }
    RolloutEngine engine(std::move(*plan), author, clock);
    engine.m_approver = get("approved_by").toString();
    engine.m_state = *state;
    engine.m_pauseReason = get("pause_reason").toString();
    const auto notBefore = wholeNumber(get("not_before_ms"), 0, kMaxTimeMs);
    const auto soakUntil = wholeNumber(get("soak_until_ms"), 0, kMaxTimeMs);
    const auto nextOffer = wholeNumber(get("next_offer_us"), 0, kMaxTimeUs);
    const auto successes = wholeNumber(get("successes_since_ramp"), 0, kMaxDevices);
    const QJsonValue rate = get("current_rate");
    if (!notBefore || !soakUntil || !nextOffer || !successes || !rate.isDouble() ||
        !std::isfinite(rate.toDouble()) || (rate.toDouble() != 0.0 && rate.toDouble() < 1.0) ||
        rate.toDouble() < 0 || rate.toDouble() > 1e6 ||
        (engine.m_plan.ratePerMinute == 0.0) != (rate.toDouble() == 0.0)) {
        return fail(badState(QStringLiteral("timers or rate out of range")));
    }
    engine.m_notBeforeMs = *notBefore;
    engine.m_soakUntilMs = *soakUntil;
    engine.m_nextOfferUs = *nextOffer;
    engine.m_successesSinceRamp = *successes;
    engine.m_currentRate = rate.toDouble();

    const QJsonArray waves = get("waves").toArray();
    if (waves.size() > engine.m_plan.waves.size()) {
        return fail(badState(QStringLiteral("more waves started than planned")));
    }
    for (const auto& value : waves) {
        const QJsonArray w = value.toArray();
        Wave wave;
        const auto size = wholeNumber(w.at(0), 0, kMaxDevices);
        const auto started = wholeNumber(w.at(1), 0, kMaxTimeMs);
        const auto passedAt = wholeNumber(w.at(3), 0, kMaxTimeMs);
        const auto baseFailed = wholeNumber(w.at(4), 0, kMaxDevices);
        const auto baseExecuted = wholeNumber(w.at(5), 0, kMaxDevices);
        if (w.size() != 6 || !size || !started || !w.at(2).isBool() || !passedAt || !baseFailed ||
            !baseExecuted || *baseFailed > *baseExecuted) {
            return fail(badState(QStringLiteral("a wave entry is malformed")));
        }
        wave.size = *size;
        wave.startedAtMs = *started;
        wave.passed = w.at(2).toBool();
        wave.passedAtMs = *passedAt;
        wave.baseFailed = *baseFailed;
        wave.baseExecuted = *baseExecuted;
        engine.m_waves.push_back(wave);
    }

    const QJsonArray devices = get("devices").toArray();
    if (devices.size() > kMaxDevices) {
        return fail(badState(QStringLiteral("more than %1 devices").arg(kMaxDevices)));
    }
    engine.m_devices.reserve(static_cast<std::size_t>(devices.size()));
    for (const auto& value : devices) {
        const QJsonArray d = value.toArray();
        const QString id = d.at(0).toString();
        const auto deviceState = deviceStateFromName(d.at(1).toString());
        const auto wave = wholeNumber(d.at(2), -1, static_cast<qint64>(waves.size()) - 1);
        const auto attempts = wholeNumber(d.at(3), 0, RolloutPlan::kMaxRetries + 1);
        const auto offeredAt = wholeNumber(d.at(4), 0, kMaxTimeMs);
        if (d.size() != 6 || id.isEmpty() || id.size() > kMaxIdLength || !deviceState || !wave ||
            !attempts || !offeredAt || !d.at(5).isString() ||
            d.at(5).toString().size() > kMaxReasonLength || engine.m_index.contains(id) ||
            (*wave < 0 && *deviceState != DeviceState::Pending)) {
            return fail(badState(QStringLiteral("device entry %1 is malformed or repeated")
                                     .arg(engine.m_devices.size())));
        }
        engine.m_index.insert(id, engine.m_devices.size());
        engine.m_devices.push_back(DeviceProgress{id, *deviceState, static_cast<int>(*wave),
                                                  static_cast<int>(*attempts), *offeredAt,
                                                  d.at(5).toString()});
    }

    // The queue must hold exactly the pending devices of started waves, each once.
    std::vector<bool> queued(engine.m_devices.size(), false);
    for (const auto& value : get("queue").toArray()) {
        const auto position =
            wholeNumber(value, 0, static_cast<qint64>(engine.m_devices.size()) - 1);
        if (!position) {
            return fail(badState(QStringLiteral("the offer queue names an unknown device")));
        }
        const auto p = static_cast<std::size_t>(*position);
        const DeviceProgress& d = engine.m_devices[p];
        if (queued[p] || d.state != DeviceState::Pending || d.wave < 0) {
            return fail(badState(
                QStringLiteral("the offer queue holds device %1 wrongly").arg(d.id.left(64))));
        }
        queued[p] = true;
        engine.m_queue.push_back(p);
        engine.m_devices[p].queueSeq = ++engine.m_queueSeq;
    }
    for (std::size_t p = 0; p < engine.m_devices.size(); ++p) {
        const DeviceProgress& d = engine.m_devices[p];
        if (d.state == DeviceState::Pending && d.wave >= 0 && !queued[p]) {
            return fail(badState(
                QStringLiteral("pending device %1 is not in the offer queue").arg(d.id.left(64))));
        }
    }
    if (!engine.rebuildDerived()) {
        return fail(badState(QStringLiteral("wave sizes do not match the devices in them")));
    }
    return engine;
}

bool RolloutEngine::rebuildDerived() {
    m_counts.fill(0);
    m_unassigned = 0;
    std::vector<qint64> members(m_waves.size(), 0);
    for (Wave& wave : m_waves) {
        wave.succeeded = wave.failed = wave.skipped = wave.pending = 0;
    }
    for (const DeviceProgress& d : m_devices) {
        ++m_counts[static_cast<std::size_t>(d.state)];
        if (d.wave < 0) {
            ++m_unassigned;
            continue;
        }
        ++members[static_cast<std::size_t>(d.wave)];
        Wave& wave = m_waves[static_cast<std::size_t>(d.wave)];
        if (d.state == DeviceState::Succeeded) {
            ++wave.succeeded;
        } else if (isFailure(d.state)) {
            ++wave.failed;
        } else if (d.state == DeviceState::Skipped) {
            ++wave.skipped;
        } else if (d.state == DeviceState::Pending) {
            ++wave.pending;
        }
    }
    for (std::size_t i = 0; i < m_waves.size(); ++i) {
        if (members[i] != m_waves[i].size) {
            return false;
        }
    }
    return true;
}

RolloutStatus RolloutEngine::status() const {
    RolloutStatus s;
    s.state = m_state;
    s.currentWave = static_cast<int>(m_waves.size());
    s.counts = m_counts;
    s.total = static_cast<qint64>(m_devices.size());
    s.pauseReason = m_pauseReason;
    s.author = m_author;
    s.approvedBy = m_approver;
    const qint64 now = nowMs();
    for (qsizetype i = 0; i < m_plan.waves.size(); ++i) {
        WaveStatus w;
        w.number = static_cast<int>(i) + 1;
        w.planned = m_plan.waves[i].toString();
        if (static_cast<std::size_t>(i) < m_waves.size()) {
            const Wave& wave = m_waves[static_cast<std::size_t>(i)];
            const bool last = static_cast<std::size_t>(i) + 1 == m_waves.size();
            w.size = wave.size;
            w.succeeded = wave.succeeded;
            w.failed = wave.failed;
            w.skipped = wave.skipped;
            w.pending = wave.pending;
            w.inProgress = wave.size - wave.succeeded - wave.failed - wave.skipped - wave.pending;
            w.startedAt = QDateTime::fromMSecsSinceEpoch(wave.startedAtMs, Qt::UTC);
            if (!wave.passed) {
                w.phase = WaveStatus::Phase::Running;
            } else {
                w.passedAt = QDateTime::fromMSecsSinceEpoch(wave.passedAtMs, Qt::UTC);
                const bool soaking = last && now < m_soakUntilMs;
                w.phase = soaking ? WaveStatus::Phase::Soaking : WaveStatus::Phase::Passed;
                if (soaking) {
                    s.soakUntil = QDateTime::fromMSecsSinceEpoch(m_soakUntilMs, Qt::UTC);
                }
            }
        }
        s.waves.append(w);
    }
    return s;
}

}  // namespace otafleet::rollout
