// JSON form of RolloutPlan: what the server stores and the fuzz target feeds. Every value is
// re-validated through the same parsers as the command line, so a stored plan can never hold
// what `rollout create` would have refused.
#include "rollout/RolloutPlan.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <cmath>

namespace otafleet::rollout {
namespace {

Error badJson(const QString& why) {
    return Error{QStringLiteral("plan.json"),
                 QStringLiteral("The stored rollout plan is not valid: %1; create the rollout "
                                "again.")
                     .arg(why)};
}

// Whole numbers only, in range; JSON numbers are doubles.
std::optional<qint64> wholeNumber(const QJsonValue& value, qint64 min, qint64 max) {
    if (!value.isDouble()) {
        return std::nullopt;
    }
    const double d = value.toDouble();
    if (!std::isfinite(d) || d != std::floor(d) || d < static_cast<double>(min) ||
        d > static_cast<double>(max)) {
        return std::nullopt;
    }
    return static_cast<qint64>(d);
}

}  // namespace

QJsonObject RolloutPlan::toJson() const {
    QJsonArray waveArray;
    for (const auto& wave : waves) {
        waveArray.append(wave.toString());
    }
    QJsonObject o;
    o[QLatin1StringView("format")] = kFormatVersion;
    o[QLatin1StringView("waves")] = waveArray;
    o[QLatin1StringView("success_threshold")] = successThreshold;
    o[QLatin1StringView("failure_threshold")] = failureThreshold;
    o[QLatin1StringView("min_executed")] = minExecuted;
    o[QLatin1StringView("soak_seconds")] = static_cast<qint64>(soak.count());
    o[QLatin1StringView("rate_per_minute")] = ratePerMinute;
    o[QLatin1StringView("ramp_factor")] = rampFactor;
    o[QLatin1StringView("device_timeout_seconds")] = static_cast<qint64>(deviceTimeout.count());
    o[QLatin1StringView("retries")] = retries;
    o[QLatin1StringView("window")] = window ? QJsonValue(window->toString()) : QJsonValue();
    o[QLatin1StringView("prechecks")] = prechecks.toString();
    o[QLatin1StringView("production")] = production;
    o[QLatin1StringView("emergency")] = emergency;
    o[QLatin1StringView("include_late_joiners")] = includeLateJoiners;
    return o;
}

QByteArray RolloutPlan::toJsonBytes() const {
    return QJsonDocument(toJson()).toJson(QJsonDocument::Compact);
}

Result<RolloutPlan> RolloutPlan::fromJsonBytes(QByteArrayView json) {
    if (json.size() > kMaxJsonSize) {
        return fail(badJson(QStringLiteral("it is larger than %1 bytes").arg(kMaxJsonSize)));
    }
    QJsonParseError error;
    const auto doc = QJsonDocument::fromJson(json.toByteArray(), &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject()) {
        return fail(badJson(QStringLiteral("it is not a JSON object")));
    }
    return fromJson(doc.object());
}

Result<RolloutPlan> RolloutPlan::fromJson(const QJsonObject& o) {
    auto get = [&o](const char* key) { return o.value(QLatin1StringView(key)); };
    if (wholeNumber(get("format"), kFormatVersion, kFormatVersion) != kFormatVersion) {
        return fail(badJson(QStringLiteral("format must be %1").arg(kFormatVersion)));
    }
    const QJsonArray waveArray = get("waves").toArray();
    if (waveArray.isEmpty() || waveArray.size() > plan_values::kMaxWaves) {
        return fail(
            badJson(QStringLiteral("waves must list 1 to %1 sizes").arg(plan_values::kMaxWaves)));
    }
    QStringList waveTexts;
    for (const auto& w : waveArray) {
        if (!w.isString()) {
            return fail(badJson(QStringLiteral("each wave is a string such as \"10%\"")));
        }
        waveTexts << w.toString();
    }
    PlanOptions options;
    options.waves = waveTexts.join(u',');
    auto percentText = [&](const char* key) -> std::optional<QString> {
        const QJsonValue v = get(key);
        if (!v.isDouble() || !std::isfinite(v.toDouble())) {
            return std::nullopt;
        }
        return plan_values::formatPercent(v.toDouble());
    };
    auto numberText = [&](const char* key, qint64 min, qint64 max) -> std::optional<QString> {
        const auto n = wholeNumber(get(key), min, max);
        return n ? std::optional<QString>(QString::number(*n)) : std::nullopt;
    };
    options.successThreshold = percentText("success_threshold");
    options.failureThreshold = percentText("failure_threshold");
    options.minExecuted = numberText("min_executed", 1, kMaxMinExecuted);
    const auto soak = numberText("soak_seconds", 0, plan_values::kMaxDuration.count());
    const auto timeout = numberText("device_timeout_seconds", 1, plan_values::kMaxDuration.count());
    options.retries = numberText("retries", 0, kMaxRetries);
    for (const auto& [value, key] :
         {std::pair{options.successThreshold, "success_threshold"},
          std::pair{options.failureThreshold, "failure_threshold"},
          std::pair{options.minExecuted, "min_executed"}, std::pair{soak, "soak_seconds"},
          std::pair{timeout, "device_timeout_seconds"}, std::pair{options.retries, "retries"}}) {
        if (!value) {
            return fail(badJson(
                QStringLiteral("%1 is missing or out of range").arg(QLatin1StringView(key))));
        }
    }
    options.soak = *soak + QLatin1Char('s');
    options.deviceTimeout = *timeout + QLatin1Char('s');
    const QJsonValue rate = get("rate_per_minute");
    const QJsonValue ramp = get("ramp_factor");
    if (!rate.isDouble() || !ramp.isDouble() || !std::isfinite(rate.toDouble()) ||
        rate.toDouble() < 0 || rate.toDouble() > plan_values::kMaxRatePerMinute) {
        return fail(badJson(QStringLiteral("rate_per_minute and ramp_factor must be numbers")));
    }
    const QJsonValue window = get("window");
    if (!window.isNull() && !window.isString()) {
        return fail(badJson(QStringLiteral("window must be a string or null")));
    }
    if (window.isString()) {
        options.window = window.toString();
    }
    if (!get("prechecks").isString()) {
        return fail(badJson(QStringLiteral("prechecks must be a string")));
    }
    options.precheck = get("prechecks").toString();
    for (const char* key : {"production", "emergency", "include_late_joiners"}) {
        if (!get(key).isBool()) {
            return fail(
                badJson(QStringLiteral("%1 must be true or false").arg(QLatin1StringView(key))));
        }
    }
    options.production = get("production").toBool();
    options.emergency = get("emergency").toBool();
    options.includeLateJoiners = get("include_late_joiners").toBool();
    auto plan = fromOptions(options);
    if (!plan) {
        return plan;
    }
    // A rate can be fractional per minute after /h conversion, so it is checked here rather than
    // re-parsed from text.
    const double r = rate.toDouble();
    const double f = ramp.toDouble();
    if ((r != 0.0 && r < 1.0) || !std::isfinite(f) || f < 1.0 || f > 10.0 ||
        (r == 0.0 && f != 1.0)) {
        return fail(
            badJson(QStringLiteral("rate_per_minute is 0 or at least 1 and ramp_factor "
                                   "between 1 and 10 (1 without a rate)")));
    }
    plan->ratePerMinute = r;
    plan->rampFactor = f;
    return plan;
}

}  // namespace otafleet::rollout
