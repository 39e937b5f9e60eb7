// The fleet end to end, with nothing but real processes on loopback: otafleetd (PKI on a SoftHSM
// token, releases signed by the token's release key), `otafleetctl simulate` running the agent's
// own core for every simulated device, and a real otafleet-agent process that dials in.
//   - 200 simulated devices take a release in three waves; otafleetd is killed with SIGKILL in
//     the middle and restarted, and the rollout completes with every device counted once; the
//     last wave (133 devices, no rate) was offered in paced steps of at most
//     RolloutEngine::kUnratedOffersPerTick (read back from the store's offer times);
//   - with half the devices failing their trial, a rollout pauses itself in its first wave and
//     no device outside that wave was offered the release;
//   - the real agent is updated by a rollout: download, verify, install, reboot (re-exec), health
//     check, commit, reported back over its session.
#include "AgentProcess.h"
#include "CliRun.h"
#include "FleetTestSupport.h"
#include "ServerTestBase.h"
#include "TestBundles.h"

#include <QDeadlineTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlQuery>

#include <csignal>
#include <functional>

using namespace otafleet;
using namespace otafleet::test;

namespace {

QJsonObject jsonOf(const QByteArray& bytes) {
    return QJsonDocument::fromJson(bytes).object();
}

}  // namespace

class TestFleetRollout : public QObject, public ServerTestBase {
    Q_OBJECT

    QStringList serverArgs() const {
        return {QStringLiteral("--server"), m_server->address(), QStringLiteral("--pki"),
                m_pki->pkiDir};
    }

    QJsonObject ctl(const QStringList& args) {
        const ProcessRun run =
            otafleetctl(args + QStringList{QStringLiteral("--json")} + serverArgs());
        if (run.exitCode != 0)
            qWarning("otafleetctl %s: %s", qPrintable(args.join(u' ')), run.err.constData());
        return jsonOf(run.out);
    }

    QString uploadRelease(const QString& version) {
        TestBundleSpec spec;
        spec.version = version;
        spec.payloadSize = 64 * 1024;
        auto bundle = makeSignedBundle(*m_pki, m_tmp.filePath(QStringLiteral("bundles")), spec);
        if (!bundle) {
            qWarning("%s", qPrintable(bundle.error().toString()));
            return {};
        }
        const QString id = ctl({QStringLiteral("release"), QStringLiteral("upload"), *bundle})
                               .value(QStringLiteral("release"))
                               .toObject()
                               .value(QStringLiteral("id"))
                               .toString();
        return id;
    }

    // `otafleetctl simulate` in the background; stopped with SIGINT by stopSimulation().
    std::unique_ptr<QProcess> simulate(const QString& model, int agents,
                                       const QString& failureRate) {
        auto sim = std::make_unique<QProcess>();
        sim->start(
            QStringLiteral(OTAFLEET_BIN_DIR "/otafleetctl"),
            QStringList{QStringLiteral("simulate"), QStringLiteral("--agents"),
                        QString::number(agents), QStringLiteral("--model"), model,
                        QStringLiteral("--failure-rate"), failureRate, QStringLiteral("--pin-env"),
                        QString::fromLatin1(TestPki::kPinEnv), QStringLiteral("--work-dir"),
                        m_tmp.filePath(model), QStringLiteral("--interval"), QStringLiteral("2"),
                        QStringLiteral("--duration"), QStringLiteral("10m")} +
                serverArgs());
        return sim->waitForStarted() ? std::move(sim) : nullptr;
    }

    static void stopSimulation(QProcess& sim) {
        ::kill(pid_t(sim.processId()), SIGINT);
        sim.waitForFinished(30000);
    }

    int online(const QString& filter) {
        const QJsonObject page =
            ctl({QStringLiteral("fleet"), QStringLiteral("devices"), QStringLiteral("--filter"),
                 filter + QStringLiteral(" and online=true"), QStringLiteral("--page-size"),
                 QStringLiteral("1")});
        return page.value(QStringLiteral("total")).toInt(-1);
    }

    static bool waitFor(const std::function<bool()>& condition, int timeoutMs) {
        QDeadlineTimer deadline(timeoutMs);
        while (!deadline.hasExpired()) {
            if (condition())
                return true;
            QTest::qWait(500);
        }
        return condition();
    }

    qint64 startRollout(const QString& release, const QString& target, const QStringList& plan) {
        const QJsonObject created = ctl(
            QStringList{QStringLiteral("rollout"), QStringLiteral("create"),
                        QStringLiteral("--release"), release, QStringLiteral("--target"), target} +
            plan);
        const qint64 id = created.value(QStringLiteral("id")).toInteger();
        if (id > 0)
            ctl({QStringLiteral("rollout"), QStringLiteral("start"), QString::number(id)});
        return id;
    }

    QJsonObject status(qint64 id) {
        return ctl({QStringLiteral("rollout"), QStringLiteral("status"), QString::number(id)});
    }

    // How many devices of wave `wave` (0-based) of rollout `id` each tick offered, in tick order.
    QList<int> offerSteps(qint64 id, int wave) const {
        QList<int> steps;
        {
            QSqlDatabase db =
                QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("offer-steps"));
            db.setDatabaseName(m_server->databasePath());
            db.setConnectOptions(QStringLiteral("QSQLITE_OPEN_READONLY"));
            if (db.open()) {
                QSqlQuery q(db);
                q.prepare(
                    QStringLiteral("SELECT COUNT(*) FROM rollout_devices WHERE rollout_id = "
                                   "? AND wave = ? GROUP BY offered_ms ORDER BY offered_ms"));
                q.addBindValue(id);
                q.addBindValue(wave);
                if (q.exec()) {
                    while (q.next())
                        steps << q.value(0).toInt();
                }
            }
        }
        QSqlDatabase::removeDatabase(QStringLiteral("offer-steps"));
        return steps;
    }

    static int count(const QJsonObject& status, const char* state) {
        return status.value(QStringLiteral("counts"))
            .toObject()
            .value(QLatin1String(state))
            .toInt(-1);
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(QDir().mkpath(m_tmp.filePath(QStringLiteral("bundles"))));
        // A fixed port: a restarted server must be where the devices dial.
        const quint16 port = freeLoopbackPort();
        QVERIFY(port != 0);
        startServer([port](QString& text) {
            text.replace(QStringLiteral("listen = 127.0.0.1:0"),
                         QStringLiteral("listen = 127.0.0.1:%1").arg(port));
        });
    }

    void twoHundredDevicesInThreeWavesThroughAKill9() {
        constexpr int kDevices = 200;
        const QString release = uploadRelease(QStringLiteral("2.0.0"));
        QVERIFY(!release.isEmpty());
        auto sim = simulate(QStringLiteral("sim-a"), kDevices, QStringLiteral("0"));
        QVERIFY(sim);
        QVERIFY2(waitFor([&] { return online(QStringLiteral("model=sim-a")) == kDevices; }, 120000),
                 sim->readAllStandardError().constData());

        const qint64 id = startRollout(release, QStringLiteral("model=sim-a"),
                                       {QStringLiteral("--waves"), QStringLiteral("5%,30%,100%"),
                                        QStringLiteral("--soak"), QStringLiteral("1s")});
        QVERIFY(id > 0);
        // Into its second wave, then the server dies without a chance to save anything more.
        QVERIFY(waitFor([&] { return count(status(id), "succeeded") >= 20; }, 120000));
        m_server->kill();
        QTest::qWait(300);
        VERIFY_OK(m_server->start());
        QVERIFY2(waitFor(
                     [&] {
                         return status(id).value(QStringLiteral("state")).toString() ==
                                u"completed";
                     },
                     180000),
                 QJsonDocument(status(id)).toJson().constData());
        const QJsonObject done = status(id);
        QCOMPARE(done.value(QStringLiteral("total")).toInt(), kDevices);
        QCOMPARE(count(done, "succeeded"), kDevices);
        int sum = 0;
        for (const QJsonValue& v : done.value(QStringLiteral("counts")).toObject())
            sum += v.toInt();
        QCOMPARE(sum, kDevices);  // every device counted once
        QCOMPARE(done.value(QStringLiteral("waves")).toArray().size(), 3);
        // Paced: the last wave's devices by the tick that offered them (offered_ms), read from the
        // server's store; every step within the engine's bound, so several steps.
        const QList<int> steps = offerSteps(id, 2);
        int offered = 0;
        for (const int n : steps) {
            QVERIFY2(n <= 32, qPrintable(QStringLiteral("a step of %1 offers").arg(n)));
            offered += n;
        }
        QCOMPARE(offered, 133);  // 200 - 10 (5%) - 57 (30% of the other 190)
        QVERIFY2(steps.size() >= 5, qPrintable(QStringLiteral("%1 steps").arg(steps.size())));
        // What the devices themselves reported: all on the new version.
        const QJsonObject updated =
            ctl({QStringLiteral("fleet"), QStringLiteral("devices"), QStringLiteral("--filter"),
                 QStringLiteral("model=sim-a and version=2.0.0"), QStringLiteral("--page-size"),
                 QStringLiteral("1")});
        QCOMPARE(updated.value(QStringLiteral("total")).toInt(), kDevices);
        stopSimulation(*sim);
    }

    void halfFailingPausesInTheFirstWave() {
        constexpr int kDevices = 40;
        const QString release = uploadRelease(QStringLiteral("2.1.0"));
        QVERIFY(!release.isEmpty());
        auto sim = simulate(QStringLiteral("sim-b"), kDevices, QStringLiteral("0.5"));
        QVERIFY(sim);
        QVERIFY(waitFor([&] { return online(QStringLiteral("model=sim-b")) == kDevices; }, 90000));
        const qint64 id =
            startRollout(release, QStringLiteral("model=sim-b"),
                         {QStringLiteral("--waves"), QStringLiteral("25%,100%"),
                          QStringLiteral("--failure-threshold"), QStringLiteral("20%"),
                          QStringLiteral("--min-executed"), QStringLiteral("4")});
        QVERIFY(id > 0);
        QVERIFY(waitFor(
            [&] { return status(id).value(QStringLiteral("state")).toString() == u"paused"; },
            120000));
        const QJsonObject paused = status(id);
        QCOMPARE(paused.value(QStringLiteral("current_wave")).toInt(), 1);
        QVERIFY(!paused.value(QStringLiteral("pause_reason")).toString().isEmpty());
        // Wave 1 is 10 devices; the other 30 were never offered the release.
        QCOMPARE(count(paused, "pending"), kDevices - 10);
        QVERIFY(count(paused, "failed") + count(paused, "reverted") >= 2);
        stopSimulation(*sim);
    }

    void aRealAgentIsUpdatedByARollout() {
        auto agent = enrolledDialler(binDir(), *m_pki, m_tmp.filePath(QStringLiteral("real")),
                                     QStringLiteral("real"), m_server->address());
        QVERIFY(agent);
        const QString id = configValue(agent->configPath(), QStringLiteral("id"));
        VERIFY_OK(agent->start());
        QVERIFY2(waitFor([&] { return online(QStringLiteral("id=") + id) == 1; }, 60000),
                 agent->output().constData());
        const QString release = uploadRelease(QStringLiteral("1.1.0"));
        QVERIFY(!release.isEmpty());
        const qint64 rollout = startRollout(release, QStringLiteral("id=") + id,
                                            {QStringLiteral("--waves"), QStringLiteral("100%")});
        QVERIFY(rollout > 0);
        QVERIFY2(waitFor(
                     [&] {
                         return status(rollout).value(QStringLiteral("state")).toString() ==
                                u"completed";
                     },
                     120000),
                 agent->output().right(4000).constData());
        QCOMPARE(count(status(rollout), "succeeded"), 1);
        // The device itself, asked over its LAN service: running 1.1.0, committed.
        const ProcessRun info = otafleet::test::ctl(
            {"device", "info", "--target", agent->target(), "--pki", m_pki->pkiDir, "--json"});
        QVERIFY2(info.exitCode == 0, info.err.constData());
        QVERIFY2(info.out.contains("\"1.1.0\""), info.out.constData());
        QVERIFY(agent->isRunning());
    }
};

QTEST_GUILESS_MAIN(TestFleetRollout)
#include "tst_fleetrollout.moc"
