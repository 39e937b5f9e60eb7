#include "rollout/RolloutPlan.h"

#include <QStringList>

namespace otafleet::rollout {

using namespace plan_values;

Result<RolloutPlan> RolloutPlan::fromOptions(const PlanOptions& options) {
    RolloutPlan plan;
    auto waves = parseWaves(options.waves);
    if (!waves) {
        return fail(waves.error());
    }
    plan.waves = *waves;
    if (options.successThreshold) {
        auto v = parsePercent(*options.successThreshold, QStringLiteral("--success-threshold"));
        if (!v) {
            return fail(v.error());
        }
        plan.successThreshold = *v;
    }
    if (options.failureThreshold) {
        auto v = parsePercent(*options.failureThreshold, QStringLiteral("--failure-threshold"));
        if (!v) {
            return fail(v.error());
        }
        plan.failureThreshold = *v;
    }
    if (options.minExecuted) {
        auto v =
            parseCount(*options.minExecuted, QStringLiteral("--min-executed"), 1, kMaxMinExecuted);
        if (!v) {
            return fail(v.error());
        }
        plan.minExecuted = *v;
    }
    if (options.soak) {
        auto v = parseDuration(*options.soak, QStringLiteral("--soak"));
        if (!v) {
            return fail(v.error());
        }
        plan.soak = *v;
    }
    if (options.rate) {
        auto v = parseRate(*options.rate);
        if (!v) {
            return fail(v.error());
        }
        plan.ratePerMinute = *v;
    }
    if (options.ramp) {
        if (!options.rate) {
            return fail(QStringLiteral("plan.conflict"),
                        QStringLiteral("--ramp grows the --rate limit; give --rate too."));
        }
        auto v = parseRamp(*options.ramp);
        if (!v) {
            return fail(v.error());
        }
        plan.rampFactor = *v;
    }
    if (options.deviceTimeout) {
        auto v = parseDuration(*options.deviceTimeout, QStringLiteral("--device-timeout"));
        if (!v) {
            return fail(v.error());
        }
        if (v->count() < 1) {
            return fail(QStringLiteral("plan.duration"),
                        QStringLiteral("--device-timeout must be at least 1s."));
        }
        plan.deviceTimeout = *v;
    }
    if (options.retries) {
        auto v = parseCount(*options.retries, QStringLiteral("--retries"), 0, kMaxRetries);
        if (!v) {
            return fail(v.error());
        }
        plan.retries = static_cast<int>(*v);
    }
    if (options.window) {
        auto v = MaintenanceWindow::parse(*options.window);
        if (!v) {
            return fail(v.error());
        }
        plan.window = *v;
    }
    if (options.precheck) {
        auto v = Prechecks::parse(*options.precheck);
        if (!v) {
            return fail(v.error());
        }
        plan.prechecks = *v;
    }
    if (options.emergency && options.soak && plan.soak.count() > 0) {
        return fail(QStringLiteral("plan.conflict"),
                    QStringLiteral("An --emergency rollout skips soak times; leave --soak out."));
    }
    plan.production = options.production;
    plan.emergency = options.emergency;
    plan.includeLateJoiners = options.includeLateJoiners;
    return plan;
}

QString RolloutPlan::describe() const {
    QStringList sizes;
    bool anyPercent = false;
    for (const auto& wave : waves) {
        sizes << wave.toString();
        anyPercent = anyPercent || wave.kind == WaveSize::Kind::Percent;
    }
    QString kind = emergency ? QStringLiteral("Emergency ") : QString();
    kind += production ? QStringLiteral("production rollout") : QStringLiteral("rollout");
    if (!emergency) {
        kind[0] = kind[0].toUpper();
    }
    QString text = QStringLiteral("%1 in %2 %3 (%4%5)")
                       .arg(kind)
                       .arg(waves.size())
                       .arg(waves.size() == 1 ? QStringLiteral("wave") : QStringLiteral("waves"))
                       .arg(sizes.join(QStringLiteral(", ")))
                       .arg(anyPercent ? QStringLiteral(" of the remaining targets")
                                       : QStringLiteral(" devices"));
    if (emergency) {
        text += QStringLiteral(" with no soak time");
    } else if (soak.count() > 0) {
        text += QStringLiteral(", soaking %1 between waves").arg(formatDuration(soak));
    }
    if (ratePerMinute > 0) {
        text += QStringLiteral(", at up to %1 devices/min").arg(ratePerMinute);
        if (rampFactor > 1.0) {
            text += QStringLiteral(" growing %1x after each batch of successes").arg(rampFactor);
        }
    }
    if (window) {
        text += QStringLiteral(", only during %1").arg(window->toString());
    }
    text += QStringLiteral(
                ", pausing if more than %1 of at least %2 executed devices in a wave "
                "fail, a wave passing at %3 succeeded")
                .arg(formatPercent(failureThreshold))
                .arg(minExecuted)
                .arg(formatPercent(successThreshold));
    text += QStringLiteral(", each device given %1").arg(formatDuration(deviceTimeout));
    if (retries > 0) {
        text += QStringLiteral(" and %1 %2")
                    .arg(retries)
                    .arg(retries == 1 ? QStringLiteral("retry") : QStringLiteral("retries"));
    }
    if (!prechecks.isEmpty()) {
        text += QStringLiteral(", checking %1 first").arg(prechecks.toString());
    }
    if (includeLateJoiners) {
        text += QStringLiteral(", including devices that join the target later");
    }
    if (production) {
        text += QStringLiteral("; needs approval by someone other than its author");
    }
    return text + QLatin1Char('.');
}

}  // namespace otafleet::rollout
