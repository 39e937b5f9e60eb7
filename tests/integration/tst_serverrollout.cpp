// Staged rollouts on a real otafleetd (TLS on loopback, PKI on a SoftHSM token, a signed release
// uploaded with otafleetctl), driven by test devices that speak DeviceService over mutual TLS
// with device certificates from the PKI (RolloutTestDevice.h):
//   - a three-wave rollout created, started and watched with otafleetctl completes;
//   - with half of the first wave failing the rollout pauses itself in wave 1, says why, and no
//     device outside wave 1 was offered anything;
//   - kill -9 of otafleetd mid-rollout, restart: it completes, every device counted once;
//   - approval: a production rollout waits for an approver who is not its author, emergency
//     included; devices offline when offered get the offer when they connect;
//   - a revoked release pauses its rollout and cannot be resumed;
//   - with --late-joiners a device that matches the target later is picked up.
#include "CliRun.h"
#include "RolloutTestDevice.h"
#include "ServerTestBase.h"
#include "TestBundles.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QThread>

#include <functional>

using namespace otafleet;
using namespace otafleet::test;

namespace {

bool waitFor(const std::function<bool()>& condition, int timeoutMs) {
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < timeoutMs) {
        if (condition())
            return true;
        QThread::msleep(50);
    }
    return condition();
}

QJsonObject jsonOf(const QByteArray& bytes) {
    return QJsonDocument::fromJson(bytes).object();
}

}  // namespace

class TestServerRollout : public QObject, public ServerTestBase {
    Q_OBJECT

private:
    Console m_admin;
    Console m_bob;  // approver
    QString m_release;
    QString m_bundleDir;
    std::vector<std::unique_ptr<RolloutTestDevice>> m_devices;

    QStringList asAdmin() const {
        return {QStringLiteral("--server"), m_server->address(), QStringLiteral("--pki"),
                m_pki->pkiDir};
    }
    QStringList as(const QString& user) const {
        return {QStringLiteral("--server"),
                m_server->address(),
                QStringLiteral("--ca"),
                QDir(m_pki->pkiDir).filePath(QStringLiteral("root-ca.pem")),
                QStringLiteral("--user"),
                user,
                QStringLiteral("--password-env"),
                QStringLiteral("OTAFLEET_TEST_PASSWORD_%1").arg(user.toUpper())};
    }

    // A device channel that reconnects quickly after the server comes back.
    std::shared_ptr<grpc::Channel> deviceChannel(const QString& deviceId) const {
        auto identity = m_pki->pki.issueDeviceIdentity(deviceId, m_pki->pinProvider());
        if (!identity)
            return nullptr;
        grpc::SslCredentialsOptions tls;
        tls.pem_root_certs = readText(QDir(m_pki->pkiDir).filePath(QStringLiteral("root-ca.pem")));
        tls.pem_cert_chain = identity->certificateChainPem.toStdString();
        tls.pem_private_key = identity->privateKeyPem.toStdString();
        grpc::ChannelArguments args;
        args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
        args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
        args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 300);
        return grpc::CreateCustomChannel(m_server->address().toStdString(),
                                         grpc::SslCredentials(tls), args);
    }

    // `count` devices "PREFIX-00".. of `model`; those `fails` names fail every install.
    QList<RolloutTestDevice*> addDevices(const QString& prefix, const QString& model, int count,
                                         const std::function<bool(int)>& fails = {},
                                         int stepMs = 30, bool connect = true) {
        QStringList ids;
        for (int i = 0; i < count; ++i)
            ids << QStringLiteral("%1-%2").arg(prefix).arg(i, 2, 10, QLatin1Char('0'));
        return addDevicesNamed(ids, model, fails, stepMs, connect);
    }

    QList<RolloutTestDevice*> addDevicesNamed(const QStringList& ids, const QString& model,
                                              const std::function<bool(int)>& fails = {},
                                              int stepMs = 30, bool connect = true) {
        QList<RolloutTestDevice*> out;
        for (int i = 0; i < ids.size(); ++i) {
            const QString& id = ids.at(i);
            auto channel = deviceChannel(id);
            if (!channel)
                return {};
            RolloutTestDevice::Behaviour behaviour;
            behaviour.fail = fails && fails(i);
            behaviour.stepMs = stepMs;
            auto device = std::make_unique<RolloutTestDevice>(id, model, QStringLiteral("1.0.0"),
                                                              channel, behaviour);
            // Known to the server before the rollout resolves its target.
            grpc::ClientContext context;
            context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
            dpb::InventoryAck ack;
            if (!dpb::DeviceService::NewStub(channel)
                     ->ReportInventory(&context, device->inventory(), &ack)
                     .ok())
                return {};
            if (connect)
                device->start();
            out << device.get();
            m_devices.push_back(std::move(device));
        }
        if (connect) {
            const bool all = waitFor(
                [&] {
                    return std::all_of(out.begin(), out.end(),
                                       [](RolloutTestDevice* d) { return d->connected(); });
                },
                10000);
            if (!all)
                return {};
        }
        return out;
    }

    cpb::Rollout status(qint64 id) {
        cpb::RolloutRequest r;
        r.set_id(id);
        cpb::Rollout reply;
        (void)m_admin.stub->GetRollout(m_admin.context().get(), r, &reply);
        return reply;
    }
    static quint64 count(const cpb::Rollout& r, const char* state) {
        const auto it = r.counts().find(state);
        return it == r.counts().end() ? 0 : it->second;
    }
    bool waitState(qint64 id, const std::string& state, int timeoutMs) {
        return waitFor([&] { return status(id).state() == state; }, timeoutMs);
    }

    QList<cpb::AuditEntry> audit() {
        QList<cpb::AuditEntry> entries;
        qint64 after = 0;
        for (;;) {
            cpb::ListAuditRequest r;
            r.set_after_id(after);
            r.set_page_size(1000);
            cpb::AuditPage page;
            if (!m_admin.stub->ListAudit(m_admin.context().get(), r, &page).ok())
                break;
            for (const auto& e : page.entries()) {
                entries.append(e);
                after = e.id();
            }
            if (!page.more())
                break;
        }
        return entries;
    }
    int auditCount(const std::string& action, const std::string& subject) {
        int n = 0;
        for (const auto& e : audit())
            n += (e.action() == action && e.subject() == subject) ? 1 : 0;
        return n;
    }

    qint64 createByCli(const QStringList& options, const QStringList& who) {
        auto created = otafleetctl(QStringList{QStringLiteral("rollout"), QStringLiteral("create"),
                                               QStringLiteral("--release"), m_release,
                                               QStringLiteral("--json")} +
                                   options + who);
        if (created.exitCode != 0) {
            qWarning("rollout create failed: %s", created.err.constData());
            return 0;
        }
        return jsonOf(created.out).value(QLatin1String("id")).toInteger();
    }

    void addUser(const char* name, cpb::Role role) {
        cpb::AddUserRequest r;
        r.set_name(name);
        r.set_role(role);
        r.set_password(std::string("password-of-") + name);
        cpb::User user;
        QVERIFY(m_admin.stub->AddUser(m_admin.context().get(), r, &user).ok());
        qputenv(qPrintable(QStringLiteral("OTAFLEET_TEST_PASSWORD_%1")
                               .arg(QString::fromLatin1(name).toUpper())),
                QByteArray("password-of-") + name);
    }

private Q_SLOTS:
    void initTestCase() {
        startServer();
        if (QTest::currentTestFailed())
            return;
        // Keep the port the kernel chose, so devices find the server again after a restart.
        m_server->stop();
        QFile conf(m_server->configPath());
        QVERIFY(conf.open(QIODevice::ReadOnly));
        QString text = QString::fromUtf8(conf.readAll());
        conf.close();
        QVERIFY(text.contains(QStringLiteral("127.0.0.1:0")));
        text.replace(QStringLiteral("127.0.0.1:0"), m_server->address());
        QVERIFY(conf.open(QIODevice::WriteOnly | QIODevice::Truncate));
        conf.write(text.toUtf8());
        conf.close();
        VERIFY_OK(m_server->start());

        m_admin = adminConsole();
        addUser("alice", cpb::ROLE_RELEASE_MANAGER);
        addUser("bob", cpb::ROLE_APPROVER);
        m_bob = anonymousConsole();
        QVERIFY(login(m_bob, "bob", "password-of-bob").ok());

        m_bundleDir = m_tmp.filePath(QStringLiteral("bundles"));
        QVERIFY(QDir().mkpath(m_bundleDir));
        TestBundleSpec spec;
        spec.version = QStringLiteral("2.0.0");
        spec.payloadSize = 48 * 1024;
        auto bundle = makeSignedBundle(*m_pki, m_bundleDir, spec);
        VERIFY_OK(bundle);
        auto uploaded = otafleetctl(QStringList{QStringLiteral("release"), QStringLiteral("upload"),
                                                *bundle, QStringLiteral("--json")} +
                                    as(QStringLiteral("alice")));
        QVERIFY2(uploaded.exitCode == 0, uploaded.err.constData());
        m_release = jsonOf(uploaded.out)
                        .value(QLatin1String("release"))
                        .toObject()
                        .value(QLatin1String("id"))
                        .toString();
        QCOMPARE(m_release.size(), 64);
    }

    void threeWavesComplete() {
        const auto devices = addDevices(QStringLiteral("a"), QStringLiteral("gw-a"), 10);
        QCOMPARE(devices.size(), 10);
        const qint64 id = createByCli(
            {QStringLiteral("--target"), QStringLiteral("model=gw-a"), QStringLiteral("--waves"),
             QStringLiteral("10%,50%,100%"), QStringLiteral("--soak"), QStringLiteral("1s")},
            as(QStringLiteral("alice")));
        QVERIFY(id > 0);
        auto started = otafleetctl(QStringList{QStringLiteral("rollout"), QStringLiteral("start"),
                                               QString::number(id), QStringLiteral("--json")} +
                                   as(QStringLiteral("alice")));
        QVERIFY2(started.exitCode == 0, started.err.constData());
        QCOMPARE(jsonOf(started.out).value(QLatin1String("state")).toString(),
                 QStringLiteral("scheduled"));
        // watch follows it to the end: one line per change when not on a terminal, exit 0.
        auto watched = otafleetctl(QStringList{QStringLiteral("rollout"), QStringLiteral("watch"),
                                               QString::number(id), QStringLiteral("--interval"),
                                               QStringLiteral("0.2")} +
                                   asAdmin());
        QVERIFY2(watched.exitCode == 0, watched.err.constData());
        QVERIFY(watched.out.contains("completed"));
        QVERIFY(watched.out.count('\n') >= 2);

        auto shown = otafleetctl(QStringList{QStringLiteral("rollout"), QStringLiteral("status"),
                                             QString::number(id), QStringLiteral("--json")} +
                                 as(QStringLiteral("alice")));
        QVERIFY2(shown.exitCode == 0, shown.err.constData());
        const QJsonObject s = jsonOf(shown.out);
        QCOMPARE(s.value(QLatin1String("state")).toString(), QStringLiteral("completed"));
        QCOMPARE(s.value(QLatin1String("current_wave")).toInt(), 3);
        QCOMPARE(s.value(QLatin1String("pause_reason")).toString(), QString());
        const QJsonArray waves = s.value(QLatin1String("waves")).toArray();
        QCOMPARE(waves.size(), 3);
        QCOMPARE(waves.at(0).toObject().value(QLatin1String("size")).toInt(), 1);
        int sized = 0;
        for (const auto& w : waves) {
            QCOMPARE(w.toObject().value(QLatin1String("state")).toString(),
                     QStringLiteral("passed"));
            sized += w.toObject().value(QLatin1String("size")).toInt();
        }
        QCOMPARE(sized, 10);
        const QJsonObject counts = s.value(QLatin1String("counts")).toObject();
        QCOMPARE(counts.value(QLatin1String("succeeded")).toInt(), 10);
        QCOMPARE(counts.value(QLatin1String("pending")).toInt(), 0);
        QCOMPARE(counts.value(QLatin1String("failed")).toInt(), 0);
        QCOMPARE(counts.size(), 11);
        for (RolloutTestDevice* d : devices) {
            QCOMPARE(d->version(), QStringLiteral("2.0.0"));
            QCOMPARE(d->offersOf(id), 1);
            QCOMPARE(d->installs(), 1);
        }
        // The devices' new version reached the fleet view.
        auto fleet = otafleetctl(QStringList{QStringLiteral("fleet"), QStringLiteral("devices"),
                                             QStringLiteral("--filter"),
                                             QStringLiteral("model=gw-a and version=2.0.0"),
                                             QStringLiteral("--json")} +
                                 asAdmin());
        QCOMPARE(jsonOf(fleet.out).value(QLatin1String("total")).toInt(), 10);
        auto listed = otafleetctl(QStringList{QStringLiteral("rollout"), QStringLiteral("list"),
                                              QStringLiteral("--json")} +
                                  asAdmin());
        QVERIFY2(listed.exitCode == 0, listed.err.constData());
        const QJsonArray rollouts = jsonOf(listed.out).value(QLatin1String("rollouts")).toArray();
        QVERIFY(std::any_of(rollouts.begin(), rollouts.end(), [id](const QJsonValue& v) {
            return v.toObject().value(QLatin1String("id")).toInteger() == id &&
                   v.toObject().value(QLatin1String("state")).toString() == u"completed";
        }));
        const std::string subject = "rollout:" + std::to_string(id);
        QCOMPARE(auditCount("rollout.create", subject), 1);
        QCOMPARE(auditCount("rollout.start", subject), 1);
        QCOMPARE(auditCount("rollout.complete", subject), 1);
    }

    void failingFirstWavePausesItself() {
        // Wave 1 is b-00..b-09 (target order is device id order); every second one fails.
        const auto devices = addDevices(QStringLiteral("b"), QStringLiteral("gw-b"), 20,
                                        [](int i) { return i < 10 && i % 2 == 0; });
        QCOMPARE(devices.size(), 20);
        const qint64 id = createByCli(
            {QStringLiteral("--target"), QStringLiteral("model=gw-b"), QStringLiteral("--waves"),
             QStringLiteral("50%,100%"), QStringLiteral("--failure-threshold"),
             QStringLiteral("20%"), QStringLiteral("--min-executed"), QStringLiteral("4")},
            as(QStringLiteral("alice")));
        QVERIFY(id > 0);
        auto started = otafleetctl(
            QStringList{QStringLiteral("rollout"), QStringLiteral("start"), QString::number(id)} +
            as(QStringLiteral("alice")));
        QVERIFY2(started.exitCode == 0, started.err.constData());
        QVERIFY(waitState(id, "paused", 20000));
        // Devices of wave 1 that held an offer may still finish; nothing new starts.
        QThread::msleep(1000);
        const cpb::Rollout r = status(id);
        QCOMPARE(r.state(), std::string("paused"));
        QCOMPARE(r.current_wave(), 1U);
        QVERIFY2(!r.pause_reason().empty(), r.pause_reason().c_str());
        QVERIFY(count(r, "failed") >= 1);
        for (int i = 0; i < 20; ++i) {
            const int offers = devices.at(i)->offersOf(id);
            if (i < 10)
                QVERIFY(offers <= 1);
            else
                QVERIFY2(offers == 0, qPrintable(devices.at(i)->offers().join(u',')));
        }
        QCOMPARE(auditCount("rollout.auto-pause", "rollout:" + std::to_string(id)), 1);
        // watch of a paused rollout ends at once, exit 1, and says why.
        auto watched = otafleetctl(
            QStringList{QStringLiteral("rollout"), QStringLiteral("watch"), QString::number(id)} +
            asAdmin());
        QCOMPARE(watched.exitCode, 1);
        QVERIFY(watched.err.contains("rollout.paused"));
        auto aborted = otafleetctl(QStringList{QStringLiteral("rollout"), QStringLiteral("abort"),
                                               QString::number(id), QStringLiteral("--json")} +
                                   as(QStringLiteral("alice")));
        QVERIFY2(aborted.exitCode == 0, aborted.err.constData());
        QCOMPARE(jsonOf(aborted.out).value(QLatin1String("state")).toString(),
                 QStringLiteral("aborted"));
    }

    void killNineMidRolloutResumesExactly() {
        const auto devices = addDevices(QStringLiteral("c"), QStringLiteral("gw-c"), 12, {}, 120);
        QCOMPARE(devices.size(), 12);
        const qint64 id = createByCli({QStringLiteral("--target"), QStringLiteral("model=gw-c"),
                                       QStringLiteral("--waves"), QStringLiteral("25%,50%,100%")},
                                      as(QStringLiteral("alice")));
        QVERIFY(id > 0);
        auto started = otafleetctl(
            QStringList{QStringLiteral("rollout"), QStringLiteral("start"), QString::number(id)} +
            as(QStringLiteral("alice")));
        QVERIFY2(started.exitCode == 0, started.err.constData());
        QVERIFY(waitFor([&] { return count(status(id), "succeeded") >= 3; }, 20000));
        const cpb::Rollout before = status(id);
        QVERIFY2(before.state() == "running", before.state().c_str());
        m_server->kill();
        QThread::msleep(300);
        VERIFY_OK(m_server->start());
        m_admin = adminConsole();
        m_bob = anonymousConsole();  // tokens do not outlive the server
        QVERIFY(login(m_bob, "bob", "password-of-bob").ok());
        QVERIFY(waitState(id, "completed", 30000));
        const cpb::Rollout after = status(id);
        QCOMPARE(after.total(), 12U);
        QCOMPARE(count(after, "succeeded"), 12U);
        quint64 sum = 0;
        for (const auto& [state, n] : after.counts())
            sum += n;
        QCOMPARE(sum, 12U);
        // Each device was counted once: one audited success, one offer, one install. A device's
        // final state is audited with the save that counts it, at the driver's next tick.
        const auto succeededEntries = [&] {
            int n = 0;
            for (const auto& e : audit())
                n += e.action() == "device.update-succeeded" &&
                     e.detail().starts_with("offer " + std::to_string(id) + "/");
            return n;
        };
        QVERIFY(waitFor([&] { return succeededEntries() >= 12; }, 5000));
        const auto entries = audit();
        for (RolloutTestDevice* d : devices) {
            const std::string subject = "device:" + d->id().toStdString();
            const auto successes =
                std::count_if(entries.begin(), entries.end(), [&](const auto& e) {
                    return e.subject() == subject && e.action() == "device.update-succeeded";
                });
            QCOMPARE(successes, 1);
            QCOMPARE(d->offersOf(id), 1);
            QCOMPARE(d->installs(), 1);
            QCOMPARE(d->version(), QStringLiteral("2.0.0"));
        }
    }

    void approvalByAnotherUser() {
        // Offline when the rollout offers: they get the offer when they connect.
        const auto devices =
            addDevices(QStringLiteral("d"), QStringLiteral("gw-d"), 3, {}, 30, false);
        QCOMPARE(devices.size(), 3);
        cpb::CreateRolloutRequest create;
        create.set_release_id(m_release.toStdString());
        create.set_target("model=gw-d");
        create.mutable_plan()->set_waves("100%");
        create.mutable_plan()->set_production(true);
        cpb::Rollout r;
        QVERIFY(m_admin.stub->CreateRollout(m_admin.context().get(), create, &r).ok());
        const qint64 id = r.id();
        QVERIFY(r.production());
        QCOMPARE(r.state(), std::string("draft"));
        cpb::RolloutRequest byId;
        byId.set_id(id);
        const std::string subject = "rollout:" + std::to_string(id);
        // Its author may not approve it, even as admin; the refusal is audited.
        grpc::Status refused = m_admin.stub->ApproveRollout(m_admin.context().get(), byId, &r);
        QCOMPARE(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
        QCOMPARE(refused.error_details(), std::string("rollout.self-approval"));
        QCOMPARE(auditCount("denied:rollout.approve", subject), 1);
        // A release manager may not approve at all.
        Console alice = anonymousConsole();
        QVERIFY(login(alice, "alice", "password-of-alice").ok());
        refused = alice.stub->ApproveRollout(alice.context().get(), byId, &r);
        QCOMPARE(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED);
        QCOMPARE(auditCount("denied:rollout.approve", subject), 2);
        // Nor may an approver create one.
        refused = m_bob.stub->CreateRollout(m_bob.context().get(), create, &r);
        QCOMPARE(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED);
        // Started without approval it waits; the approver's approval schedules it.
        QVERIFY(m_admin.stub->StartRollout(m_admin.context().get(), byId, &r).ok());
        QCOMPARE(r.state(), std::string("awaiting_approval"));
        QThread::msleep(500);
        QCOMPARE(status(id).state(), std::string("awaiting_approval"));
        QVERIFY(m_bob.stub->ApproveRollout(m_bob.context().get(), byId, &r).ok());
        QCOMPARE(r.approved_by(), std::string("bob"));
        QCOMPARE(auditCount("rollout.approve", subject), 1);
        QVERIFY(waitFor([&] { return count(status(id), "offered") == 3; }, 10000));
        QCOMPARE(devices.at(0)->offers().size(), 0);
        devices.at(0)->start();
        QVERIFY(waitFor([&] { return count(status(id), "succeeded") == 1; }, 10000));
        QCOMPARE(devices.at(0)->offersOf(id), 1);
        QCOMPARE(devices.at(0)->version(), QStringLiteral("2.0.0"));

        // An emergency rollout skips soak, never approval.
        const qint64 emergency =
            createByCli({QStringLiteral("--target"), QStringLiteral("model=gw-d"),
                         QStringLiteral("--waves"), QStringLiteral("50%,100%"),
                         QStringLiteral("--production"), QStringLiteral("--emergency")},
                        as(QStringLiteral("alice")));
        QVERIFY(emergency > 0);
        auto started =
            otafleetctl(QStringList{QStringLiteral("rollout"), QStringLiteral("start"),
                                    QString::number(emergency), QStringLiteral("--json")} +
                        as(QStringLiteral("alice")));
        QVERIFY2(started.exitCode == 0, started.err.constData());
        QCOMPARE(jsonOf(started.out).value(QLatin1String("state")).toString(),
                 QStringLiteral("awaiting_approval"));
        auto self = otafleetctl(QStringList{QStringLiteral("rollout"), QStringLiteral("approve"),
                                            QString::number(emergency)} +
                                as(QStringLiteral("alice")));
        QCOMPARE(self.exitCode, 1);
        QVERIFY(self.err.contains("server.permission-denied"));
        auto approved =
            otafleetctl(QStringList{QStringLiteral("rollout"), QStringLiteral("approve"),
                                    QString::number(emergency), QStringLiteral("--json")} +
                        as(QStringLiteral("bob")));
        QVERIFY2(approved.exitCode == 0, approved.err.constData());
        QCOMPARE(jsonOf(approved.out).value(QLatin1String("approved_by")).toString(),
                 QStringLiteral("bob"));
        QVERIFY(m_admin.stub->AbortRollout(m_admin.context().get(), byId, &r).ok());
        byId.set_id(emergency);
        QVERIFY(m_admin.stub->AbortRollout(m_admin.context().get(), byId, &r).ok());
    }

    void revokedReleaseStopsOffers() {
        TestBundleSpec spec;
        spec.version = QStringLiteral("2.1.0");
        spec.payloadSize = 16 * 1024;
        auto bundle = makeSignedBundle(*m_pki, m_bundleDir, spec);
        VERIFY_OK(bundle);
        auto uploaded = otafleetctl(QStringList{QStringLiteral("release"), QStringLiteral("upload"),
                                                *bundle, QStringLiteral("--json")} +
                                    asAdmin());
        QVERIFY2(uploaded.exitCode == 0, uploaded.err.constData());
        const QString release = jsonOf(uploaded.out)
                                    .value(QLatin1String("release"))
                                    .toObject()
                                    .value(QLatin1String("id"))
                                    .toString();
        const auto devices =
            addDevices(QStringLiteral("e"), QStringLiteral("gw-e"), 2, {}, 30, false);
        QCOMPARE(devices.size(), 2);
        auto created = otafleetctl(
            QStringList{QStringLiteral("rollout"), QStringLiteral("create"),
                        QStringLiteral("--release"), release, QStringLiteral("--target"),
                        QStringLiteral("model=gw-e"), QStringLiteral("--waves"),
                        QStringLiteral("1,100%"), QStringLiteral("--soak"), QStringLiteral("1h"),
                        QStringLiteral("--json")} +
            as(QStringLiteral("alice")));
        QVERIFY2(created.exitCode == 0, created.err.constData());
        const qint64 id = jsonOf(created.out).value(QLatin1String("id")).toInteger();
        auto started = otafleetctl(
            QStringList{QStringLiteral("rollout"), QStringLiteral("start"), QString::number(id)} +
            as(QStringLiteral("alice")));
        QVERIFY2(started.exitCode == 0, started.err.constData());
        QVERIFY(waitFor([&] { return count(status(id), "offered") == 1; }, 10000));
        auto revoked = otafleetctl(
            QStringList{QStringLiteral("release"), QStringLiteral("revoke"), release} + asAdmin());
        QVERIFY2(revoked.exitCode == 0, revoked.err.constData());
        QVERIFY(waitState(id, "paused", 10000));
        QVERIFY(status(id).pause_reason().find("revoked") != std::string::npos);
        QCOMPARE(auditCount("rollout.auto-pause", "rollout:" + std::to_string(id)), 1);
        // The device that held the offer connects: the revoked release is not offered again.
        for (RolloutTestDevice* d : devices)
            d->start();
        QThread::msleep(800);
        for (RolloutTestDevice* d : devices)
            QCOMPARE(d->offersOf(id), 0);
        auto resumed = otafleetctl(
            QStringList{QStringLiteral("rollout"), QStringLiteral("resume"), QString::number(id)} +
            as(QStringLiteral("alice")));
        QCOMPARE(resumed.exitCode, 1);
        QVERIFY(resumed.err.contains("server.release-revoked"));
        // A rollout of a revoked release cannot be created either.
        auto again =
            otafleetctl(QStringList{QStringLiteral("rollout"), QStringLiteral("create"),
                                    QStringLiteral("--release"), release,
                                    QStringLiteral("--target"), QStringLiteral("model=gw-e"),
                                    QStringLiteral("--waves"), QStringLiteral("100%")} +
                        as(QStringLiteral("alice")));
        QCOMPARE(again.exitCode, 1);
        QVERIFY(again.err.contains("server.release-revoked"));
    }

    // A device that matches the target after the rollout started joins its last wave.
    void lateJoinerIsPickedUp() {
        const auto first = addDevices(QStringLiteral("f"), QStringLiteral("gw-f"), 1, {}, 1000);
        QCOMPARE(first.size(), 1);
        const qint64 id = createByCli(
            {QStringLiteral("--target"), QStringLiteral("model=gw-f"), QStringLiteral("--waves"),
             QStringLiteral("100%"), QStringLiteral("--late-joiners")},
            as(QStringLiteral("alice")));
        QVERIFY(id > 0);
        cpb::RolloutRequest byId;
        byId.set_id(id);
        cpb::Rollout r;
        QVERIFY(m_admin.stub->StartRollout(m_admin.context().get(), byId, &r).ok());
        QCOMPARE(r.total(), 1U);
        QVERIFY(waitFor([&] { return first.at(0)->offersOf(id) == 1; }, 10000));
        // Joins while f-00 still installs (4 s), so the rollout is still running.
        const auto joiner = addDevicesNamed({QStringLiteral("g-00")}, QStringLiteral("gw-f"));
        QCOMPARE(joiner.size(), 1);
        QVERIFY(waitFor([&] { return status(id).total() == 2; }, 5000));
        QVERIFY(waitState(id, "completed", 20000));
        const cpb::Rollout done = status(id);
        QCOMPARE(count(done, "succeeded"), 2U);
        QCOMPARE(joiner.at(0)->offersOf(id), 1);
        QCOMPARE(joiner.at(0)->version(), QStringLiteral("2.0.0"));
    }

    void badPlansAndTargets() {
        const auto bad = [&](const QStringList& options, const char* code) {
            auto run = otafleetctl(QStringList{QStringLiteral("rollout"), QStringLiteral("create"),
                                               QStringLiteral("--release"), m_release} +
                                   options + as(QStringLiteral("alice")));
            QVERIFY2(run.exitCode == 1 && run.err.contains(code),
                     (options.join(u' ').toUtf8() + ": " + run.err).constData());
        };
        bad({QStringLiteral("--target"), QStringLiteral("model=gw-a"), QStringLiteral("--waves"),
             QStringLiteral("150%")},
            "plan.");
        bad({QStringLiteral("--target"), QStringLiteral("model=="), QStringLiteral("--waves"),
             QStringLiteral("100%")},
            "filter.");
        bad({QStringLiteral("--target"), QStringLiteral("model=nothing-like-it"),
             QStringLiteral("--waves"), QStringLiteral("100%")},
            "server.no-targets");
        bad({QStringLiteral("--target"), QStringLiteral("model=gw-a"), QStringLiteral("--waves"),
             QStringLiteral("100%"), QStringLiteral("--ramp"), QStringLiteral("2")},
            "plan.");
        auto usage = otafleetctl(QStringList{QStringLiteral("rollout"), QStringLiteral("status"),
                                             QStringLiteral("not-a-number")} +
                                 asAdmin());
        QCOMPARE(usage.exitCode, 2);
        auto missing = otafleetctl(QStringList{QStringLiteral("rollout"), QStringLiteral("status"),
                                               QStringLiteral("999999")} +
                                   asAdmin());
        QCOMPARE(missing.exitCode, 1);
        QVERIFY(missing.err.contains("server.unknown-rollout"));
    }

    void cleanupTestCase() {
        for (auto& d : m_devices)
            d->requestStop();
        for (auto& d : m_devices)
            d->stop();
        if (m_server)
            m_server->stop();
    }
};

QTEST_GUILESS_MAIN(TestServerRollout)
#include "tst_serverrollout.moc"
