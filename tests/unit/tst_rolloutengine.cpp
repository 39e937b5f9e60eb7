// RolloutEngine on an injected clock: wave thresholds at their edges, pause and resume, soak,
// maintenance windows, the rate limit and its ramp, device timeouts and retries, approvals and
// late joiners. Restores and the 10,000-device run are in tst_rolloutrestore.cpp.
#include "RolloutHarness.h"

#include <QJsonArray>

#include <deque>

using namespace rollout_test;

class TestRolloutEngine : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void thresholds_data() {
        QTest::addColumn<QString>("waves");
        QTest::addColumn<QString>("success");
        QTest::addColumn<QString>("failure");
        QTest::addColumn<QString>("minExecuted");
        QTest::addColumn<int>("devices");
        QTest::addColumn<QString>("outcomes");  // for the first wave's devices, in order
        QTest::addColumn<QString>("state");
        QTest::addColumn<int>("wave");
        QTest::addColumn<QString>("reason");
        QTest::newRow("exactly at the failure threshold goes on")
            << QStringLiteral("5,100%") << QStringLiteral("80") << QStringLiteral("20")
            << QStringLiteral("5") << 10 << QStringLiteral("SSSSF") << QStringLiteral("running")
            << 2 << QStringLiteral("");
        QTest::newRow("just above the failure threshold pauses")
            << QStringLiteral("5,100%") << QStringLiteral("80") << QStringLiteral("20")
            << QStringLiteral("5") << 10 << QStringLiteral("SSSFF") << QStringLiteral("paused") << 1
            << QStringLiteral(
                   "Wave 1 paused itself: 2 of 5 executed devices failed (40%), above the 20% "
                   "failure threshold.");
        QTest::newRow("reverted and timed out count as failures")
            << QStringLiteral("5,100%") << QStringLiteral("80") << QStringLiteral("20")
            << QStringLiteral("5") << 10 << QStringLiteral("SSSRT") << QStringLiteral("paused") << 1
            << QStringLiteral("2 of 5 executed devices failed (40%)");
        QTest::newRow("min-executed not reached: no failure pause")
            << QStringLiteral("8,100%") << QStringLiteral("50") << QStringLiteral("10")
            << QStringLiteral("5") << 10 << QStringLiteral("FFFF") << QStringLiteral("running") << 1
            << QStringLiteral("");
        QTest::newRow("min-executed not reached, then the success threshold pauses")
            << QStringLiteral("4,100%") << QStringLiteral("50") << QStringLiteral("10")
            << QStringLiteral("5") << 10 << QStringLiteral("FFFF") << QStringLiteral("paused") << 1
            << QStringLiteral(
                   "Wave 1 finished with 0 of 4 devices succeeded (0%), below the 50% success "
                   "threshold; resume to accept it.");
        QTest::newRow("all fail at once pauses at min-executed")
            << QStringLiteral("10,100%") << QStringLiteral("95") << QStringLiteral("10")
            << QStringLiteral("5") << 20 << QStringLiteral("FFFFFFFFFF") << QStringLiteral("paused")
            << 1 << QStringLiteral("5 of 5 executed devices failed (100%)");
        QTest::newRow("skipped devices are not executed")
            << QStringLiteral("6,100%") << QStringLiteral("50") << QStringLiteral("10")
            << QStringLiteral("3") << 10 << QStringLiteral("KKKSSS") << QStringLiteral("running")
            << 2 << QStringLiteral("");
        QTest::newRow("exactly at the success threshold passes")
            << QStringLiteral("4,100%") << QStringLiteral("75") << QStringLiteral("50")
            << QStringLiteral("10") << 8 << QStringLiteral("SSSK") << QStringLiteral("running") << 2
            << QStringLiteral("");
        QTest::newRow("below the success threshold pauses when the wave ends")
            << QStringLiteral("4,100%") << QStringLiteral("76") << QStringLiteral("50")
            << QStringLiteral("10") << 8 << QStringLiteral("SSSK") << QStringLiteral("paused") << 1
            << QStringLiteral("3 of 4 devices succeeded (75%), below the 76% success threshold");
        QTest::newRow("success threshold passes a wave before it ends")
            << QStringLiteral("10,100%") << QStringLiteral("50") << QStringLiteral("50")
            << QStringLiteral("10") << 20 << QStringLiteral("SSSSS") << QStringLiteral("running")
            << 2 << QStringLiteral("");
        QTest::newRow("empty last wave completes")
            << QStringLiteral("100%,50%") << QStringLiteral("100") << QStringLiteral("10")
            << QStringLiteral("1") << 3 << QStringLiteral("SSS") << QStringLiteral("completed") << 2
            << QStringLiteral("");
    }
    void thresholds() {
        QFETCH(QString, waves);
        QFETCH(QString, success);
        QFETCH(QString, failure);
        QFETCH(QString, minExecuted);
        QFETCH(int, devices);
        QFETCH(QString, outcomes);
        QFETCH(QString, state);
        QFETCH(int, wave);
        QFETCH(QString, reason);
        Harness h;
        h.createRunning(makePlan(waves,
                                 [&](PlanOptions& o) {
                                     o.successThreshold = success;
                                     o.failureThreshold = failure;
                                     o.minExecuted = minExecuted;
                                 }),
                        devices);
        QCOMPARE(h.currentWave(), 1);
        QCOMPARE(h.count(DeviceState::Offered), h.engine->status().waves[0].size);
        h.outcomes(deviceIds(devices), outcomes);
        (void)h.tick();
        QCOMPARE(rolloutStateName(h.engine->state()), state);
        QCOMPARE(h.currentWave(), wave);
        QVERIFY2(h.engine->pauseReason().contains(reason), qPrintable(h.engine->pauseReason()));
        QCOMPARE(h.engine->pauseReason().isEmpty(), reason.isEmpty());
        if (state == u"paused") {
            // Nothing outside the first wave was offered.
            const qint64 firstWave = h.engine->status().waves[0].size;
            for (const auto& d : h.engine->devices()) {
                QVERIFY(d.wave == 0 || d.attempts == 0);
            }
            QCOMPARE(h.engine->status().waves[1].size, qint64(0));
            QVERIFY(firstWave < devices);
        }
    }

    void pauseAndResume() {
        Harness h;
        h.createRunning(makePlan(QStringLiteral("10,100%"),
                                 [](PlanOptions& o) {
                                     o.failureThreshold = QStringLiteral("20");
                                     o.minExecuted = QStringLiteral("5");
                                     o.rate = QStringLiteral("60/min");
                                 }),
                        30);
        QCOMPARE(h.count(DeviceState::Offered), qint64(1));  // one second's worth at 60/min
        QVERIFY(h.engine->pause(QStringLiteral("carol")));
        QCOMPARE(h.engine->pauseReason(), QStringLiteral("Paused by carol."));
        h.clock.advance(30s);
        QVERIFY(h.tick().offers.isEmpty());  // a paused rollout offers nothing
        QCOMPARE(h.engine->pause(QStringLiteral("carol")).error().code,
                 QStringLiteral("rollout.transition"));
        QVERIFY(h.engine->resume(QStringLiteral("carol")));
        QVERIFY(h.engine->pauseReason().isEmpty());
        for (int i = 0; i < 10; ++i) {
            h.clock.advance(1s);
            (void)h.tick();
        }
        QCOMPARE(h.count(DeviceState::Offered), qint64(10));  // the whole first wave
        const QStringList ids = deviceIds(30);
        h.outcomes(ids, u"SSSFF");  // 2 of 5 > 20%: pauses itself
        QCOMPARE(h.engine->state(), RolloutState::Paused);
        h.report(ids[5], DeviceState::Succeeded);  // devices in flight still report
        QVERIFY(h.engine->pauseReason().contains(QStringLiteral("2 of 5")));
        // Resume counts failures from here: 1 of the next 4 executed is 25% > 20%, but 4 is
        // below min-executed.
        QVERIFY(h.engine->resume(QStringLiteral("carol")));
        h.report(ids[6], DeviceState::Failed, QStringLiteral("flash error"));
        QCOMPARE(h.engine->state(), RolloutState::Running);
        h.outcomes(ids.mid(7), u"SS");
        QCOMPARE(h.engine->state(), RolloutState::Running);
        h.report(ids[9], DeviceState::Succeeded);  // the wave ends at 7 of 10 < 95%
        QCOMPARE(h.engine->state(), RolloutState::Paused);
        QCOMPARE(h.currentWave(), 1);
        QVERIFY(h.engine->pauseReason().contains(QStringLiteral("7 of 10 devices succeeded")));
        QVERIFY(h.engine->resume(QStringLiteral("carol")));  // accepted by an operator
        (void)h.tick();
        QCOMPARE(h.currentWave(), 2);
        QCOMPARE(h.engine->device(ids[6])->reason, QStringLiteral("flash error"));
    }

    void soakBetweenWaves_data() {
        QTest::addColumn<bool>("emergency");
        QTest::newRow("soak") << false;
        QTest::newRow("emergency skips soak") << true;
    }
    void soakBetweenWaves() {
        QFETCH(bool, emergency);
        Harness h;
        h.createRunning(makePlan(QStringLiteral("2,100%"),
                                 [&](PlanOptions& o) {
                                     if (emergency) {
                                         o.emergency = true;
                                     } else {
                                         o.soak = QStringLiteral("1h");
                                     }
                                 }),
                        6);
        h.outcomes(deviceIds(2), u"SS");
        (void)h.tick();
        if (emergency) {
            QCOMPARE(h.currentWave(), 2);
            return;
        }
        QCOMPARE(h.currentWave(), 1);
        const auto status = h.engine->status();
        QCOMPARE(status.waves[0].phase, WaveStatus::Phase::Soaking);
        QCOMPARE(status.soakUntil, mondayNoon().addSecs(3600));
        QCOMPARE(status.toJson().value(QStringLiteral("soak_until")).toString(),
                 QStringLiteral("2026-01-05T13:00:00.000Z"));
        h.clock.advance(59min + 59s);
        QVERIFY(h.tick().offers.isEmpty());
        h.clock.advance(1s);
        QCOMPARE(h.tick().offers.size(), 4);
        QCOMPARE(h.currentWave(), 2);
        h.outcomes(deviceIds(6).mid(2), u"SSSS");
        QCOMPARE(h.engine->state(), RolloutState::Completed);
    }

    void windowClosesMidWave() {
        Harness h;
        // Open Mondays 12:00-12:10 UTC; the clock starts Monday 12:00.
        h.createRunning(makePlan(QStringLiteral("100%"),
                                 [](PlanOptions& o) {
                                     o.rate = QStringLiteral("1/min");
                                     o.window = QStringLiteral("Mon 12:00-12:10 UTC");
                                     o.failureThreshold = QStringLiteral("100");  // never pauses
                                 }),
                        20);
        QStringList offered;
        for (int s = 1; s <= 3600; s += 10) {  // one hour, ticking every 10 s
            h.clock.set(mondayNoon().addSecs(s));
            offered << h.tick().offers;
        }
        QCOMPARE(offered.size() + 1, 10);  // 12:00 (first tick) .. 12:09, none after 12:10
        QCOMPARE(h.count(DeviceState::Offered), qint64(10));
        h.report(offered.front(), DeviceState::Succeeded);  // results arrive while closed
        QCOMPARE(h.count(DeviceState::Succeeded), qint64(1));
        const auto window = h.engine->plan().window;
        QCOMPARE(window->nextOpening(h.clock.now()), mondayNoon().addDays(7));
        h.clock.set(mondayNoon().addDays(7).addSecs(-1));
        QVERIFY(h.tick().offers.isEmpty());
        // Offered devices timed out meanwhile (1h default); one offer a minute resumes.
        QCOMPARE(h.count(DeviceState::TimedOut), qint64(9));
        h.clock.set(mondayNoon().addDays(7));
        QCOMPARE(h.tick().offers.size(), 1);
    }

    void rateAndRamp_data() {
        QTest::addColumn<QString>("rate");
        QTest::addColumn<QString>("ramp");
        QTest::addColumn<QList<int>>("perMinute");  // offers in minutes 1, 2, 3, 4
        QTest::newRow("10/min flat")
            << QStringLiteral("10/min") << QStringLiteral("") << QList<int>{10, 10, 10, 10};
        QTest::newRow("120/min flat: two a second")
            << QStringLiteral("120/min") << QStringLiteral("") << QList<int>{120, 120, 120, 120};
        QTest::newRow("10/min doubling")
            << QStringLiteral("10/min") << QStringLiteral("2") << QList<int>{10, 20, 40, 80};
        QTest::newRow("60/h") << QStringLiteral("60/h") << QStringLiteral("")
                              << QList<int>{1, 1, 1, 1};
    }
    void rateAndRamp() {
        QFETCH(QString, rate);
        QFETCH(QString, ramp);
        QFETCH(QList<int>, perMinute);
        Harness h;
        h.create(makePlan(QStringLiteral("100%"),
                          [&](PlanOptions& o) {
                              o.rate = rate;
                              if (!ramp.isEmpty()) {
                                  o.ramp = ramp;
                              }
                          }),
                 2000);
        QVERIFY(h.engine->start(QStringLiteral("alice")));
        QList<int> counted;
        for (int minute = 0; minute < perMinute.size(); ++minute) {
            int offers = 0;
            for (int second = 0; second < 60; ++second) {
                const TickResult r = h.tick();
                offers += int(r.offers.size());
                for (const QString& id : r.offers) {
                    h.report(id, DeviceState::Succeeded);  // instant success feeds the ramp
                }
                h.clock.advance(1s);
            }
            counted << offers;
        }
        QCOMPARE(counted, perMinute);
    }

    // Without a rate a wave is still paced: kUnratedOffersPerTick per tick, at most
    // kUnratedMaxInFlight offered and unfinished; a rate replaces both bounds.
    void pacingWithoutRate_data() {
        QTest::addColumn<QString>("rate");
        QTest::addColumn<int>("devices");
        QTest::addColumn<int>("finishPerTick");  // the oldest in-flight devices succeed
        QTest::addColumn<QList<int>>("offers");  // per tick, ticks 250 ms apart
        QTest::newRow("nothing finishes: 32 a tick up to 256 in flight")
            << QString() << 1000 << 0 << QList<int>{32, 32, 32, 32, 32, 32, 32, 32, 0, 0};
        QTest::newRow("finished devices make room")
            << QString() << 1000 << 10
            << QList<int>{32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 14, 10, 10};
        QTest::newRow("a wave smaller than a tick's worth goes at once")
            << QString() << 20 << 0 << QList<int>{20, 0};
        QTest::newRow("a rate replaces both bounds: one second's worth at once")
            << QStringLiteral("60000/min") << 1000 << 0 << QList<int>{1000, 0};
    }
    void pacingWithoutRate() {
        QFETCH(QString, rate);
        QFETCH(int, devices);
        QFETCH(int, finishPerTick);
        QFETCH(QList<int>, offers);
        QCOMPARE(RolloutEngine::kUnratedOffersPerTick, qsizetype(32));
        QCOMPARE(RolloutEngine::kUnratedMaxInFlight, qint64(256));
        Harness h;
        h.create(makePlan(QStringLiteral("100%"),
                          [&](PlanOptions& o) {
                              if (!rate.isEmpty()) {
                                  o.rate = rate;
                              }
                          }),
                 devices);
        QVERIFY(h.engine->start(QStringLiteral("alice")));
        QList<int> counted;
        std::deque<QString> inFlight;
        for (qsizetype tick = 0; tick < offers.size(); ++tick) {
            const TickResult r = h.tick();
            counted << int(r.offers.size());
            inFlight.insert(inFlight.end(), r.offers.cbegin(), r.offers.cend());
            for (int i = 0; i < finishPerTick && !inFlight.empty(); ++i) {
                h.report(inFlight.front(), DeviceState::Succeeded);
                inFlight.pop_front();
            }
            const auto status = h.engine->status();
            const qint64 open = status.count(DeviceState::Offered);
            QCOMPARE(open, qint64(inFlight.size()));
            // The wave tells devices in flight from those not offered yet.
            const WaveStatus& wave = status.waves.first();
            QCOMPARE(wave.inProgress, open);
            QCOMPARE(wave.pending, wave.size - wave.inProgress - wave.succeeded);
            if (rate.isEmpty()) {
                QVERIFY(open <= RolloutEngine::kUnratedMaxInFlight);
            }
            h.clock.advance(250ms);
        }
        QCOMPARE(counted, offers);
    }

    void timeoutsAndRetries_data() {
        QTest::addColumn<int>("retries");
        QTest::newRow("no retries") << 0;
        QTest::newRow("one retry") << 1;
        QTest::newRow("three retries") << 3;
    }
    void timeoutsAndRetries() {
        QFETCH(int, retries);
        Harness h;
        h.createRunning(makePlan(QStringLiteral("100%"),
                                 [&](PlanOptions& o) {
                                     o.deviceTimeout = QStringLiteral("5m");
                                     o.retries = QString::number(retries);
                                     o.successThreshold = QStringLiteral("0");
                                 }),
                        2);
        const QStringList ids = deviceIds(2);
        // dev-0 never answers; dev-1 fails each time and would succeed only on a retry.
        int offersOfSilent = 1;
        int offersOfFailing = 1;
        h.report(ids[1], DeviceState::Downloading);
        h.report(ids[1], DeviceState::Failed, QStringLiteral("hash mismatch"));
        for (int step = 0; step < 40; ++step) {
            h.clock.advance(30s);
            const TickResult r = h.tick();
            for (const QString& id : r.offers) {
                if (id == ids[0]) {
                    ++offersOfSilent;
                } else {
                    ++offersOfFailing;
                    h.report(id, DeviceState::Failed, QStringLiteral("hash mismatch"));
                }
            }
            if (!r.timedOut.isEmpty()) {
                QCOMPARE(r.timedOut, QStringList{ids[0]});
            }
        }
        QCOMPARE(offersOfSilent, retries + 1);
        QCOMPARE(offersOfFailing, retries + 1);
        QCOMPARE(h.engine->device(ids[0])->state, DeviceState::TimedOut);
        QCOMPARE(h.engine->device(ids[0])->reason,
                 QStringLiteral("no result within 5m of the offer"));
        QCOMPARE(h.engine->device(ids[1])->state, DeviceState::Failed);
        QCOMPARE(h.engine->device(ids[1])->attempts, retries + 1);
        QCOMPARE(h.engine->state(), RolloutState::Completed);
        // A late success of the timed-out device replaces timed_out; nothing is counted twice.
        h.report(ids[0], DeviceState::Succeeded);
        QCOMPARE(h.count(DeviceState::Succeeded), qint64(1));
        QCOMPARE(h.count(DeviceState::TimedOut), qint64(0));
        QCOMPARE(h.engine->status().total, qint64(2));
        // retry-failed offers the failed device again.
        QVERIFY(h.engine->retryFailed(QStringLiteral("alice")));
        QCOMPARE(h.tick().offers, QStringList{ids[1]});
        h.report(ids[1], DeviceState::Succeeded);
        QCOMPARE(h.engine->state(), RolloutState::Completed);
        QCOMPARE(h.engine->retryFailed(QStringLiteral("alice")).error().code,
                 QStringLiteral("rollout.nothing-to-retry"));
    }

    void approvals_data() {
        QTest::addColumn<bool>("production");
        QTest::addColumn<bool>("emergency");
        QTest::newRow("production") << true << false;
        QTest::newRow("production emergency still needs approval") << true << true;
        QTest::newRow("not production") << false << false;
    }
    void approvals() {
        QFETCH(bool, production);
        QFETCH(bool, emergency);
        Harness h;
        h.create(makePlan(QStringLiteral("100%"),
                          [&](PlanOptions& o) {
                              o.production = production;
                              o.emergency = emergency;
                          }),
                 3);
        QCOMPARE(h.engine->state(), RolloutState::Draft);
        QVERIFY(h.engine->start(QStringLiteral("alice")));
        (void)h.tick();
        if (!production) {
            QCOMPARE(h.engine->state(), RolloutState::Running);
            QCOMPARE(h.engine->approve(QStringLiteral("bob")).error().code,
                     QStringLiteral("rollout.approval-not-needed"));
            return;
        }
        QCOMPARE(h.engine->state(), RolloutState::AwaitingApproval);
        QCOMPARE(h.count(DeviceState::Offered), qint64(0));
        QCOMPARE(h.engine->approve(QStringLiteral("alice")).error().code,
                 QStringLiteral("rollout.self-approval"));
        QCOMPARE(h.engine->approve(QString()).error().code,
                 QStringLiteral("rollout.self-approval"));
        QCOMPARE(h.engine->state(), RolloutState::AwaitingApproval);
        QVERIFY(h.engine->approve(QStringLiteral("bob")));
        QCOMPARE(h.engine->approvedBy(), QStringLiteral("bob"));
        QCOMPARE(h.engine->state(), RolloutState::Scheduled);
        QCOMPARE(h.engine->approve(QStringLiteral("carol")).error().code,
                 QStringLiteral("rollout.transition"));
        QCOMPARE(h.tick().offers.size(), 3);
        QCOMPARE(h.engine->state(), RolloutState::Running);
    }

    void approvedDraftStartsDirectly() {
        Harness h;
        h.create(makePlan(QStringLiteral("100%"), [](PlanOptions& o) { o.production = true; }), 1);
        QVERIFY(h.engine->approve(QStringLiteral("bob")));
        QCOMPARE(h.engine->state(), RolloutState::Draft);
        QCOMPARE(h.engine->approve(QStringLiteral("dave")).error().code,
                 QStringLiteral("rollout.already-approved"));
        QVERIFY(h.engine->start(QStringLiteral("alice"), mondayNoon().addSecs(600)));
        QCOMPARE(h.engine->state(), RolloutState::Scheduled);
        QVERIFY(h.tick().offers.isEmpty());  // not before its start time
        h.clock.advance(10min);
        QCOMPARE(h.tick().offers.size(), 1);
    }

    void transitions() {
        Harness h;
        h.create(makePlan(QStringLiteral("100%")), 2);
        QCOMPARE(h.engine->resume(QStringLiteral("a")).error().code,
                 QStringLiteral("rollout.transition"));
        QCOMPARE(h.engine->retryFailed(QStringLiteral("a")).error().code,
                 QStringLiteral("rollout.transition"));
        QCOMPARE(h.engine
                     ->onDeviceEvent(QStringLiteral("dev-00000"),
                                     DeviceEvent{DeviceState::Succeeded, {}})
                     .error()
                     .code,
                 QStringLiteral("rollout.unexpected-event"));
        QCOMPARE(
            h.engine->onDeviceEvent(QStringLiteral("nope"), DeviceEvent{DeviceState::Succeeded, {}})
                .error()
                .code,
            QStringLiteral("rollout.unknown-device"));
        QVERIFY(h.engine->start(QStringLiteral("a")));
        (void)h.tick();
        h.report(QStringLiteral("dev-00000"), DeviceState::Offered);  // an acknowledgement
        h.report(QStringLiteral("dev-00000"), DeviceState::Succeeded);
        QCOMPARE(
            h.engine
                ->onDeviceEvent(QStringLiteral("dev-00000"), DeviceEvent{DeviceState::Failed, {}})
                .error()
                .code,
            QStringLiteral("rollout.unexpected-event"));  // counted once
        QVERIFY(h.engine->abort(QStringLiteral("a")));
        QCOMPARE(h.engine->abort(QStringLiteral("a")).error().code,
                 QStringLiteral("rollout.transition"));
        h.report(QStringLiteral("dev-00001"), DeviceState::Failed);  // still recorded
        QCOMPARE(h.count(DeviceState::Failed), qint64(1));
        h.clock.advance(2h);
        QVERIFY(h.tick().offers.isEmpty());
    }

    void lateJoiners_data() {
        QTest::addColumn<bool>("include");
        QTest::newRow("plan takes late joiners") << true;
        QTest::newRow("plan does not") << false;
    }
    void lateJoiners() {
        QFETCH(bool, include);
        Harness h;
        h.createRunning(makePlan(QStringLiteral("2,100%"),
                                 [&](PlanOptions& o) { o.includeLateJoiners = include; }),
                        4);
        auto joined = h.engine->addTarget(QStringLiteral("late-1"));  // before the last wave
        if (!include) {
            QCOMPARE(joined.error().code, QStringLiteral("rollout.target-closed"));
            return;
        }
        QVERIFY(joined && *joined);
        QVERIFY(!*h.engine->addTarget(QStringLiteral("dev-00000")));  // already a target
        h.outcomes(deviceIds(2), u"SS");
        QCOMPARE(h.tick().offers.size(), 3);                      // dev-00002, dev-00003, late-1
        QVERIFY(*h.engine->addTarget(QStringLiteral("late-2")));  // the last wave has started
        QCOMPARE(h.tick().offers, QStringList{QStringLiteral("late-2")});
        h.outcomes({QStringLiteral("dev-00002"), QStringLiteral("dev-00003"),
                    QStringLiteral("late-1"), QStringLiteral("late-2")},
                   u"SSSS");
        QCOMPARE(h.engine->state(), RolloutState::Completed);
        QCOMPARE(h.count(DeviceState::Succeeded), qint64(6));
        QCOMPARE(h.engine->addTarget(QStringLiteral("late-3")).error().code,
                 QStringLiteral("rollout.finished"));
    }

    void statusJson() {
        Harness h;
        h.createRunning(makePlan(QStringLiteral("1,100%")), 3);
        h.report(QStringLiteral("dev-00000"), DeviceState::Installing);
        const QJsonObject json = h.engine->status().toJson();
        QCOMPARE(json.value(QStringLiteral("state")).toString(), QStringLiteral("running"));
        QCOMPARE(json.value(QStringLiteral("current_wave")).toInt(), 1);
        QCOMPARE(json.value(QStringLiteral("pause_reason")).toString(), QString());
        const QJsonObject counts = json.value(QStringLiteral("counts")).toObject();
        const QStringList keys{QStringLiteral("pending"),     QStringLiteral("offered"),
                               QStringLiteral("downloading"), QStringLiteral("installing"),
                               QStringLiteral("rebooting"),   QStringLiteral("verifying"),
                               QStringLiteral("succeeded"),   QStringLiteral("failed"),
                               QStringLiteral("reverted"),    QStringLiteral("timed_out"),
                               QStringLiteral("skipped")};
        QCOMPARE(counts.keys().size(), keys.size());
        for (const QString& key : keys) {
            QVERIFY2(counts.contains(key), qPrintable(key));
        }
        QCOMPARE(counts.value(QStringLiteral("installing")).toInt(), 1);
        QCOMPARE(counts.value(QStringLiteral("pending")).toInt(), 2);
        const QJsonArray waves = json.value(QStringLiteral("waves")).toArray();
        QCOMPARE(waves.size(), 2);
        QCOMPARE(waves[0].toObject().value(QStringLiteral("state")).toString(),
                 QStringLiteral("running"));
        QCOMPARE(waves[0].toObject().value(QStringLiteral("in_progress")).toInt(), 1);
        QCOMPARE(waves[0].toObject().value(QStringLiteral("pending")).toInt(), 0);
        QCOMPARE(waves[1].toObject().value(QStringLiteral("state")).toString(),
                 QStringLiteral("waiting"));
        QCOMPARE(waves[1].toObject().value(QStringLiteral("planned")).toString(),
                 QStringLiteral("100%"));
    }
};

QTEST_GUILESS_MAIN(TestRolloutEngine)
#include "tst_rolloutengine.moc"
