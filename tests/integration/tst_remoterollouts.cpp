// The console's server window (app/otafleet/ServerWindows) against a real otafleetd on loopback,
// offscreen: a release manager creates a production rollout through the wizard (the bundle is
// uploaded on the way), an approver approves it from a second window, the monitor follows the
// server's devices as they update, pause and resume go through the server; the telemetry tab
// shows the server's own figures, and says which chart a server cannot give; a viewer sees the
// commands disabled with the reason (and the server refuses them anyway); a server stopped in the
// middle of a session gives the connection's error, not a hang.
#include "FleetTestSupport.h"
#include "RolloutTestDevice.h"
#include "ServerTestBase.h"
#include "ServerWindows.h"
#include "TestBundles.h"

#include "fleet/RemoteRollouts.h"
#include "ui/ApprovalInbox.h"
#include "ui/DeviceTableModel.h"
#include "ui/RolloutDeviceModel.h"
#include "ui/RolloutMonitor.h"
#include "ui/RolloutTableModel.h"
#include "ui/RolloutWizard.h"
#include "ui/RolloutsView.h"
#include "ui/TelemetryView.h"

#include "ui/QCustomPlotInclude.h"

#include <QAbstractButton>
#include <QAbstractItemModelTester>
#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QElapsedTimer>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableView>
#include <QTest>

using namespace otafleet;
using namespace otafleet::test;
using rollout::RolloutState;

namespace {

constexpr int kTimeoutMs = 30000;
constexpr int kDevices = 4;

fleet::RemoteFleetOptions quickFleet() {
    fleet::RemoteFleetOptions o;
    o.pollInterval = std::chrono::milliseconds(300);
    o.backoffInitial = std::chrono::milliseconds(100);
    o.backoffMax = std::chrono::milliseconds(400);
    o.callDeadline = std::chrono::seconds(5);
    return o;
}

fleet::RemoteRolloutsOptions quickRollouts() {
    fleet::RemoteRolloutsOptions o;
    o.pollInterval = std::chrono::milliseconds(200);
    o.backoffInitial = std::chrono::milliseconds(100);
    o.backoffMax = std::chrono::milliseconds(400);
    o.callDeadline = std::chrono::seconds(5);
    return o;
}

// With OTAFLEET_GRAB_DIR set, the widget as a person sees it, for a look (not compared).
void grab(QWidget& widget, const char* name) {
    const QString dir = qEnvironmentVariable("OTAFLEET_GRAB_DIR");
    if (dir.isEmpty())
        return;
    QTest::qWait(100);
    widget.grab().save(QDir(dir).filePath(QLatin1String(name)));
}

template <class T>
T* child(QObject* parent, const char* name) {
    return parent->findChild<T*>(QLatin1String(name));
}

}  // namespace

class TestRemoteRollouts : public QObject, public ServerTestBase {
    Q_OBJECT

    QString m_bundle;
    std::vector<std::unique_ptr<RolloutTestDevice>> m_devices;
    app::ServerWindows m_windows;
    qint64 m_rolloutId = 0;
    ui::MainWindow* m_rita = nullptr;  // the release manager's window

    client::ConsoleSettings as(const QString& user) const {
        client::ConsoleSettings s;
        s.address = m_server->address();
        s.caFile = QDir(m_pki->pkiDir).filePath(QStringLiteral("root-ca.pem"));
        s.user = user;
        s.password = QStringLiteral("password of %1").arg(user).toUtf8();
        return s;
    }

    void addUser(const std::string& name, cpb::Role role) {
        Console admin = adminConsole();
        cpb::AddUserRequest add;
        add.set_name(name);
        add.set_role(role);
        add.set_password("password of " + name);
        cpb::User user;
        const grpc::Status status = admin.stub->AddUser(admin.context().get(), add, &user);
        QVERIFY2(status.ok(), status.error_message().c_str());
    }

    cpb::Rollout serverRollout(qint64 id) const {
        Console admin = adminConsole();
        cpb::RolloutRequest r;
        r.set_id(id);
        cpb::Rollout out;
        const grpc::Status status = admin.stub->GetRollout(admin.context().get(), r, &out);
        if (!status.ok())
            qWarning("GetRollout: %s", status.error_message().c_str());
        return out;
    }

    ui::MainWindow* openAs(const QString& user) {
        ui::MainWindow* window = m_windows.open(as(user), quickFleet(), quickRollouts());
        window->resize(1200, 800);
        return window;
    }

    fleet::RolloutService& rolloutsOf(ui::MainWindow* window) {
        return *m_windows.rolloutsOf(window);
    }

private Q_SLOTS:
    void initTestCase() {
        const quint16 port = freeLoopbackPort();
        QVERIFY(port != 0);
        startServer([port](QString& text) {
            text.replace(QStringLiteral("listen = 127.0.0.1:0"),
                         QStringLiteral("listen = 127.0.0.1:%1").arg(port));
        });
        if (QTest::currentTestFailed())
            return;
        addUser("rita", cpb::ROLE_RELEASE_MANAGER);
        addUser("abe", cpb::ROLE_APPROVER);
        addUser("vic", cpb::ROLE_VIEWER);

        // Devices that take their offers slowly enough to be paused in the middle.
        for (int i = 0; i < kDevices; ++i) {
            const QString id = QStringLiteral("rr-%1").arg(i, 2, 10, QLatin1Char('0'));
            auto identity = m_pki->pki.issueDeviceIdentity(id, m_pki->pinProvider());
            VERIFY_OK(identity);
            grpc::SslCredentialsOptions tls;
            tls.pem_root_certs =
                readText(QDir(m_pki->pkiDir).filePath(QStringLiteral("root-ca.pem")));
            tls.pem_cert_chain = identity->certificateChainPem.toStdString();
            tls.pem_private_key = identity->privateKeyPem.toStdString();
            RolloutTestDevice::Behaviour behaviour;
            behaviour.stepMs = 150;
            auto device = std::make_unique<RolloutTestDevice>(
                id, QStringLiteral("gw-x1"), QStringLiteral("1.0.0"), channel(tls), behaviour);
            grpc::ClientContext context;
            context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
            dpb::InventoryAck ack;
            const grpc::Status status = dpb::DeviceService::NewStub(channel(tls))
                                            ->ReportInventory(&context, device->inventory(), &ack);
            QVERIFY2(status.ok(), status.error_message().c_str());
            device->start();
            m_devices.push_back(std::move(device));
        }
        const QString bundles = m_tmp.filePath(QStringLiteral("bundles"));
        QVERIFY(QDir().mkpath(bundles));
        TestBundleSpec spec;
        spec.version = QStringLiteral("1.1.0");
        spec.payloadSize = 64 * 1024;
        auto bundle = makeSignedBundle(*m_pki, bundles, spec);
        VERIFY_OK(bundle);
        m_bundle = *bundle;
    }

    void cleanupTestCase() {
        for (auto& d : m_devices)
            d->requestStop();
        m_devices.clear();
    }

    void wizardCreatesARolloutAnotherUserApproves() {
        m_rita = openAs(QStringLiteral("rita"));
        fleet::RolloutService& rollouts = rolloutsOf(m_rita);
        QTRY_COMPARE_WITH_TIMEOUT(rollouts.signedInUser(), QStringLiteral("rita"), kTimeoutMs);
        QTRY_COMPARE_WITH_TIMEOUT(m_rita->deviceModel()->rowCount(), kDevices, kTimeoutMs);
        QAbstractItemModelTester tableTester(m_rita->rolloutsView()->model());
        QAbstractItemModelTester deviceTester(m_rita->rolloutsView()->monitor()->deviceModel());
        QAbstractItemModelTester inboxTester(m_rita->approvalInbox()->model());
        // A release manager may create; the server's answer says so before the wizard opens.
        auto* newRollout = child<QAction>(m_rita, "newRolloutAction");
        QVERIFY(newRollout);
        QTRY_VERIFY_WITH_TIMEOUT(newRollout->isEnabled(), kTimeoutMs);

        ui::RolloutWizard* wizard = m_rita->openRolloutWizard();
        QVERIFY(wizard);
        QAbstractButton* next = wizard->button(QWizard::NextButton);
        wizard->setBundlePath(m_bundle);
        child<QLineEdit>(wizard, "rolloutName")->setText(QStringLiteral("gateways to 1.1.0"));
        QTRY_VERIFY_WITH_TIMEOUT(
            !child<QLabel>(wizard, "bundleVerdict")->text().startsWith(QStringLiteral("Checking")),
            kTimeoutMs);
        QVERIFY(next->isEnabled());
        next->click();
        wizard->setTargetFilter(QStringLiteral("model = gw-x1"));
        QTRY_VERIFY_WITH_TIMEOUT(!wizard->isCounting(), kTimeoutMs);
        QCOMPARE(wizard->targets().size(), kDevices);
        next->click();
        // One device first, then the rest; paced so that a pause lands in the middle.
        child<QLineEdit>(wizard, "waves")->setText(QStringLiteral("1,100%"));
        child<QLineEdit>(wizard, "rate")->setText(QStringLiteral("30/min"));
        child<QCheckBox>(wizard, "production")->setChecked(true);
        QVERIFY(next->isEnabled());
        next->click();
        child<QCheckBox>(wizard, "startNow")->setChecked(true);
        grab(*wizard, "remote-wizard-summary.png");
        QSignalSpy created(wizard, &ui::RolloutWizard::rolloutCreated);
        const QPointer<ui::RolloutWizard> closing(wizard);
        wizard->button(QWizard::FinishButton)->click();
        QVERIFY(wizard->isCreating());  // the GUI thread does not wait for the server
        // Uploaded, created and started through the server while the GUI goes on.
        QTRY_COMPARE_WITH_TIMEOUT(created.size(), 1, kTimeoutMs);
        m_rolloutId = created.first().first().toLongLong();
        // Created and started: the wizard closes (and deletes itself).
        QTRY_VERIFY_WITH_TIMEOUT(closing.isNull(), kTimeoutMs);

        const cpb::Rollout onServer = serverRollout(m_rolloutId);
        QCOMPARE(onServer.author(), std::string("rita"));
        QCOMPARE(onServer.state(), std::string("awaiting_approval"));
        QCOMPARE(onServer.total(), quint64(kDevices));
        QCOMPARE(onServer.target(), std::string("model = gw-x1"));
        QVERIFY(onServer.production());

        // Rita's window: the rollout in the table and the monitor; she may not approve it.
        QTRY_VERIFY_WITH_TIMEOUT(m_rita->rolloutsView()->model()->rowOf(m_rolloutId) >= 0,
                                 kTimeoutMs);
        m_rita->rolloutsView()->selectRollout(m_rolloutId);
        ui::RolloutMonitor* monitor = m_rita->rolloutsView()->monitor();
        QTRY_VERIFY_WITH_TIMEOUT(child<QLabel>(monitor, "rolloutState")
                                     ->text()
                                     .startsWith(QStringLiteral("awaiting_approval")),
                                 kTimeoutMs);
        QTRY_COMPARE_WITH_TIMEOUT(monitor->deviceModel()->rowCount(), kDevices, kTimeoutMs);
        QTRY_COMPARE_WITH_TIMEOUT(m_rita->approvalInbox()->model()->rowCount(), 1, kTimeoutMs);
        auto* ownApprove = child<QPushButton>(m_rita->approvalInbox(), "approve");
        QTRY_VERIFY(m_rita->approvalInbox()->selectedRollout() == m_rolloutId);
        QVERIFY(!ownApprove->isEnabled());
        QVERIFY2(ownApprove->toolTip().contains(QStringLiteral("may not approve")),
                 qPrintable(ownApprove->toolTip()));

        // Abe approves from his own window: the approver is whoever the server signed in.
        ui::MainWindow* abe = openAs(QStringLiteral("abe"));
        ui::ApprovalInbox* inbox = abe->approvalInbox();
        QTRY_COMPARE_WITH_TIMEOUT(rolloutsOf(abe).signedInUser(), QStringLiteral("abe"),
                                  kTimeoutMs);
        QTRY_COMPARE_WITH_TIMEOUT(inbox->model()->rowCount(), 1, kTimeoutMs);
        auto* approve = child<QPushButton>(inbox, "approve");
        QTRY_VERIFY_WITH_TIMEOUT(approve->isEnabled(), kTimeoutMs);
        QVERIFY(approve->toolTip().contains(QStringLiteral("abe")));
        // Abe may pause and abort but not start: the monitor says so.
        abe->rolloutsView()->selectRollout(m_rolloutId);
        auto* abeStart = child<QPushButton>(abe->rolloutsView()->monitor(), "start");
        QVERIFY(!abeStart->isEnabled());
        QVERIFY(abeStart->toolTip().contains(QStringLiteral("approver")));
        grab(*abe, "remote-approvals.png");
        QTest::mouseClick(approve, Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(inbox->model()->rowCount(), 0, kTimeoutMs);
        QCOMPARE(child<QLabel>(inbox, "approvalMessage")->text(), QString());
        QCOMPARE(serverRollout(m_rolloutId).approved_by(), std::string("abe"));
        // Rita's window follows: approved, running, out of her inbox.
        QTRY_VERIFY_WITH_TIMEOUT(child<QLabel>(monitor, "rolloutState")
                                     ->text()
                                     .contains(QStringLiteral("approved by abe")),
                                 kTimeoutMs);
        QTRY_COMPARE_WITH_TIMEOUT(m_rita->approvalInbox()->model()->rowCount(), 0, kTimeoutMs);
    }

    void monitorFollowsTheServerThroughPauseAndResume() {
        QVERIFY(m_rolloutId);
        ui::RolloutMonitor* monitor = m_rita->rolloutsView()->monitor();
        fleet::RolloutService& rollouts = rolloutsOf(m_rita);
        // The first wave's device updates; the view shows what the server counts.
        QTRY_VERIFY_WITH_TIMEOUT(
            rollouts.rollout(m_rolloutId)->status.count(rollout::DeviceState::Succeeded) >= 1,
            kTimeoutMs);
        QTRY_VERIFY_WITH_TIMEOUT(
            child<QLabel>(monitor, "count_succeeded")->text() != QStringLiteral("succeeded: 0"),
            kTimeoutMs);
        auto* pause = child<QPushButton>(monitor, "pause");
        QTRY_VERIFY_WITH_TIMEOUT(pause->isEnabled(), kTimeoutMs);
        grab(*m_rita, "remote-monitor-running.png");
        QTest::mouseClick(pause, Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(serverRollout(m_rolloutId).state(), std::string("paused"),
                                  kTimeoutMs);
        QTRY_VERIFY_WITH_TIMEOUT(child<QLabel>(monitor, "pauseReason")->isVisible(), kTimeoutMs);
        QVERIFY(child<QLabel>(monitor, "pauseReason")->text().contains(QStringLiteral("rita")));
        QCOMPARE(child<QLabel>(monitor, "actionMessage")->text(), QString());
        auto* resume = child<QPushButton>(monitor, "resume");
        QTRY_VERIFY_WITH_TIMEOUT(resume->isEnabled(), kTimeoutMs);
        grab(*m_rita, "remote-monitor-paused.png");
        QTest::mouseClick(resume, Qt::LeftButton);
        // Every device updates; the device table and the counts end as the server's.
        QTRY_COMPARE_WITH_TIMEOUT(serverRollout(m_rolloutId).state(), std::string("completed"),
                                  60000);
        QTRY_COMPARE_WITH_TIMEOUT(rollouts.rollout(m_rolloutId)->status.state,
                                  RolloutState::Completed, kTimeoutMs);
        const cpb::Rollout done = serverRollout(m_rolloutId);
        QCOMPARE(qint64(done.counts().at("succeeded")), qint64(kDevices));
        QTRY_COMPARE_WITH_TIMEOUT(child<QLabel>(monitor, "count_succeeded")->text(),
                                  QStringLiteral("succeeded: %1").arg(kDevices), kTimeoutMs);
        const ui::RolloutDeviceModel* devices = monitor->deviceModel();
        QTRY_COMPARE_WITH_TIMEOUT(devices->rowCount(), kDevices, kTimeoutMs);
        for (int row = 0; row < kDevices; ++row) {
            QTRY_COMPARE_WITH_TIMEOUT(
                devices->index(row, ui::RolloutDeviceModel::State).data().toString(),
                QStringLiteral("succeeded"), kTimeoutMs);
            QCOMPARE(devices->index(row, ui::RolloutDeviceModel::Device).data().toString(),
                     QStringLiteral("test-rr-%1").arg(row, 2, 10, QLatin1Char('0')));
        }
        // The waves as the server's status has them.
        const auto status =
            rollout::RolloutStatus::fromJsonBytes(QByteArray::fromStdString(done.status_json()));
        VERIFY_OK(status);
        QCOMPARE(rollouts.rollout(m_rolloutId)->status.waves.size(), status->waves.size());
        QCOMPARE(rollouts.rollout(m_rolloutId)->status.waves.at(0).succeeded, 1);
        grab(*m_rita, "remote-monitor-completed.png");

        // The server's page of devices, read directly: the same states, in offer order.
        Console admin = adminConsole();
        cpb::ListRolloutDevicesRequest page;
        page.set_id(m_rolloutId);
        page.set_page(0);
        page.set_page_size(3);
        cpb::RolloutDevicePage reply;
        grpc::Status s = admin.stub->ListRolloutDevices(admin.context().get(), page, &reply);
        QVERIFY2(s.ok(), s.error_message().c_str());
        QCOMPARE(reply.total(), quint64(kDevices));
        QCOMPARE(reply.devices_size(), 3);
        QCOMPARE(reply.devices(0).device_id(), std::string("rr-00"));
        QCOMPARE(reply.devices(0).wave(), 1U);
        QCOMPARE(reply.devices(1).wave(), 2U);
        page.set_page(1);
        s = admin.stub->ListRolloutDevices(admin.context().get(), page, &reply);
        QVERIFY2(s.ok(), s.error_message().c_str());
        QCOMPARE(reply.devices_size(), 1);
        QCOMPARE(reply.devices(0).state(), std::string("succeeded"));
        page.set_id(999);
        s = admin.stub->ListRolloutDevices(admin.context().get(), page, &reply);
        QCOMPARE(s.error_code(), grpc::StatusCode::NOT_FOUND);
        page.set_id(m_rolloutId);
        page.set_page_size(5000);
        s = admin.stub->ListRolloutDevices(admin.context().get(), page, &reply);
        QCOMPARE(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    }

    void telemetryTabShowsTheServersFigures() {
        QVERIFY(m_rolloutId);
        ui::TelemetryView* view = m_rita->telemetryView();
        QVERIFY(view);
        m_rita->tabs()->setCurrentWidget(view);
        QAbstractItemModelTester chartTester(view->tableModel());
        view->selectRollout(m_rolloutId);
        view->showChart(ui::TelemetryView::Chart::Waves);
        // A report asked for now (the tab may hold one from before the rollout completed).
        QSignalSpy shown(view, &ui::TelemetryView::reportShown);
        view->reload();
        QTRY_VERIFY_WITH_TIMEOUT(!shown.isEmpty() && !view->isLoading() && view->report().rollout,
                                 kTimeoutMs);
        QCOMPARE(view->report().rollout->state, QStringLiteral("completed"));
        const fleet::TelemetryReport& report = view->report();
        QCOMPARE(report.rollout->id, m_rolloutId);
        const cpb::Rollout onServer = serverRollout(m_rolloutId);
        const auto status = rollout::RolloutStatus::fromJsonBytes(
            QByteArray::fromStdString(onServer.status_json()));
        VERIFY_OK(status);
        QCOMPARE(report.rollout->waves.size(), status->waves.size());
        for (qsizetype i = 0; i < status->waves.size(); ++i) {
            QCOMPARE(report.rollout->waves.at(i).size, status->waves.at(i).size);
            QCOMPARE(report.rollout->waves.at(i).succeeded, status->waves.at(i).succeeded);
            QCOMPARE(report.rollout->waves.at(i).failed, status->waves.at(i).failed);
        }
        QCOMPARE(report.rollout->total, qint64(onServer.total()));
        QCOMPARE(report.rollout->successThreshold, 95.0);
        // The table under the chart holds the server's figures.
        QCOMPARE(view->tableModel()->rowCount(), int(status->waves.size()));
        grab(*m_rita, "remote-telemetry-waves.png");

        // The fleet-wide charts against the server's own report over the same range.
        Console admin = adminConsole();
        cpb::TelemetryReportRequest request;
        request.set_until_unix_ms(report.generated.toMSecsSinceEpoch());
        request.set_since_unix_ms(report.generated.toMSecsSinceEpoch() -
                                  qint64(fleet::RemoteTelemetry::kRangeDays) * 24 * 3600 * 1000);
        request.set_charts(true);
        request.set_rollout_id(m_rolloutId);
        cpb::TelemetryReportReply reply;
        const grpc::Status s = admin.stub->TelemetryReport(admin.context().get(), request, &reply);
        QVERIFY2(s.ok(), s.error_message().c_str());
        QVERIFY(reply.charts());
        QCOMPARE(report.installSeconds.samples, qint64(reply.install_seconds().samples()));
        QCOMPARE(report.throughputMBps.samples, qint64(reply.throughput_mbps().samples()));
        QCOMPARE(report.adoption.series.size(), qsizetype(reply.adoption_size()));
        // Every device reported 1.0.0, then the test devices 1.1.0 after their update.
        QStringList versions;
        for (const fleet::AdoptionSeries& a : report.adoption.series)
            versions << a.version;
        QVERIFY2(versions.contains(QStringLiteral("1.1.0")), qPrintable(versions.join(u',')));
        QCOMPARE(report.adoption.series.last().devices.last(),
                 qint64(reply.adoption(reply.adoption_size() - 1).devices().rbegin()[0]));
        QCOMPARE(report.rollout->failureReasons.size(),
                 qsizetype(reply.rollout_failure_reasons_size()));
        view->showChart(ui::TelemetryView::Chart::Adoption);
        QVERIFY(view->tableModel()->rowCount() > 0);
        grab(*m_rita, "remote-telemetry-adoption.png");

        // What a server cannot give is said, not drawn empty.
        view->showChart(ui::TelemetryView::Chart::Progress);
        QVERIFY(!report.progressUnavailable.isEmpty());
        QCPItemText* note = view->plot()->findChild<QCPItemText*>(QStringLiteral("emptyNote"));
        QVERIFY(note);
        QVERIFY2(
            note->text().simplified().contains(QStringLiteral("not available from this server")),
            qPrintable(note->text()));
        QCOMPARE(view->tableModel()->rowCount(), 0);
        grab(*m_rita, "remote-telemetry-progress.png");
    }

    void viewerSeesTheCommandsDisabled() {
        QVERIFY(m_rolloutId);
        ui::MainWindow* vic = openAs(QStringLiteral("vic"));
        fleet::RolloutService& rollouts = rolloutsOf(vic);
        QTRY_COMPARE_WITH_TIMEOUT(rollouts.signedInUser(), QStringLiteral("vic"), kTimeoutMs);
        QTRY_VERIFY_WITH_TIMEOUT(vic->rolloutsView()->model()->rowOf(m_rolloutId) >= 0, kTimeoutMs);
        auto* newRollout = child<QAction>(vic, "newRolloutAction");
        QVERIFY(!newRollout->isEnabled());
        QVERIFY2(newRollout->toolTip().contains(QStringLiteral("viewer")),
                 qPrintable(newRollout->toolTip()));
        auto* newButton = child<QPushButton>(vic->rolloutsView(), "newRollout");
        QVERIFY(!newButton->isEnabled());
        QCOMPARE(newButton->toolTip(), newRollout->toolTip());
        QCOMPARE(vic->openRolloutWizard(), nullptr);
        vic->rolloutsView()->selectRollout(m_rolloutId);
        ui::RolloutMonitor* monitor = vic->rolloutsView()->monitor();
        QTRY_COMPARE_WITH_TIMEOUT(monitor->rolloutId(), m_rolloutId, kTimeoutMs);
        // Its targets by name, even where its rollouts arrived before its devices.
        QTRY_COMPARE_WITH_TIMEOUT(
            monitor->deviceModel()->index(0, ui::RolloutDeviceModel::Device).data().toString(),
            QStringLiteral("test-rr-00"), kTimeoutMs);
        for (const char* name : {"start", "pause", "resume", "abort", "retryFailed"}) {
            auto* b = child<QPushButton>(monitor, name);
            QVERIFY2(!b->isEnabled(), name);
            QVERIFY2(b->toolTip().contains(QStringLiteral("As vic (viewer) you may not")),
                     qPrintable(b->toolTip()));
        }
        vic->tabs()->setCurrentWidget(vic->rolloutsView());
        grab(*vic, "remote-viewer.png");
        // The server's RBAC holds whatever the console shows: a viewer's abort is refused.
        QSignalSpy finished(&rollouts, &fleet::RolloutService::requestFinished);
        const quint64 request =
            rollouts.requestAction(m_rolloutId, fleet::RolloutAction::Abort, QStringLiteral("x"));
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, kTimeoutMs);
        QCOMPARE(finished.first().at(0).toULongLong(), request);
        const auto error = finished.first().at(2).value<std::optional<Error>>();
        QVERIFY(error);
        QCOMPARE(error->code, QStringLiteral("server.permission-denied"));
        QCOMPARE(serverRollout(m_rolloutId).state(), std::string("completed"));
    }

    void serverStoppedMidSessionGivesTheConnectionError() {
        QVERIFY(m_rolloutId);
        // A second rollout Rita can act on, to act while the server is away.
        fleet::RolloutService& rollouts = rolloutsOf(m_rita);
        fleet::RolloutDraft draft;
        draft.bundlePath = m_bundle;
        draft.options.waves = QStringLiteral("100%");
        draft.targetFilter = QStringLiteral("id = rr-00");
        QSignalSpy finished(&rollouts, &fleet::RolloutService::requestFinished);
        const quint64 create = rollouts.requestCreate(draft);
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, kTimeoutMs);
        QCOMPARE(finished.first().at(0).toULongLong(), create);
        QVERIFY(!finished.first().at(2).value<std::optional<Error>>());
        const qint64 draftId = finished.first().at(1).toLongLong();
        m_rita->rolloutsView()->selectRollout(draftId);
        ui::RolloutMonitor* monitor = m_rita->rolloutsView()->monitor();
        QTRY_COMPARE_WITH_TIMEOUT(monitor->rolloutId(), draftId, kTimeoutMs);
        auto* start = child<QPushButton>(monitor, "start");
        QTRY_VERIFY_WITH_TIMEOUT(start->isEnabled(), kTimeoutMs);

        m_server->stop();
        QTRY_VERIFY_WITH_TIMEOUT(m_rita->connectionLabel()->text().contains(u"offline"),
                                 kTimeoutMs);
        // The command fails with the connection's error, shown where it was asked; the window
        // answers all along (the event loop runs while the call waits on its thread).
        QElapsedTimer clock;
        clock.start();
        QTest::mouseClick(start, Qt::LeftButton);
        QVERIFY(clock.elapsed() < 1000);
        auto* message = child<QLabel>(monitor, "actionMessage");
        QTRY_VERIFY_WITH_TIMEOUT(!message->text().isEmpty(), kTimeoutMs);
        QVERIFY2(message->text().contains(m_server->address()), qPrintable(message->text()));
        // The mirror is kept: the rollouts are still listed as last seen.
        QVERIFY(rollouts.rollout(m_rolloutId));
        QCOMPARE(rollouts.rollout(m_rolloutId)->status.state, RolloutState::Completed);
        m_rita->tabs()->setCurrentWidget(m_rita->rolloutsView());
        grab(*m_rita, "remote-server-stopped.png");
        // The telemetry tab says why it has nothing new.
        ui::TelemetryView* view = m_rita->telemetryView();
        view->reload();
        QTRY_VERIFY_WITH_TIMEOUT(!view->isLoading(), kTimeoutMs);
        auto* status = child<QLabel>(view, "telemetryStatus");
        QVERIFY(status);
        QVERIFY2(status->text().contains(u"(server."), qPrintable(status->text()));
    }
};

QTEST_MAIN(TestRemoteRollouts)
#include "tst_remoterollouts.moc"
