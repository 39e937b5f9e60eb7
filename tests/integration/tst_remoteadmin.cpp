// The console's Security menu against a real otafleetd (ServerWindows, offscreen): an admin's
// audit view lists and filters the server's audit log, verifies its chain and names the entry
// altered in the server's SQLite file behind its back; the admin adds a user through the Users
// tab and changes their role and disables them (checked on the server with the admin's own
// channel); a viewer sees the same actions disabled with the reason, and the server refuses them
// anyway. A release uploaded by someone else (otafleetctl) and a device's tamper report reach the
// admin's console as notices.
#include "CliRun.h"
#include "ServerTestBase.h"
#include "ServerWindows.h"
#include "TestBundles.h"
#include "VerifyOk.h"

#include "ui/AddUserDialog.h"
#include "ui/AdministrationPanels.h"
#include "ui/AuditTableModel.h"
#include "ui/AuditView.h"
#include "ui/MainWindow.h"
#include "ui/NotificationBar.h"
#include "ui/NotificationLogModel.h"
#include "ui/UserTableModel.h"
#include "ui/UsersView.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTabWidget>
#include <QTableView>
#include <QTest>

using namespace otafleet;
using namespace otafleet::test;

namespace {

constexpr int kTimeoutMs = 30000;

fleet::RemoteFleetOptions quickFleet() {
    fleet::RemoteFleetOptions o;
    o.pollInterval = std::chrono::milliseconds(300);
    o.backoffInitial = std::chrono::milliseconds(100);
    o.backoffMax = std::chrono::milliseconds(400);
    o.callDeadline = std::chrono::seconds(5);
    return o;
}

void grab(QWidget& widget, const char* name) {
    const QString dir = qEnvironmentVariable("OTAFLEET_GRAB_DIR");
    if (dir.isEmpty())
        return;
    QTest::qWait(100);
    widget.grab().save(QDir(dir).filePath(QLatin1String(name)));
}

}  // namespace

class TestRemoteAdmin : public QObject, public ServerTestBase {
    Q_OBJECT

    app::ServerWindows m_windows;
    ui::MainWindow* m_ada = nullptr;  // the admin's window

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

    std::optional<cpb::User> serverUser(const std::string& name) const {
        Console admin = adminConsole();
        cpb::UserList list;
        if (!admin.stub->ListUsers(admin.context().get(), cpb::ListUsersRequest(), &list).ok())
            return std::nullopt;
        for (const cpb::User& u : list.users()) {
            if (u.name() == name)
                return u;
        }
        return std::nullopt;
    }

    ui::AdministrationPanels* panelsOf(ui::MainWindow* window) const {
        return window->findChild<ui::AdministrationPanels*>();
    }

    ui::MainWindow* openAs(const QString& user) {
        ui::MainWindow* window = m_windows.open(as(user), quickFleet(), {});
        window->resize(1200, 760);
        return window;
    }

    QList<fleet::AuditRecord> shownFor(ui::AuditView* view, const fleet::AuditFilter& filter) {
        QSignalSpy shown(view, &ui::AuditView::entriesShown);
        view->setFilter(filter);
        if (!shown.wait(kTimeoutMs))
            return {};
        return view->model()->entries();
    }

private Q_SLOTS:
    void initTestCase() {
        startServer();
        if (QTest::currentTestFailed())
            return;
        addUser("ada", cpb::ROLE_ADMIN);
        addUser("vic", cpb::ROLE_VIEWER);
        m_ada = openAs(QStringLiteral("ada"));
        QVERIFY(panelsOf(m_ada));
    }

    void adminReadsFiltersAndVerifiesTheServersLog() {
        ui::AuditView* view = panelsOf(m_ada)->auditView();
        QAbstractItemModelTester tester(view->model(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        // The role arrives with the sign-in; then the log is read.
        QTRY_VERIFY_WITH_TIMEOUT(view->model()->rowCount() > 0, kTimeoutMs);
        fleet::AuditFilter added;  // otafleetd setup's own admin was added by "system"
        added.action = QStringLiteral("user.add");
        QCOMPARE(shownFor(view, added).size(), 3);
        added.actor = QStringLiteral("admin");
        const QList<fleet::AuditRecord> adds = shownFor(view, added);
        QCOMPARE(adds.size(), 2);
        QCOMPARE(adds.at(0).subject, QStringLiteral("user:ada"));
        QCOMPARE(adds.at(1).subject, QStringLiteral("user:vic"));
        fleet::AuditFilter login;
        login.action = QStringLiteral("login");
        login.actor = QStringLiteral("ada");
        QVERIFY(!shownFor(view, login).isEmpty());
        fleet::AuditFilter nobody;
        nobody.text = QStringLiteral("no such thing anywhere");
        QVERIFY(shownFor(view, nobody).isEmpty());
        const QList<fleet::AuditRecord> all = shownFor(view, {});
        QVERIFY(all.size() >= 3);

        QSignalSpy verified(view, &ui::AuditView::verificationShown);
        m_ada->findChild<QAction*>(QStringLiteral("verifyAudit"))->trigger();
        QVERIFY(verified.wait(kTimeoutMs));
        QVERIFY2(view->verdictText().contains(QStringLiteral("intact")),
                 qPrintable(view->verdictText()));

        // Someone with access to the server's database edits the entry that added vic.
        const qint64 altered = adds.at(1).id;
        {
            QSqlDatabase db =
                QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("tamper"));
            db.setDatabaseName(m_server->databasePath());
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY(q.exec(QStringLiteral("PRAGMA busy_timeout = 5000")));
            QVERIFY(q.exec(QStringLiteral("UPDATE audit SET subject = 'user:mallory' WHERE id = %1")
                               .arg(altered)));
            QCOMPARE(q.numRowsAffected(), 1);
        }
        QSqlDatabase::removeDatabase(QStringLiteral("tamper"));
        shownFor(view, {});
        view->verify();
        QVERIFY(verified.wait(kTimeoutMs));
        QVERIFY2(
            view->verdictText().contains(QStringLiteral("Audit entry %1 was altered").arg(altered)),
            qPrintable(view->verdictText()));
        const int row = view->model()->rowOf(altered);
        QVERIFY(row >= 0);
        QVERIFY(view->model()->index(row, 0).data(ui::AuditTableModel::AlteredRole).toBool());
        QCOMPARE(view->model()->index(row, ui::AuditTableModel::Subject).data().toString(),
                 QStringLiteral("user:mallory"));
        m_ada->tabs()->setCurrentWidget(view);
        grab(*m_ada, "remote-audit-tampered.png");
    }

    void adminAddsAUserAndChangesTheirRole() {
        ui::UsersView* users = panelsOf(m_ada)->usersView();
        QAbstractItemModelTester tester(users->model(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        m_ada->findChild<QAction*>(QStringLiteral("showUsers"))->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(users->model()->rowOf(QStringLiteral("vic")) >= 0, kTimeoutMs);
        QVERIFY(users->addButton()->isEnabled());

        ui::AddUserDialog* dialog = users->openAddDialog();
        QVERIFY(dialog);
        QPushButton* ok = dialog->buttons()->button(QDialogButtonBox::Ok);
        QTest::keyClicks(dialog->nameEdit(), QStringLiteral("nina"));
        dialog->roleBox()->setCurrentText(QStringLiteral("technician"));
        QTest::keyClicks(dialog->passwordEdit(), QStringLiteral("short"));
        QVERIFY(!ok->isEnabled());
        QVERIFY(dialog->problem().contains(QStringLiteral("at least 8")));
        dialog->passwordEdit()->setText(QStringLiteral("password of nina"));
        dialog->confirmEdit()->setText(QStringLiteral("password of nina!"));
        QVERIFY(!ok->isEnabled());
        dialog->confirmEdit()->setText(QStringLiteral("password of nina"));
        QVERIFY(ok->isEnabled());
        grab(*dialog, "add-user.png");
        QSignalSpy finished(users, &ui::UsersView::commandFinished);
        QTest::mouseClick(ok, Qt::LeftButton);
        QVERIFY(finished.wait(kTimeoutMs));
        QVERIFY2(users->statusText().startsWith(QStringLiteral("Done")),
                 qPrintable(users->statusText()));
        const int row = users->model()->rowOf(QStringLiteral("nina"));
        QVERIFY(row >= 0);
        QCOMPARE(users->model()->index(row, ui::UserTableModel::Role).data().toString(),
                 QStringLiteral("technician"));
        auto onServer = serverUser("nina");
        QVERIFY(onServer);
        QCOMPARE(onServer->role(), cpb::ROLE_TECHNICIAN);

        // Her own role is not the admin's to change from here; hers is.
        users->selectUser(QStringLiteral("ada"));
        QVERIFY(!users->setRoleButton()->isEnabled());
        users->selectUser(QStringLiteral("nina"));
        QVERIFY2(!users->setRoleButton()->isEnabled(), "the role she has is no change");
        users->roleBox()->setCurrentText(QStringLiteral("approver"));
        QVERIFY(users->setRoleButton()->isEnabled());
        QTest::mouseClick(users->setRoleButton(), Qt::LeftButton);
        QVERIFY(finished.wait(kTimeoutMs));
        QTRY_COMPARE_WITH_TIMEOUT(
            users->model()
                ->index(users->model()->rowOf(QStringLiteral("nina")), ui::UserTableModel::Role)
                .data()
                .toString(),
            QStringLiteral("approver"), kTimeoutMs);
        QCOMPARE(serverUser("nina")->role(), cpb::ROLE_APPROVER);

        users->setConfirmDisable(false);
        users->selectUser(QStringLiteral("nina"));
        QTest::mouseClick(users->disableButton(), Qt::LeftButton);
        QVERIFY(finished.wait(kTimeoutMs));
        QVERIFY(serverUser("nina")->disabled());
        users->selectUser(QStringLiteral("nina"));
        QVERIFY(!users->disableButton()->isEnabled());
        QVERIFY(users->disableButton()->toolTip().contains(QStringLiteral("disabled")));
        grab(*m_ada, "users-admin.png");

        // The audit view hears of it: the server logged who did what.
        ui::AuditView* audit = panelsOf(m_ada)->auditView();
        fleet::AuditFilter nina;
        nina.subject = QStringLiteral("user:nina");
        const QList<fleet::AuditRecord> entries = shownFor(audit, nina);
        QStringList actions;
        for (const fleet::AuditRecord& e : entries) {
            QCOMPARE(e.actor, QStringLiteral("ada"));
            actions << e.action;
        }
        QCOMPARE(actions, (QStringList{QStringLiteral("user.add"), QStringLiteral("user.set-role"),
                                       QStringLiteral("user.disable")}));
    }

    void newReleaseIsAnnounced() {
        ui::AdministrationPanels* panels = panelsOf(m_ada);
        QAbstractItemModelTester tester(panels->notificationModel(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        // The console has asked once already: what the server held then is not new.
        QTest::qWait(1500);
        QVERIFY(panels->notifier().notifications().isEmpty());
        TestBundleSpec spec;
        spec.version = QStringLiteral("1.4.2");
        spec.payloadSize = 16 * 1024;
        QVERIFY(QDir().mkpath(m_tmp.filePath(QStringLiteral("bundles"))));
        auto bundle = makeSignedBundle(*m_pki, m_tmp.filePath(QStringLiteral("bundles")), spec);
        VERIFY_OK(bundle);
        const ProcessRun upload =
            otafleetctl({QStringLiteral("release"), QStringLiteral("upload"), *bundle,
                         QStringLiteral("--server"), m_server->address(), QStringLiteral("--pki"),
                         m_pki->pkiDir});
        QVERIFY2(upload.exitCode == 0, upload.err.constData());
        QTRY_COMPARE_WITH_TIMEOUT(panels->notificationModel()->rowCount(), 1, kTimeoutMs);
        const fleet::Notification n = panels->notifier().notifications().first();
        QCOMPARE(n.kind, fleet::NotificationKind::ReleaseArrived);
        QCOMPARE(n.title, QStringLiteral("New release 1.4.2"));
        QVERIFY2(n.text.contains(QStringLiteral("uploaded to the server by admin")),
                 qPrintable(n.text));
        QVERIFY(panels->notificationBar()->isVisible());
        QVERIFY(panels->notificationBar()->text().contains(QStringLiteral("New release 1.4.2")));
        m_ada->tabs()->setCurrentWidget(panels->notificationsView());
        grab(*m_ada, "remote-release-notice.png");
        // Asked again, the same release is not new again.
        QTest::qWait(1500);
        QCOMPARE(panels->notificationModel()->rowCount(), 1);
    }

    void deviceTamperingIsAnnounced() {
        ui::AdministrationPanels* panels = panelsOf(m_ada);
        const int before = panels->notificationModel()->rowCount();
        // A device that booted and found its slot altered says so in its telemetry.
        auto stub = deviceStub(QStringLiteral("gw-tampered"));
        QVERIFY(stub);
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
        auto stream = stub->Session(&context);
        dpb::AgentMessage hello;
        *hello.mutable_inventory() =
            inventory(QStringLiteral("gw-tampered"), QStringLiteral("1.0.0"));
        QVERIFY(stream->Write(hello));
        dpb::AgentMessage boot;
        auto* event = boot.mutable_telemetry()->mutable_event();
        boot.mutable_telemetry()->set_seq(1);
        event->set_seq(1);
        event->set_time_unix_ms(QDateTime::currentMSecsSinceEpoch());
        event->mutable_boot()->set_version("1.0.0");
        event->mutable_boot()->set_error_code("agent.tamper-detected");
        QVERIFY(stream->Write(boot));
        QVERIFY(stream->WritesDone());
        const grpc::Status status = stream->Finish();
        QVERIFY2(status.ok(), status.error_message().c_str());

        QTRY_COMPARE_WITH_TIMEOUT(panels->notificationModel()->rowCount(), before + 1, kTimeoutMs);
        const fleet::Notification n = panels->notifier().notifications().last();
        QCOMPARE(n.kind, fleet::NotificationKind::DeviceTampered);
        QCOMPARE(n.title, QStringLiteral("Device gw-tampered reports tampering"));
        QVERIFY2(n.text.contains(QStringLiteral("agent.tamper-detected")), qPrintable(n.text));
        QVERIFY(panels->notificationBar()->text().contains(QStringLiteral("gw-tampered")));
        // The same report, asked for again, is not announced again.
        QTest::qWait(1500);
        QCOMPARE(panels->notificationModel()->rowCount(), before + 1);
    }

    void viewerSeesTheActionsDisabled() {
        ui::MainWindow* vic = openAs(QStringLiteral("vic"));
        ui::AdministrationPanels* panels = panelsOf(vic);
        ui::UsersView* users = panels->usersView();
        QTRY_VERIFY_WITH_TIMEOUT(users->addButton()->toolTip().contains(QStringLiteral("viewer")),
                                 kTimeoutMs);
        QVERIFY(!users->addButton()->isEnabled());
        QVERIFY2(users->addButton()->toolTip().contains(
                     QStringLiteral("As vic (viewer) you may not manage users")),
                 qPrintable(users->addButton()->toolTip()));
        for (QPushButton* b : {users->setRoleButton(), users->disableButton()}) {
            QVERIFY(!b->isEnabled());
            QVERIFY(b->toolTip().contains(QStringLiteral("ask someone with the role admin")));
        }
        QVERIFY(!users->openAddDialog());
        QCOMPARE(users->model()->rowCount(), 0);  // a viewer's console does not even ask

        ui::AuditView* audit = panels->auditView();
        auto* verify = audit->findChild<QPushButton*>(QStringLiteral("auditVerify"));
        QVERIFY(!verify->isEnabled());
        QVERIFY2(verify->toolTip().contains(QStringLiteral("read the audit log")),
                 qPrintable(verify->toolTip()));
        QVERIFY(audit->statusText().contains(QStringLiteral("approver or admin")));
        vic->tabs()->setCurrentWidget(users);
        grab(*vic, "users-viewer.png");

        // The server holds whatever the console shows: a viewer's commands are refused.
        fleet::RemoteFleet vicFleet(as(QStringLiteral("vic")), quickFleet());
        fleet::RemoteUsers direct(as(QStringLiteral("vic")), vicFleet);
        QSignalSpy done(&direct, &fleet::UserService::requestFinished);
        direct.requestAdd(QStringLiteral("eve"), QStringLiteral("admin"),
                          QByteArrayLiteral("password of eve"));
        QVERIFY(done.wait(kTimeoutMs));
        const auto error = done.at(0).at(1).value<std::optional<Error>>();
        QVERIFY(error);
        QCOMPARE(error->code, QStringLiteral("server.permission-denied"));
        QVERIFY(!serverUser("eve"));
    }
};

QTEST_MAIN(TestRemoteAdmin)
#include "tst_remoteadmin.moc"
