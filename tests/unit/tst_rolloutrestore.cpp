// RolloutEngine persistence: in every state, toJson -> fromJson gives an engine that decides
// exactly as the original would (same offers, timeouts, states and JSON, step by step), stored
// states that lie are refused, and a 10,000-device rollout restarted again and again (as after
// kill -9) completes with every device counted exactly once.
#include "RolloutHarness.h"

#include <map>
#include <set>

using namespace rollout_test;

namespace {

// A deterministic fleet: how a device answers an offer depends only on its id and attempt.
class FleetSim {
public:
    int failPercent = 3;
    int silentPercent = 1;

    // Delivers the answers due by now, ticks, and schedules answers to new offers. Returns a
    // line describing what happened, for step-by-step comparison.
    QString step(RolloutEngine& engine, const Clock& clock) {
        const qint64 now = clock.now().toMSecsSinceEpoch();
        QStringList log;
        while (!m_due.empty() && m_due.begin()->first <= now) {
            const auto [id, event] = m_due.begin()->second;
            m_due.erase(m_due.begin());
            auto ok = engine.onDeviceEvent(id, event);
            log << id + QLatin1Char(':') + deviceStateName(event.kind) +
                       (ok ? QString() : QStringLiteral("!") + ok.error().code);
            if (isFinished(event.kind)) {
                m_inFlight.erase(id);
                if (event.kind == DeviceState::Succeeded) {
                    ++successesDelivered[id];
                }
            }
        }
        const TickResult r = engine.tick();
        for (const QString& id : r.timedOut) {
            m_inFlight.erase(id);
            std::erase_if(m_due, [&id](const auto& entry) { return entry.second.first == id; });
        }
        for (const QString& id : r.offers) {
            if (!m_inFlight.insert(id).second) {
                doubleOffers << id;
            }
            schedule(id, ++m_attempts[id], now);
        }
        log << QStringLiteral("offers=%1").arg(r.offers.join(u','))
            << QStringLiteral("timedOut=%1").arg(r.timedOut.join(u','))
            << rolloutStateName(engine.state());
        return log.join(u' ');
    }

    std::map<QString, int> successesDelivered;
    QStringList doubleOffers;

private:
    static unsigned roll(const QString& id, int attempt) {
        unsigned h = 2166136261u;  // FNV-1a: the same on every run
        for (const QChar c : id) {
            h = (h ^ c.unicode()) * 16777619u;
        }
        h = (h ^ static_cast<unsigned>(attempt)) * 16777619u;
        return h % 100;
    }
    void schedule(const QString& id, int attempt, qint64 now) {
        const unsigned r = roll(id, attempt);
        auto add = [&](qint64 afterMs, DeviceState kind, const QString& reason = {}) {
            m_due.emplace(now + afterMs, std::pair{id, DeviceEvent{kind, reason}});
        };
        if (r < static_cast<unsigned>(silentPercent)) {
            return;  // never answers: the engine times it out
        }
        add(10'000, DeviceState::Downloading);
        if (r < static_cast<unsigned>(silentPercent + failPercent)) {
            add(40'000, DeviceState::Failed, QStringLiteral("write error"));
            return;
        }
        add(40'000, DeviceState::Installing);
        add(70'000, DeviceState::Rebooting);
        add(90'000, DeviceState::Succeeded);
    }

    std::multimap<qint64, std::pair<QString, DeviceEvent>> m_due;
    std::set<QString> m_inFlight;
    std::map<QString, int> m_attempts;
};

RolloutPlan restorePlan(bool production) {
    return makePlan(QStringLiteral("5%,20%,100%"), [&](PlanOptions& o) {
        o.rate = QStringLiteral("30/min");
        o.ramp = QStringLiteral("1.5");
        o.soak = QStringLiteral("5m");
        o.deviceTimeout = QStringLiteral("3m");
        o.retries = QStringLiteral("1");
        o.failureThreshold = QStringLiteral("20");
        o.minExecuted = QStringLiteral("10");
        o.successThreshold = QStringLiteral("90");
        o.window = QStringLiteral("Mon-Fri 08:00-20:00 UTC");
        o.production = production;
        o.includeLateJoiners = true;
    });
}

}  // namespace

class TestRolloutRestore : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void restoresEveryState_data() {
        QTest::addColumn<QString>("scenario");
        QTest::addColumn<QString>("state");
        for (const char* s :
             {"draft", "awaiting_approval", "scheduled", "running", "soaking", "paused_by_failures",
              "paused_by_operator", "window_closed", "completed", "aborted"}) {
            QTest::newRow(s) << QString::fromLatin1(s) << QString();
        }
    }
    void restoresEveryState() {
        QFETCH(QString, scenario);
        Harness h;
        const bool production = scenario == u"awaiting_approval";
        h.create(restorePlan(production), 400);
        FleetSim sim;
        if (scenario == u"paused_by_failures") {
            sim.failPercent = 60;
        }
        auto runUntil = [&](const std::function<bool()>& done, int maxSteps) {
            for (int i = 0; i < maxSteps && !done(); ++i) {
                h.clock.advance(5s);
                (void)sim.step(*h.engine, h.clock);
            }
        };
        if (scenario != u"draft") {
            QVERIFY(h.engine->start(
                QStringLiteral("alice"),
                scenario == u"scheduled" ? std::optional(mondayNoon().addSecs(90)) : std::nullopt));
        }
        if (scenario == u"running" || scenario == u"paused_by_operator" || scenario == u"aborted" ||
            scenario == u"window_closed") {
            runUntil(
                [&] {
                    return h.count(DeviceState::Pending) < 380 &&
                           h.count(DeviceState::TimedOut) + h.count(DeviceState::Failed) > 0;
                },
                400);
            QCOMPARE(h.engine->state(), RolloutState::Running);
        }
        if (scenario == u"soaking") {
            runUntil([&] { return h.engine->status().soakUntil.isValid(); }, 400);
        }
        if (scenario == u"paused_by_failures") {
            runUntil([&] { return h.engine->state() == RolloutState::Paused; }, 400);
            QVERIFY(h.engine->pauseReason().contains(QStringLiteral("paused itself")));
        }
        if (scenario == u"paused_by_operator") {
            QVERIFY(h.engine->pause(QStringLiteral("carol")));
        }
        if (scenario == u"window_closed") {
            h.clock.set(QDateTime(QDate(2026, 1, 5), QTime(19, 58), QTimeZone::utc()));
        }
        if (scenario == u"completed") {
            runUntil([&] { return h.engine->state() == RolloutState::Completed; }, 5000);
        }
        if (scenario == u"aborted") {
            QVERIFY(h.engine->abort(QStringLiteral("alice")));
        }
        QCOMPARE(rolloutStateName(h.engine->state()),
                 scenario.startsWith(u"paused") ? QStringLiteral("paused")
                 : scenario == u"soaking" || scenario == u"window_closed"
                     ? QStringLiteral("running")
                     : scenario);

        // Restore, then run both on the same inputs and compare every step.
        const QByteArray saved = h.engine->toJsonBytes();
        const QDateTime savedAt = h.clock.now();
        auto restored = RolloutEngine::fromJsonBytes(saved, h.clock);
        QVERIFY2(restored, restored ? "" : qPrintable(restored.error().toString()));
        QCOMPARE(restored->toJsonBytes(), saved);
        QCOMPARE(restored->status().toJson(), h.engine->status().toJson());

        auto drive = [&](RolloutEngine& engine, FleetSim fleet) {
            h.clock.set(savedAt);
            QStringList log;
            if (engine.state() == RolloutState::Draft) {
                log << QString::number(engine.start(QStringLiteral("alice")).has_value());
            }
            if (engine.state() == RolloutState::AwaitingApproval) {
                log << QString::number(engine.approve(QStringLiteral("bob")).has_value());
            }
            for (int i = 0; i < 300; ++i) {
                if (engine.state() == RolloutState::Paused) {  // an operator who accepts
                    log << engine.pauseReason()
                        << QString::number(engine.resume(QStringLiteral("carol")).has_value());
                }
                h.clock.advance(7s);
                log << fleet.step(engine, h.clock);
            }
            log << QString::fromUtf8(engine.toJsonBytes());
            return log;
        };
        const QStringList original = drive(*h.engine, sim);
        const QStringList again = drive(*restored, sim);
        QCOMPARE(again.size(), original.size());
        for (qsizetype i = 0; i < original.size(); ++i) {
            QCOMPARE(again[i], original[i]);
        }
        if (scenario != u"aborted" && scenario != u"completed") {
            // Something happened after the restore: this is not two idle engines agreeing.
            QVERIFY2(original.join(u' ').contains(QStringLiteral("offers=dev")),
                     qPrintable(original.mid(0, 5).join(u'\n')));
        }
    }

    void refusesInconsistentState_data() {
        QTest::addColumn<QByteArray>("from");
        QTest::addColumn<QByteArray>("to");
        QTest::newRow("unknown state")
            << QByteArray("\"state\":\"running\"") << QByteArray("\"state\":\"sprinting\"");
        QTest::newRow("unknown device state")
            << QByteArray("\"offered\"") << QByteArray("\"lost\"");
        QTest::newRow("duplicate device")
            << QByteArray("\"dev-00001\"") << QByteArray("\"dev-00000\"");
        QTest::newRow("wave size lies") << QByteArray("[1,") << QByteArray("[2,");
        QTest::newRow("queue lies") << QByteArray("\"queue\":[") << QByteArray("\"queue\":[0,");
        QTest::newRow("wrong format")
            << QByteArray("\"format\":1,\"n") << QByteArray("\"format\":7,\"n");
        QTest::newRow("not json") << QByteArray("{") << QByteArray("[");
    }
    void refusesInconsistentState() {
        QFETCH(QByteArray, from);
        QFETCH(QByteArray, to);
        Harness h;
        h.createRunning(makePlan(QStringLiteral("1,100%")), 3);
        const QByteArray good = h.engine->toJsonBytes();
        QVERIFY2(good.contains(from), good.constData());
        QByteArray bad = good;
        bad.replace(bad.indexOf(from), from.size(), to);
        auto restored = RolloutEngine::fromJsonBytes(bad, h.clock);
        QVERIFY(!restored);
        QVERIFY2(
            restored.error().code == u"rollout.state" || restored.error().code.startsWith(u"plan."),
            qPrintable(restored.error().toString()));
    }

    void tenThousandDevicesWithRestarts() {
        Harness h;
        h.create(makePlan(QStringLiteral("1%,10%,50%,100%"),
                          [](PlanOptions& o) {
                              o.rate = QStringLiteral("600/min");
                              o.ramp = QStringLiteral("2");
                              o.soak = QStringLiteral("10m");
                              o.deviceTimeout = QStringLiteral("5m");
                              o.retries = QStringLiteral("1");
                              o.failureThreshold = QStringLiteral("10");
                              o.minExecuted = QStringLiteral("20");
                              o.includeLateJoiners = true;
                          }),
                 10'000);
        QVERIFY(h.engine->start(QStringLiteral("alice")));
        FleetSim sim;
        int restarts = 0;
        int steps = 0;
        qint64 peakInFlight = 0;
        while (h.engine->state() != RolloutState::Completed && steps < 5000) {
            h.clock.advance(5s);
            (void)sim.step(*h.engine, h.clock);
            ++steps;
            if (steps == 100) {
                for (const QString& id : deviceIds(100, QStringLiteral("late-"))) {
                    QVERIFY(*h.engine->addTarget(id));
                }
            }
            const auto s = h.engine->status();
            qint64 sum = 0;
            for (const qint64 c : s.counts) {
                sum += c;
            }
            QCOMPARE(sum, s.total);  // every device in exactly one state, at every step
            peakInFlight =
                std::max(peakInFlight,
                         s.total - s.count(DeviceState::Pending) - s.count(DeviceState::Succeeded) -
                             s.count(DeviceState::Failed) - s.count(DeviceState::TimedOut));
            if (steps % 40 == 0) {  // the host dies (kill -9) and restarts from its last save
                const QByteArray saved = h.engine->toJsonBytes();
                auto restored = RolloutEngine::fromJsonBytes(saved, h.clock);
                QVERIFY2(restored, restored ? "" : qPrintable(restored.error().toString()));
                h.engine.emplace(std::move(*restored));
                ++restarts;
            }
        }
        QCOMPARE(h.engine->state(), RolloutState::Completed);
        QVERIFY(restarts > 5);
        QVERIFY(peakInFlight > 0);
        QVERIFY2(sim.doubleOffers.isEmpty(), qPrintable(sim.doubleOffers.join(u',')));
        const auto status = h.engine->status();
        QCOMPARE(status.total, qint64(10'100));
        QCOMPARE(status.currentWave, 4);
        QCOMPARE(status.count(DeviceState::Pending), qint64(0));
        QCOMPARE(status.count(DeviceState::Succeeded) + status.count(DeviceState::Failed) +
                     status.count(DeviceState::TimedOut),
                 status.total);
        // Each device appears once, and its final state matches what the fleet delivered.
        std::set<QString> seen;
        qint64 succeeded = 0;
        for (const DeviceProgress& d : h.engine->devices()) {
            QVERIFY(seen.insert(d.id).second);
            const int delivered = sim.successesDelivered[d.id];
            QVERIFY(delivered <= 1);
            QCOMPARE(d.state == DeviceState::Succeeded, delivered == 1);
            succeeded += delivered;
        }
        QCOMPARE(succeeded, status.count(DeviceState::Succeeded));
        QVERIFY(status.count(DeviceState::Succeeded) > 9'900);
        qint64 inWaves = 0;
        for (const WaveStatus& w : status.waves) {
            inWaves += w.size;
        }
        QCOMPARE(inWaves, status.total);
        QCOMPARE(status.waves[0].size, qint64(100));
        // 10% of what was left when wave 2 started: 9,900 plus the 100 late joiners.
        QCOMPARE(status.waves[1].size, qint64(1000));
    }

    // otafleetd's way: after every step the host stores the header and only the devices that
    // changed (by position), and restarts from those rows. Every restart must rebuild exactly the
    // engine that toJson() describes (offer queue order included), and the rollout complete with
    // every device counted once.
    void restoresFromChangedRows() {
        Harness h;
        h.create(makePlan(QStringLiteral("1%,10%,100%"),
                          [](PlanOptions& o) {
                              o.rate = QStringLiteral("300/min");
                              o.deviceTimeout = QStringLiteral("5m");
                              o.retries = QStringLiteral("2");
                              o.failureThreshold = QStringLiteral("50");
                              o.includeLateJoiners = true;
                          }),
                 2'000);
        QCOMPARE(h.engine->changedDevices().size(), std::size_t(2'000));  // a new rollout: all
        QJsonObject header;
        std::vector<DeviceProgress> rows;
        qint64 written = 0;
        auto save = [&] {
            header = h.engine->headerJson();
            for (const std::size_t p : h.engine->changedDevices()) {
                if (p >= rows.size()) {
                    rows.resize(p + 1);
                }
                rows[p] = h.engine->devices()[p];
                ++written;
            }
            h.engine->clearChangedDevices();
        };
        save();
        QVERIFY(!header.contains(QStringLiteral("devices")));
        QVERIFY(h.engine->start(QStringLiteral("alice")));
        save();
        FleetSim sim;
        int restarts = 0;
        int steps = 0;
        while (h.engine->state() != RolloutState::Completed && steps < 3000) {
            h.clock.advance(5s);
            (void)sim.step(*h.engine, h.clock);
            ++steps;
            if (steps == 50) {
                for (const QString& id : deviceIds(20, QStringLiteral("late-"))) {
                    QVERIFY(*h.engine->addTarget(id));
                }
            }
            save();
            if (steps % 25 == 0) {
                auto restored = RolloutEngine::fromParts(header, rows, h.clock);
                QVERIFY2(restored, restored ? "" : qPrintable(restored.error().toString()));
                QCOMPARE(restored->toJsonBytes(), h.engine->toJsonBytes());
                QVERIFY(restored->changedDevices().empty());
                h.engine.emplace(std::move(*restored));
                ++restarts;
            }
        }
        QCOMPARE(h.engine->state(), RolloutState::Completed);
        QVERIFY(restarts > 5);
        QVERIFY2(sim.doubleOffers.isEmpty(), qPrintable(sim.doubleOffers.join(u',')));
        const auto status = h.engine->status();
        QCOMPARE(status.total, qint64(2'020));
        QCOMPARE(status.count(DeviceState::Pending), qint64(0));
        for (const DeviceProgress& d : h.engine->devices()) {
            QCOMPARE(d.state == DeviceState::Succeeded, sim.successesDelivered[d.id] == 1);
        }
        // Proportional to the change: a handful of row writes per device (offer, progress,
        // result, retries), not the whole rollout per event.
        QVERIFY2(written < 2'020 * 12, qPrintable(QString::number(written)));

        // Rows that disagree with the header are refused.
        std::vector<DeviceProgress> missing(rows.begin(), rows.end() - 1);
        auto refused = RolloutEngine::fromParts(header, missing, h.clock);
        QVERIFY(!refused);
        QCOMPARE(refused.error().code, QStringLiteral("rollout.state"));
    }
};

QTEST_GUILESS_MAIN(TestRolloutRestore)
#include "tst_rolloutrestore.moc"
