// EmbeddedRollouts end to end: two real agents on loopback, the real LAN plugin, a real SQLite
// store. A two-wave rollout runs to completion (both devices end on the release, the second
// wave starts only after the first passed) and is resumed identically from the store; a
// rollout of a bundle for other hardware pauses itself after the first wave's refusal and never
// offers the second device; pause, resume and abort work on it and are saved.
#include "AgentProcess.h"
#include "TestBundles.h"
#include "TestPki.h"
#include "VerifyOk.h"

#include "fleet/EmbeddedFleet.h"
#include "fleet/EmbeddedRollouts.h"
#include "link/DeviceHub.h"
#include "store/FleetStore.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;
using rollout::DeviceState;
using rollout::RolloutState;

namespace {

constexpr int kTimeoutMs = 60000;
constexpr int kTickMs = 50;

rollout::RolloutPlan twoWaves() {
    rollout::PlanOptions options;
    options.waves = QStringLiteral("1,100%");
    options.minExecuted = QStringLiteral("1");
    auto plan = rollout::RolloutPlan::fromOptions(options);
    if (!plan)
        qFatal("plan: %s", qPrintable(plan.error().message));
    return *plan;
}

}  // namespace

class TestEmbeddedRollouts : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    std::optional<test::TestPki> m_pki;
    std::vector<std::unique_ptr<test::AgentProcess>> m_agents;
    std::unique_ptr<link::DeviceHub> m_hub;
    std::unique_ptr<fleet::EmbeddedFleet> m_fleet;
    rollout::SystemClock m_clock;
    std::unique_ptr<fleet::EmbeddedRollouts> m_rollouts;
    QList<qint64> m_ids;

    RolloutState state(qint64 id) const { return m_rollouts->rollout(id)->status.state; }
    DeviceState deviceState(qint64 rollout, qint64 device) const {
        return m_rollouts->engine(rollout)->device(QString::number(device))->state;
    }
    QString runningVersion(qint64 device) const {
        const auto d = m_fleet->device(device);
        return d && d->snapshot ? d->snapshot->activeVersion() : QString();
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        auto pki = test::TestPki::create(m_tmp.path(), false);
        VERIFY_OK(pki);
        m_pki = std::move(*pki);
        for (const QString& name : {QStringLiteral("bench-1"), QStringLiteral("bench-2")}) {
            auto agent =
                test::AgentProcess::setUp(QStringLiteral(OTAFLEET_BIN_DIR), m_tmp.filePath(name),
                                          m_pki->pkiDir, name, QStringLiteral("rev-a"));
            VERIFY_OK(agent);
            VERIFY_OK((*agent)->start());
            m_agents.push_back(std::move(*agent));
        }
        auto store = store::FleetStore::open(m_tmp.filePath(QStringLiteral("fleet.sqlite")));
        VERIFY_OK(store);
        QCOMPARE((*store)->schemaVersion(), store::FleetStore::latestSchemaVersion());
        m_hub = std::make_unique<link::DeviceHub>(link::LinkContext{m_pki->pkiDir, {}, {}, {}},
                                                  QStringList{QStringLiteral(OTAFLEET_PLUGIN_DIR)});
        auto fleet = fleet::EmbeddedFleet::create(std::move(*store), *m_hub);
        VERIFY_OK(fleet);
        m_fleet = std::move(*fleet);
        QSignalSpy finished(m_fleet.get(), &fleet::FleetService::operationFinished);
        for (const auto& agent : m_agents) {
            auto id = m_fleet->addDevice(agent->target(), QString());
            VERIFY_OK(id);
            m_ids.append(*id);
        }
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 2, kTimeoutMs);
        QCOMPARE(runningVersion(m_ids.at(0)), QStringLiteral("1.0.0"));
        auto rollouts = fleet::EmbeddedRollouts::create(*m_fleet, m_clock);
        VERIFY_OK(rollouts);
        m_rollouts = std::move(*rollouts);
        m_rollouts->setTickInterval(kTickMs);
    }

    void cleanupTestCase() {
        m_rollouts.reset();
        m_fleet.reset();
        m_hub.reset();
        m_agents.clear();
    }

    void refusesWhatCannotRun() {
        const auto missing = m_rollouts->createRollout(QStringLiteral("x"),
                                                       m_tmp.filePath(QStringLiteral("none.otab")),
                                                       twoWaves(), m_ids, QStringLiteral("alice"));
        QVERIFY(!missing);
        QCOMPARE(missing.error().code, QStringLiteral("fleet.bundle-missing"));
        auto bundle = test::makeSignedBundle(*m_pki, m_tmp.path(), {});
        VERIFY_OK(bundle);
        const auto none = m_rollouts->createRollout(QStringLiteral("x"), *bundle, twoWaves(), {},
                                                    QStringLiteral("alice"));
        QVERIFY(!none);
        QCOMPARE(none.error().code, QStringLiteral("fleet.no-targets"));
        const auto stranger = m_rollouts->createRollout(QStringLiteral("x"), *bundle, twoWaves(),
                                                        {9999}, QStringLiteral("alice"));
        QVERIFY(!stranger);
        QCOMPARE(stranger.error().code, QStringLiteral("fleet.unknown-device"));
        // A microcontroller cannot take the .otab a rollout delivers: refused before any draft.
        auto mcu = m_fleet->addDevice(QStringLiteral("udp://127.0.0.1:9"), QStringLiteral("mcu"));
        VERIFY_OK(mcu);
        const auto withMcu = m_rollouts->createRollout(
            QStringLiteral("x"), *bundle, twoWaves(), {m_ids.at(0), *mcu}, QStringLiteral("alice"));
        QVERIFY(!withMcu);
        QCOMPARE(withMcu.error().code, QStringLiteral("fleet.mcu-target"));
        QVERIFY(withMcu.error().message.contains(u"MCUboot"));
        QCOMPARE(m_rollouts->start(4242, QStringLiteral("alice")).error().code,
                 QStringLiteral("fleet.unknown-rollout"));
        QVERIFY(m_rollouts->rollouts().isEmpty());
    }

    void twoWavesRunToCompletion() {
        test::TestBundleSpec spec;
        spec.version = QStringLiteral("1.1.0");
        auto bundle = test::makeSignedBundle(*m_pki, m_tmp.path(), spec);
        VERIFY_OK(bundle);
        auto id = m_rollouts->createRollout(QStringLiteral("1.1.0 to the bench"), *bundle,
                                            twoWaves(), m_ids, QStringLiteral("alice"));
        VERIFY_OK(id);
        QCOMPARE(state(*id), RolloutState::Draft);
        VERIFY_OK(m_rollouts->start(*id, QStringLiteral("alice")));

        // Wave 1 holds the first device only; the second is not offered before wave 1 passed.
        QTRY_VERIFY_WITH_TIMEOUT(rollout::isInFlight(deviceState(*id, m_ids.at(0))), kTimeoutMs);
        QCOMPARE(deviceState(*id, m_ids.at(1)), DeviceState::Pending);
        QTRY_COMPARE_WITH_TIMEOUT(state(*id), RolloutState::Completed, kTimeoutMs);

        const rollout::RolloutStatus status = m_rollouts->rollout(*id)->status;
        QCOMPARE(status.waves.size(), 2);
        QCOMPARE(status.waves.at(0).size, 1);
        QCOMPARE(status.waves.at(1).size, 1);
        QVERIFY(status.waves.at(0).passedAt <= status.waves.at(1).startedAt);
        QCOMPARE(status.count(DeviceState::Succeeded), 2);
        // The devices really run the release.
        QTRY_COMPARE_WITH_TIMEOUT(runningVersion(m_ids.at(0)), QStringLiteral("1.1.0"), kTimeoutMs);
        QTRY_COMPARE_WITH_TIMEOUT(runningVersion(m_ids.at(1)), QStringLiteral("1.1.0"), kTimeoutMs);

        // The store holds the finished state: a second host resumes the very same rollout.
        auto records = m_fleet->store().rollouts().all();
        VERIFY_OK(records);
        QCOMPARE(records->size(), 1);
        QCOMPARE(records->first().state, QStringLiteral("completed"));
        auto reloaded = fleet::EmbeddedRollouts::create(*m_fleet, m_clock);
        VERIFY_OK(reloaded);
        const auto again = (*reloaded)->rollout(*id);
        QVERIFY(again);
        QCOMPARE(again->name, QStringLiteral("1.1.0 to the bench"));
        QCOMPARE(again->status.toJson(), status.toJson());
    }

    void pausesItselfWhenTheFirstWaveFails() {
        test::TestBundleSpec spec;
        spec.version = QStringLiteral("2.0.0");
        spec.hardware = QStringLiteral("rev-z");  // every device here is rev-a: all refuse it
        auto bundle = test::makeSignedBundle(*m_pki, m_tmp.path(), spec);
        VERIFY_OK(bundle);
        auto id = m_rollouts->createRollout(QStringLiteral("wrong hardware"), *bundle, twoWaves(),
                                            m_ids, QStringLiteral("alice"));
        VERIFY_OK(id);
        VERIFY_OK(m_rollouts->start(*id, QStringLiteral("alice")));
        QTRY_COMPARE_WITH_TIMEOUT(state(*id), RolloutState::Paused, kTimeoutMs);

        const auto first = m_rollouts->engine(*id)->device(QString::number(m_ids.at(0)));
        QCOMPARE(first->state, DeviceState::Failed);
        QVERIFY2(first->reason.contains(QStringLiteral("bundle.wrong-hardware")),
                 qPrintable(first->reason));
        QCOMPARE(deviceState(*id, m_ids.at(1)), DeviceState::Pending);  // never offered
        const QString reason = m_rollouts->rollout(*id)->status.pauseReason;
        QVERIFY2(!reason.isEmpty() && reason.contains(QStringLiteral("1")), qPrintable(reason));
        QCOMPARE(runningVersion(m_ids.at(0)), QStringLiteral("1.1.0"));

        // Saved while paused; paused stays paused across ticks.
        QTest::qWait(5 * kTickMs);
        QCOMPARE(state(*id), RolloutState::Paused);
        auto records = m_fleet->store().rollouts().all();
        VERIFY_OK(records);
        QCOMPARE(records->last().state, QStringLiteral("paused"));

        VERIFY_OK(m_rollouts->abort(*id, QStringLiteral("alice")));
        QCOMPARE(state(*id), RolloutState::Aborted);
        QCOMPARE(m_rollouts->resume(*id, QStringLiteral("alice")).error().code,
                 QStringLiteral("rollout.transition"));
        records = m_fleet->store().rollouts().all();
        VERIFY_OK(records);
        QCOMPARE(records->last().state, QStringLiteral("aborted"));
        QTest::qWait(5 * kTickMs);
        QCOMPARE(deviceState(*id, m_ids.at(1)), DeviceState::Pending);
    }
};

QTEST_GUILESS_MAIN(TestEmbeddedRollouts)
#include "tst_embeddedrollouts.moc"
