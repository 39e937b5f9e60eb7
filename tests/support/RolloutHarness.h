// Shared by the rollout engine tests: an engine on a ManualClock, plans from option strings,
// and short ways to report device outcomes. The harness must not be moved (the engine keeps a
// pointer to its clock).
#pragma once

#include "rollout/RolloutEngine.h"

#include <QTest>
#include <QTimeZone>

#include <functional>
#include <optional>

namespace rollout_test {

using namespace otafleet::rollout;
using namespace std::chrono_literals;

// Monday 2026-01-05 12:00 UTC.
inline QDateTime mondayNoon() {
    return QDateTime(QDate(2026, 1, 5), QTime(12, 0), QTimeZone::utc());
}

inline QStringList deviceIds(int count, const QString& prefix = QStringLiteral("dev-")) {
    QStringList ids;
    ids.reserve(count);
    for (int i = 0; i < count; ++i) {
        ids << prefix + QString::number(i).rightJustified(5, u'0');
    }
    return ids;
}

inline RolloutPlan makePlan(const QString& waves,
                            const std::function<void(PlanOptions&)>& adjust = {}) {
    PlanOptions options;
    options.waves = waves;
    if (adjust) {
        adjust(options);
    }
    auto plan = RolloutPlan::fromOptions(options);
    if (!plan) {
        qFatal("bad test plan: %s", qPrintable(plan.error().toString()));
    }
    return *plan;
}

class Harness {
public:
    Harness() = default;
    Harness(const Harness&) = delete;
    Harness& operator=(const Harness&) = delete;

    ManualClock clock{mondayNoon()};
    std::optional<RolloutEngine> engine;

    // A running (or, for production plans, approved and running) rollout after one tick.
    void create(const RolloutPlan& plan, int devices) {
        auto created =
            RolloutEngine::create(plan, QStringLiteral("alice"), deviceIds(devices), clock);
        QVERIFY2(created, created ? "" : qPrintable(created.error().toString()));
        engine.emplace(std::move(*created));
    }
    void createRunning(const RolloutPlan& plan, int devices) {
        create(plan, devices);
        if (plan.production) {
            QVERIFY(engine->approve(QStringLiteral("bob")));
        }
        QVERIFY(engine->start(QStringLiteral("alice")));
        (void)engine->tick();
        QCOMPARE(engine->state(), RolloutState::Running);
    }
    TickResult tick() { return engine->tick(); }
    void report(const QString& id, DeviceState kind, const QString& reason = {}) {
        auto ok = engine->onDeviceEvent(id, DeviceEvent{kind, reason});
        QVERIFY2(ok, ok ? "" : qPrintable(ok.error().toString()));
    }
    // One outcome per letter: S succeeded, F failed, R reverted, T timed out, K skipped.
    void outcomes(const QStringList& ids, QStringView letters) {
        for (qsizetype i = 0; i < letters.size() && i < ids.size(); ++i) {
            const QChar c = letters[i];
            const DeviceState kind = c == u'S'   ? DeviceState::Succeeded
                                     : c == u'F' ? DeviceState::Failed
                                     : c == u'R' ? DeviceState::Reverted
                                     : c == u'T' ? DeviceState::TimedOut
                                                 : DeviceState::Skipped;
            report(ids[i], kind,
                   kind == DeviceState::Skipped ? QStringLiteral("battery 12% < 30%")
                                                : QStringLiteral("boom"));
        }
    }
    qint64 count(DeviceState s) const { return engine->status().count(s); }
    int currentWave() const { return engine->status().currentWave; }
};

}  // namespace rollout_test
