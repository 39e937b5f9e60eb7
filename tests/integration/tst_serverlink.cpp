// The agent's dial-out link (services/agent/ServerLink) against a real otafleetd on loopback: a
// real otafleet-agent process with [server] address appears online with its inventory and comes
// back by itself after the server restarts; `otafleetctl simulate` brings 50 devices online; a
// download of a real uploaded release resumes from the staged offset; an offer fed to the link
// runs the agent's real install and, after a simulated reboot, reports succeeded, reverted (the
// health check fails on the new version), skipped (a pre-check refuses) or failed (wrong hash).
#include "AgentProcess.h"
#include "CliRun.h"
#include "FleetTestSupport.h"
#include "ServerTestBase.h"
#include "TestBundles.h"

#include "agent/Agent.h"
#include "agent/AgentConfig.h"
#include "agent/ServerLink.h"
#include "common/AtomicFile.h"
#include "crypto/Sha256.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>

#include <csignal>
#include <mutex>

using namespace otafleet;
using namespace otafleet::test;

namespace {

// The progress states one link reported, in order.
struct Observed {
    std::mutex mutex;
    QStringList states;
    dpb::Progress last;
    void add(const dpb::Progress& p) {
        std::lock_guard lock(mutex);
        states << QString::fromStdString(p.state());
        last = p;
    }
    QStringList distinct() {
        std::lock_guard lock(mutex);
        QStringList out;
        for (const QString& s : states) {
            if (out.isEmpty() || out.last() != s)
                out << s;
        }
        return out;
    }
};

}  // namespace

class TestServerLink : public QObject, public ServerTestBase {
    Q_OBJECT

private:
    QString m_address;

    QString pinEnv() const { return QString::fromLatin1(TestPki::kPinEnv); }

    QStringList serverArgs() const {
        return {QStringLiteral("--server"), m_server->address(), QStringLiteral("--pki"),
                m_pki->pkiDir};
    }

    // The fleet's devices as `otafleetctl fleet devices --json` shows them, by id.
    QMap<QString, QJsonObject> fleetDevices() const {
        const ProcessRun run =
            otafleetctl(QStringList{QStringLiteral("fleet"), QStringLiteral("devices"),
                                    QStringLiteral("--page-size"), QStringLiteral("1000"),
                                    QStringLiteral("--json")} +
                        serverArgs());
        QMap<QString, QJsonObject> out;
        if (run.exitCode != 0)
            return out;
        const QJsonArray devices =
            QJsonDocument::fromJson(run.out).object().value(QStringLiteral("devices")).toArray();
        for (const QJsonValue& v : devices)
            out.insert(v.toObject().value(QStringLiteral("device_id")).toString(), v.toObject());
        return out;
    }

    bool waitOnline(const QString& id, bool online, int timeoutMs) const {
        QDeadlineTimer deadline(timeoutMs);
        while (!deadline.hasExpired()) {
            const auto devices = fleetDevices();
            if (devices.contains(id) &&
                devices.value(id).value(QStringLiteral("online")).toBool() == online)
                return true;
            QTest::qWait(300);
        }
        return false;
    }

    std::unique_ptr<AgentProcess> enrolledAgent(const QString& name) {
        return enrolledDialler(binDir(), *m_pki, m_tmp.filePath(name), name, m_server->address());
    }

    // The agent core of an enrolled agent directory, booted in this process.
    static std::unique_ptr<agent::Agent> bootCore(const agent::AgentConfig& config) {
        auto created = agent::Agent::create(config);
        if (!created || !(*created)->bootStage())
            return nullptr;
        return std::move(*created);
    }

    // The device reports its inventory over a brief session of its real link, so that a
    // rollout can target it; then the link goes away again.
    static bool registerDevice(agent::Agent& core, const agent::ServerLinkOptions& options) {
        agent::ServerLink link(core, options, [] {});
        link.start();
        QDeadlineTimer deadline(30000);
        while (!link.stats().online && !deadline.hasExpired())
            QTest::qWait(50);
        return link.stats().online;
    }

    // A rollout of `release` to device `id` alone, waited for until the server has offered it;
    // returns the offer id the server made ("ROLLOUT/DEVICE/1"), empty on failure.
    QString offerTo(const QString& id, const QString& release) {
        const Console admin = adminConsole();
        const qint64 rollout = rollOut(admin, release, QStringLiteral("id=%1").arg(id));
        if (rollout == 0 || !waitOffered(admin, rollout, 1, 20000))
            return {};
        return QStringLiteral("%1/%2/1").arg(rollout).arg(id);
    }

    QString uploadRelease(const QString& version, qint64 payloadSize, QString* bundlePath) {
        TestBundleSpec spec;
        spec.version = version;
        spec.payloadSize = payloadSize;
        auto bundle = makeSignedBundle(*m_pki, m_tmp.filePath(QStringLiteral("bundles")), spec);
        if (!bundle) {
            qWarning("%s", qPrintable(bundle.error().toString()));
            return {};
        }
        *bundlePath = *bundle;
        const ProcessRun run =
            otafleetctl(QStringList{QStringLiteral("release"), QStringLiteral("upload"), *bundle,
                                    QStringLiteral("--json")} +
                        serverArgs());
        if (run.exitCode != 0) {
            qWarning("%s", run.err.constData());
            return {};
        }
        const QString id = QJsonDocument::fromJson(run.out)
                               .object()
                               .value(QStringLiteral("release"))
                               .toObject()
                               .value(QStringLiteral("id"))
                               .toString();
        if (id.isEmpty())
            qWarning("release upload printed no id: %s", run.out.constData());
        return id;
    }

private Q_SLOTS:
    void initTestCase() {
        QDir().mkpath(m_tmp.filePath(QStringLiteral("bundles")));
        // A fixed port, so that a restarted server is found where the agents dial.
        const quint16 port = freeLoopbackPort();
        QVERIFY(port != 0);
        startServer([port](QString& text) {
            text.replace(QStringLiteral("listen = 127.0.0.1:0"),
                         QStringLiteral("listen = 127.0.0.1:%1").arg(port));
        });
        QCOMPARE(m_server->address(), QStringLiteral("127.0.0.1:%1").arg(port));
    }

    void agentDialsOutAndReconnects() {
        auto agent = enrolledAgent(QStringLiteral("dialler"));
        QVERIFY(agent);
        const QString id = configValue(agent->configPath(), QStringLiteral("id"));
        VERIFY_OK(agent->start());
        QVERIFY2(waitOnline(id, true, 30000), agent->output().constData());
        const QJsonObject device = fleetDevices().value(id);
        QCOMPARE(device.value(QStringLiteral("model")).toString(),
                 QStringLiteral("otafleet-devkit"));
        QCOMPARE(device.value(QStringLiteral("hardware")).toString(), QStringLiteral("rev-a"));
        QCOMPARE(device.value(QStringLiteral("version")).toString(), QStringLiteral("1.0.0"));
        QVERIFY(device.value(QStringLiteral("health_ok")).toBool());
        QVERIFY(!device.value(QStringLiteral("serial")).toString().isEmpty());
        QVERIFY(!device.value(QStringLiteral("agent_version")).toString().isEmpty());
        QCOMPARE(device.value(QStringLiteral("slots")).toArray().size(), 2);

        // The LAN service keeps serving beside the link.
        const ProcessRun info =
            ctl({"device", "info", "--target", agent->target(), "--pki", m_pki->pkiDir, "--json"});
        QVERIFY2(info.exitCode == 0, info.err.constData());

        // The server goes away and comes back on the same port: the agent reconnects by itself.
        m_server->stop();
        VERIFY_OK(m_server->start());
        QVERIFY2(waitOnline(id, true, 45000), agent->output().constData());
        QVERIFY(agent->output().contains("next attempt in"));
        // A second session, opened by the agent itself after the restart.
        QTRY_VERIFY_WITH_TIMEOUT(agent->output().count("session open with") >= 2, 45000);
        QVERIFY(agent->isRunning());
    }

    // A device without an identity enrols with its one-time token at its first start, then
    // dials the server with the certificate the station issued.
    void agentEnrolsWithItsTokenThenDials() {
        qputenv("OTAFLEET_ENROLL_TOKEN", "enrol-me-0815");
        QProcess station;
        station.setProgram(QStringLiteral(OTAFLEET_BIN_DIR "/otafleetctl"));
        station.setArguments(QStringList{QStringLiteral("pki"), QStringLiteral("station"),
                                         QStringLiteral("--pki"), m_pki->pkiDir,
                                         QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
                                         QStringLiteral("--pin-env"), pinEnv()});
        station.start();
        QVERIFY(station.waitForStarted());
        QString stationAddress;
        QByteArray err;
        const QRegularExpression listening(QStringLiteral("station listening on (\\S+)"));
        for (int i = 0; i < 150 && stationAddress.isEmpty(); ++i) {
            station.waitForReadyRead(100);
            err += station.readAllStandardError();
            stationAddress = listening.match(QString::fromUtf8(err)).captured(1);
        }
        QVERIFY2(!stationAddress.isEmpty(), err.constData());

        auto agent =
            AgentProcess::setUp(binDir(), m_tmp.filePath(QStringLiteral("newcomer")), m_pki->pkiDir,
                                QStringLiteral("newcomer"), QStringLiteral("rev-a"), pinEnv());
        VERIFY_OK(agent);
        const QString id = configValue((*agent)->configPath(), QStringLiteral("id"));
        const QString tokenFile = QDir((*agent)->dir()).filePath(QStringLiteral("enroll.token"));
        VERIFY_OK(writeFileAtomically(tokenFile, QByteArray("enrol-me-0815\n"), 0600));
        {
            QFile conf((*agent)->configPath());
            QVERIFY(conf.open(QIODevice::Append));
            conf.write(QStringLiteral("\n[server]\naddress = %1\nenroll_station = %2\n"
                                      "enroll_token_file = enroll.token\n")
                           .arg(m_server->address(), stationAddress)
                           .toUtf8());
        }
        VERIFY_OK((*agent)->start());
        QVERIFY2(waitOnline(id, true, 30000), (*agent)->output().constData());
        QVERIFY(!QFileInfo::exists(tokenFile));  // spent
        QFile conf((*agent)->configPath());
        QVERIFY(conf.open(QIODevice::ReadOnly));
        QVERIFY(conf.readAll().contains("[identity]"));  // written by the enrolment
        station.kill();
        station.waitForFinished();
    }

    void simulateBringsFiftyDevicesOnline() {
        QProcess sim;
        QStringList args{QStringLiteral("simulate"),
                         QStringLiteral("--agents"),
                         QStringLiteral("50"),
                         QStringLiteral("--pin-env"),
                         pinEnv(),
                         QStringLiteral("--interval"),
                         QStringLiteral("1"),
                         QStringLiteral("--duration"),
                         QStringLiteral("5m")};
        sim.start(QStringLiteral(OTAFLEET_BIN_DIR "/otafleetctl"), args + serverArgs());
        QVERIFY(sim.waitForStarted());
        QDeadlineTimer deadline(90000);
        int online = 0;
        while (!deadline.hasExpired() && online < 50) {
            QTest::qWait(500);
            online = 0;
            const auto devices = fleetDevices();
            for (auto it = devices.cbegin(); it != devices.cend(); ++it) {
                if (it.key().startsWith(u"sim-") &&
                    it.value().value(QStringLiteral("online")).toBool()) {
                    ++online;
                    QCOMPARE(it.value().value(QStringLiteral("model")).toString(),
                             QStringLiteral("sim-gw"));
                }
            }
        }
        QVERIFY2(online == 50, qPrintable(QStringLiteral("%1 online; simulate said: %2")
                                              .arg(online)
                                              .arg(QString::fromUtf8(sim.readAllStandardError()))));
        ::kill(pid_t(sim.processId()), SIGINT);
        QVERIFY(sim.waitForFinished(30000));
        QCOMPARE(sim.exitCode(), 0);
        const QByteArray out = sim.readAllStandardOutput();
        QVERIFY2(out.contains("devices=50 online=50"), out.constData());
    }

    void downloadResumesFromTheStagedOffset() {
        QString bundlePath;
        const QString release =
            uploadRelease(QStringLiteral("1.2.0"), 3 * 1024 * 1024, &bundlePath);
        QVERIFY(!release.isEmpty());
        const qint64 size = QFileInfo(bundlePath).size();

        auto dir = enrolledAgent(QStringLiteral("downloader"));
        QVERIFY(dir);
        auto config = agent::AgentConfig::load(dir->configPath());
        VERIFY_OK(config);
        auto core = bootCore(*config);
        QVERIFY(core);
        auto options = agent::serverLinkOptions(*config, dir->configPath());
        VERIFY_OK(options);
        auto stub = dpb::DeviceService::NewStub(agent::deviceChannel(*options));
        const QString transfer = QStringLiteral("resume-test");
        const QString id = config->deviceId;
        QVERIFY(registerDevice(*core, *options));

        // Not offered yet: the server refuses the download, says why and audits the refusal.
        const Console admin = adminConsole();
        const Status unoffered =
            agent::downloadRelease(*stub, *core, release, QStringLiteral("unoffered"), 10, {});
        QVERIFY(!unoffered);
        QCOMPARE(unoffered.error().code, QStringLiteral("agent.download-failed"));
        QVERIFY2(unoffered.error().message.contains(u"(server.not-offered)"),
                 qPrintable(unoffered.error().message));
        {
            grpc::ClientContext context;
            dpb::DownloadRequest request;
            request.set_release_id(release.toStdString());
            auto reader = stub->Download(&context, request);
            dpb::DownloadChunk chunk;
            QVERIFY(!reader->Read(&chunk));
            const grpc::Status status = reader->Finish();
            QCOMPARE(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
            QCOMPARE(status.error_details(), std::string("server.not-offered"));
            QVERIFY2(status.error_message().find("not offered to device") != std::string::npos,
                     status.error_message().c_str());
        }
        QTRY_VERIFY_WITH_TIMEOUT(auditEntries(admin, "device.download-refused").size() >= 2, 5000);
        const cpb::AuditEntry refusal = auditEntries(admin, "device.download-refused").last();
        QCOMPARE(QString::fromStdString(refusal.actor()), QStringLiteral("device:%1").arg(id));
        QVERIFY(QString::fromStdString(refusal.detail()).contains(release));

        // Offered by a rollout: served.
        QVERIFY(!offerTo(id, release).isEmpty());
        // First attempt: stopped after the first MiB, as a broken link would stop it.
        quint64 seen = 0;
        agent::DownloadControl control;
        control.cancelled = [&] { return seen >= 1024 * 1024; };
        const Status first = agent::downloadRelease(
            *stub, *core, release, transfer, quint64(size),
            [&](quint64 done, quint64) { seen = done; }, control);
        QVERIFY(!first);
        QCOMPARE(first.error().code, QStringLiteral("agent.download-cancelled"));
        auto staged = core->uploadProgress(transfer);
        VERIFY_OK(staged);
        QVERIFY(staged->received > 0 && staged->received < quint64(size));

        // Second attempt: the server sends from the staged offset on.
        QList<quint64> progress;
        VERIFY_OK(agent::downloadRelease(*stub, *core, release, transfer, quint64(size),
                                         [&](quint64 done, quint64) { progress << done; }));
        QVERIFY(!progress.isEmpty());
        QCOMPARE(progress.first(),
                 std::min<quint64>(staged->received + 1024 * 1024, quint64(size)));
        QCOMPARE(progress.last(), quint64(size));
        auto got = crypto::Sha256::hashFile(core->stagedBundlePath(transfer));
        auto want = crypto::Sha256::hashFile(bundlePath);
        VERIFY_OK(got);
        VERIFY_OK(want);
        QCOMPARE(*got, *want);

        // A release the server does not have is refused at once, not retried.
        const Status missing = agent::downloadRelease(*stub, *core, QStringLiteral("no-such"),
                                                      QStringLiteral("missing"), 10, {});
        QVERIFY(!missing);
        QCOMPARE(missing.error().code, QStringLiteral("agent.download-failed"));
    }

    void offerIsHandledAndSettledAfterReboot_data() {
        QTest::addColumn<QString>("prechecks");
        QTest::addColumn<bool>("healthFailsOnNewVersion");
        QTest::addColumn<bool>("corruptHash");
        QTest::addColumn<QString>("final");
        QTest::addColumn<QString>("runningAfter");

        QTest::newRow("succeeded") << "free>=2x,health" << false << false << "succeeded"
                                   << "1.1.0";
        QTest::newRow("reverted") << "" << true << false << "reverted"
                                  << "1.0.0";
        QTest::newRow("skipped") << "free>=1000000G" << false << false << "skipped"
                                 << "1.0.0";
        QTest::newRow("failed") << "" << false << true << "failed"
                                << "1.0.0";
    }

    void offerIsHandledAndSettledAfterReboot() {
        QFETCH(QString, prechecks);
        QFETCH(bool, healthFailsOnNewVersion);
        QFETCH(bool, corruptHash);
        QFETCH(QString, final);
        QFETCH(QString, runningAfter);

        static QString release;
        static QString bundlePath;
        if (release.isEmpty())
            release = uploadRelease(QStringLiteral("1.1.0"), 1536 * 1024, &bundlePath);
        QVERIFY(!release.isEmpty());
        auto sha = crypto::Sha256::hashFile(bundlePath);
        VERIFY_OK(sha);

        auto dir = enrolledAgent(
            QStringLiteral("offer-%1").arg(QString::fromLatin1(QTest::currentDataTag())));
        QVERIFY(dir);
        auto config = agent::AgentConfig::load(dir->configPath());
        VERIFY_OK(config);
        if (healthFailsOnNewVersion)
            config->healthCommand = QStringLiteral("sh -c \"test $OTAFLEET_VERSION = 1.0.0\"");
        auto options = agent::serverLinkOptions(*config, dir->configPath());
        VERIFY_OK(options);
        Observed observed;
        options->onProgress = [&observed](const dpb::Progress& p) { observed.add(p); };

        auto core = bootCore(*config);
        QVERIFY(core);
        // The server serves only an offered release: a rollout offers it to this device (whose
        // session is closed, so the offer is fed to the link here, under the server's id).
        QVERIFY(registerDevice(*core, *options));
        const QString offerId = offerTo(config->deviceId, release);
        QVERIFY(!offerId.isEmpty());
        observed.states.clear();
        std::atomic<bool> rebooted{false};
        auto link =
            std::make_unique<agent::ServerLink>(*core, *options, [&rebooted] { rebooted = true; });
        dpb::UpdateOffer offer;
        offer.set_offer_id(offerId.toStdString());
        offer.set_release_id(release.toStdString());
        offer.set_version("1.1.0");
        offer.set_size(quint64(QFileInfo(bundlePath).size()));
        offer.set_sha256(corruptHash ? std::string(64, 'a') : sha->toHex().toStdString());
        offer.set_prechecks(prechecks.toStdString());
        offer.set_rollout_id("r-1");
        offer.set_wave(1);
        link->handleOffer(offer);
        QVERIFY(link->waitForOffers(std::chrono::seconds(60)));

        if (final == u"skipped" || final == u"failed") {
            QVERIFY(!rebooted);
            QCOMPARE(observed.last.state(), final.toStdString());
            QVERIFY(!observed.last.error_code().empty());
            if (final == u"skipped") {
                QCOMPARE(observed.last.error_code(), std::string("precheck.free"));
                QCOMPARE(observed.distinct(), QStringList{QStringLiteral("skipped")});
            } else {
                QCOMPARE(observed.last.error_code(), std::string("agent.download-corrupted"));
            }
        } else {
            QVERIFY(rebooted);
            QCOMPARE(observed.distinct(),
                     (QStringList{QStringLiteral("downloading"), QStringLiteral("verifying"),
                                  QStringLiteral("installing"), QStringLiteral("rebooting")}));
            // The reboot: a new core on the same directory runs its boot stage, then a new link
            // settles the offer before it connects.
            link.reset();
            core.reset();
            core = bootCore(*config);
            QVERIFY(core);
            link = std::make_unique<agent::ServerLink>(*core, *options, [] {});
            link->start();
            QCOMPARE(observed.last.state(), final.toStdString());
            QCOMPARE(observed.last.offer_id(), offer.offer_id());
            if (final == u"reverted") {
                QCOMPARE(observed.last.error_code(), std::string("agent.health-check-failed"));
            }
            // Reported to the server once the session is open; then the record goes.
            const QString record =
                QDir(config->dataDir).filePath(QStringLiteral("server-offer.json"));
            QTRY_VERIFY_WITH_TIMEOUT(!QFileInfo::exists(record), 20000);
        }
        const agent::AgentReport report = core->report();
        QVERIFY(!report.trial);
        QString running;
        for (const agent::SlotReport& s : report.slots) {
            if (s.name == report.activeSlot && s.content)
                running = s.content->version;
        }
        QCOMPARE(running, runningAfter);
        link->stop();
    }
};

QTEST_GUILESS_MAIN(TestServerLink)
#include "tst_serverlink.moc"
