// The console's fleet of an otafleetd (fleet::RemoteFleet) against a real otafleetd on loopback:
// devices that dialled in appear with their inventory, the main window shows the connection,
// a stopped server is reconnected by itself with the mirror kept and the ids stable, a password
// user signs in (a wrong password is refused with the server's code, and not retried), direct
// device operations are refused with fleet.server-managed and a reason.
#include "FleetTestSupport.h"
#include "ServerTestBase.h"

#include "fleet/FleetSummary.h"
#include "fleet/RemoteFleet.h"
#include "ui/MainWindow.h"

#include <QAction>
#include <QLabel>
#include <QSignalSpy>
#include <QTest>

using namespace otafleet;
using namespace otafleet::test;

namespace {

fleet::RemoteFleetOptions quickOptions() {
    fleet::RemoteFleetOptions o;
    o.pollInterval = std::chrono::milliseconds(200);
    o.backoffInitial = std::chrono::milliseconds(100);
    o.backoffMax = std::chrono::milliseconds(400);
    o.callDeadline = std::chrono::seconds(5);
    return o;
}

// With OTAFLEET_GRAB_DIR set, the window as a person sees it, for a look (not compared).
void grab(QWidget& window, const char* name) {
    const QString dir = qEnvironmentVariable("OTAFLEET_GRAB_DIR");
    if (dir.isEmpty())
        return;
    QTest::qWait(50);  // the status bar lays out its grown label
    window.grab().save(QDir(dir).filePath(QLatin1String(name)));
}

std::optional<fleet::FleetDevice> byServerId(const fleet::RemoteFleet& f, const QString& id) {
    for (const fleet::FleetDevice& d : f.devices()) {
        if (d.snapshot && d.snapshot->deviceId == id)
            return d;
    }
    return std::nullopt;
}

}  // namespace

class TestRemoteFleet : public QObject, public ServerTestBase {
    Q_OBJECT

    // One session of a device: its inventory, then a clean close.
    void reportInventory(const QString& deviceId, const QString& model, const QString& version) {
        auto stub = deviceStub(deviceId);
        QVERIFY(stub);
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
        auto stream = stub->Session(&context);
        dpb::AgentMessage hello;
        *hello.mutable_inventory() = inventory(deviceId, version);
        hello.mutable_inventory()->set_model(model.toStdString());
        QVERIFY(stream->Write(hello));
        QVERIFY(stream->WritesDone());
        const grpc::Status status = stream->Finish();
        QVERIFY2(status.ok(), status.error_message().c_str());
    }

    client::ConsoleSettings adminSettings() const {
        client::ConsoleSettings s;
        s.address = m_server->address();
        s.pkiDir = m_pki->pkiDir;
        return s;
    }

private Q_SLOTS:
    void initTestCase() {
        // A fixed port, so that the restarted server is where the console reconnects.
        const quint16 port = freeLoopbackPort();
        QVERIFY(port != 0);
        startServer([port](QString& text) {
            text.replace(QStringLiteral("listen = 127.0.0.1:0"),
                         QStringLiteral("listen = 127.0.0.1:%1").arg(port));
        });
        reportInventory(QStringLiteral("rf-1"), QStringLiteral("gw-x1"), QStringLiteral("1.0.0"));
        reportInventory(QStringLiteral("rf-2"), QStringLiteral("gw-x1"), QStringLiteral("1.1.0"));
        reportInventory(QStringLiteral("rf-3"), QStringLiteral("gw-x2"), QStringLiteral("1.1.0"));
    }

    void mirrorsTheServerAndReconnects() {
        fleet::RemoteFleet fleet(adminSettings(), quickOptions());
        QCOMPARE(fleet.connection().state, fleet::FleetConnection::State::Connecting);
        ui::MainWindow window(fleet);
        window.show();

        QTRY_COMPARE_WITH_TIMEOUT(fleet.devices().size(), 3, 15000);
        QCOMPARE(fleet.connection().state, fleet::FleetConnection::State::Online);
        QCOMPARE(fleet.connection().role, QStringLiteral("admin"));
        QVERIFY(!fleet.connection().user.isEmpty());
        const auto rf2 = byServerId(fleet, QStringLiteral("rf-2"));
        QVERIFY(rf2);
        QCOMPARE(rf2->snapshot->model, QStringLiteral("gw-x1"));
        QCOMPARE(rf2->snapshot->hardware, QStringLiteral("rev-a"));
        QCOMPARE(rf2->snapshot->activeVersion(), QStringLiteral("1.1.0"));
        QVERIFY(rf2->lastSeen.isValid());
        QCOMPARE(fleet.serverDeviceId(rf2->id), QStringLiteral("rf-2"));
        const fleet::FleetSummary summary = fleet.summary();
        QCOMPARE(summary.total, 3);

        // What a person sees: where the fleet lives, and direct actions disabled with a reason.
        QTRY_VERIFY(window.connectionLabel()->text().contains(u"online"));
        QVERIFY(window.connectionLabel()->text().contains(m_server->address()));
        QVERIFY(window.windowTitle().contains(m_server->address()));
        grab(window, "remote-online.png");
        for (QAction* a : window.findChildren<QAction*>()) {
            if (a->text().contains(u"Update")) {
                QVERIFY(!a->isEnabled());
                QVERIFY(a->toolTip().contains(u"rollouts"));
            }
        }

        // The server goes away: the view keeps what it had and says the server is offline.
        const QList<qint64> ids = [&] {
            QList<qint64> out;
            for (const auto& d : fleet.devices())
                out << d.id;
            return out;
        }();
        m_server->stop();
        QTRY_COMPARE_WITH_TIMEOUT(fleet.connection().state,
                                  fleet::FleetConnection::State::Reconnecting, 15000);
        QVERIFY(fleet.connection().error);
        QCOMPARE(fleet.connection().error->code, QStringLiteral("server.unreachable"));
        QCOMPARE(fleet.devices().size(), 3);
        QTRY_VERIFY(window.connectionLabel()->text().contains(u"offline"));
        QVERIFY(window.connectionLabel()->text().contains(u"server.unreachable"));
        // The sentence that says what to do is one hover away.
        QVERIFY(window.connectionLabel()->toolTip().contains(fleet.connection().error->message));
        grab(window, "remote-offline.png");

        // Back by itself: the same devices under the same ids, then a new one appears.
        VERIFY_OK(m_server->start());
        QTRY_COMPARE_WITH_TIMEOUT(fleet.connection().state, fleet::FleetConnection::State::Online,
                                  15000);
        QList<qint64> again;
        for (const auto& d : fleet.devices())
            again << d.id;
        QCOMPARE(again, ids);
        QSignalSpy added(&fleet, &fleet::FleetService::deviceAdded);
        reportInventory(QStringLiteral("rf-4"), QStringLiteral("gw-x2"), QStringLiteral("1.0.0"));
        QTRY_COMPARE_WITH_TIMEOUT(added.count(), 1, 10000);
        QVERIFY(byServerId(fleet, QStringLiteral("rf-4")));
        QTRY_VERIFY(window.connectionLabel()->text().contains(u"online"));
    }

    void passwordUserSignsInAndAWrongPasswordIsRefused() {
        Console admin = adminConsole();
        cpb::AddUserRequest add;
        add.set_name("remote-tech");
        add.set_role(cpb::ROLE_TECHNICIAN);
        add.set_password("correct horse battery");
        cpb::User user;
        const grpc::Status status = admin.stub->AddUser(admin.context().get(), add, &user);
        QVERIFY2(status.ok(), status.error_message().c_str());

        client::ConsoleSettings s;
        s.address = m_server->address();
        s.caFile = QDir(m_pki->pkiDir).filePath(QStringLiteral("root-ca.pem"));
        s.user = QStringLiteral("remote-tech");
        s.password = QByteArrayLiteral("correct horse battery");
        fleet::RemoteFleet good(s, quickOptions());
        QTRY_COMPARE_WITH_TIMEOUT(good.connection().state, fleet::FleetConnection::State::Online,
                                  15000);
        QCOMPARE(good.connection().user, QStringLiteral("remote-tech"));
        QCOMPARE(good.connection().role, QStringLiteral("technician"));
        QTRY_VERIFY(good.devices().size() >= 3);

        s.password = QByteArrayLiteral("wrong");
        fleet::RemoteFleet bad(s, quickOptions());
        // Refused, and not tried again by itself: the same password would only be refused again.
        QTRY_COMPARE_WITH_TIMEOUT(bad.connection().state, fleet::FleetConnection::State::Refused,
                                  15000);
        QVERIFY(bad.connection().error);
        QCOMPARE(bad.connection().error->code, QStringLiteral("server.login-failed"));
        QVERIFY(bad.connection().text().contains(u"not signed in (server.login-failed)"));
        QVERIFY(bad.devices().isEmpty());
        QSignalSpy changed(&bad, &fleet::FleetService::connectionChanged);
        QTest::qWait(1000);
        QCOMPARE(changed.count(), 0);
    }

    void settingsAreCheckedBeforeConnecting() {
        client::ConsoleSettings none;
        none.address = QStringLiteral("127.0.0.1:1");
        QCOMPARE(none.validate().error().code, QStringLiteral("client.settings"));
        client::ConsoleSettings both = adminSettings();
        both.user = QStringLiteral("x");
        QCOMPARE(both.validate().error().code, QStringLiteral("client.settings"));
        client::ConsoleSettings noAddress = adminSettings();
        noAddress.address.clear();
        QCOMPARE(noAddress.validate().error().code, QStringLiteral("client.settings"));
        QVERIFY(adminSettings().validate());
    }

    // While the server is away, "retrying in N s" counts down by itself: the label changes
    // between two connection changes.
    void retryCountdownTicks() {
        client::ConsoleSettings away = adminSettings();
        away.address = QStringLiteral("127.0.0.1:1");  // nothing listens there
        fleet::RemoteFleetOptions o = quickOptions();
        o.backoffInitial = std::chrono::seconds(3);
        o.backoffMax = std::chrono::seconds(6);
        fleet::RemoteFleet fleet(away, o);
        ui::MainWindow window(fleet);
        window.show();
        QTRY_COMPARE_WITH_TIMEOUT(fleet.connection().state,
                                  fleet::FleetConnection::State::Reconnecting, 15000);
        QVERIFY(QDateTime::currentDateTimeUtc().msecsTo(fleet.connection().nextAttempt) > 1500);
        QSignalSpy changed(&fleet, &fleet::FleetService::connectionChanged);
        const QString before = window.connectionLabel()->text();
        QVERIFY2(before.contains(u"retrying in"), qPrintable(before));
        QTRY_VERIFY_WITH_TIMEOUT(window.connectionLabel()->text() != before, 1500);
        QVERIFY2(window.connectionLabel()->text().contains(u"retrying in"),
                 qPrintable(window.connectionLabel()->text()));
        QCOMPARE(changed.count(), 0);
    }

    void directOperationsAreRefusedWithAReason() {
        fleet::RemoteFleet fleet(adminSettings(), quickOptions());
        QTRY_VERIFY_WITH_TIMEOUT(!fleet.devices().isEmpty(), 15000);
        const qint64 id = fleet.devices().first().id;
        const auto refused = [](const Status& s) {
            return !s && s.error().code == u"fleet.server-managed" && !s.error().message.isEmpty();
        };
        QVERIFY(refused(fleet.startUpdate(id, QStringLiteral("/tmp/x.otab"), {})));
        QVERIFY(refused(fleet.commit(id)));
        QVERIFY(refused(fleet.rollback(id)));
        QVERIFY(refused(fleet.reboot(id)));
        QVERIFY(refused(fleet.removeDevice(id)));
        const auto addedDevice = fleet.addDevice(QStringLiteral("10.0.0.1:50051"), QString());
        QVERIFY(!addedDevice);
        QCOMPARE(addedDevice.error().code, QStringLiteral("fleet.server-managed"));
        QCOMPARE(fleet.refresh(id + 1000).error().code, QStringLiteral("fleet.unknown-device"));
        QVERIFY(fleet.refresh(id));
    }
};

QTEST_MAIN(TestRemoteFleet)
#include "tst_remotefleet.moc"
