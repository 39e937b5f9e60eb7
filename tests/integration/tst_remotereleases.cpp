// The Releases tab of a server window (app/otafleet/ServerWindows, compiled in) against a real
// otafleetd, offscreen: a release manager imports a signed bundle (uploaded, verified again by
// the server, listed with its signer) and revokes it; a viewer sees the list but finds Import,
// New release and Revoke disabled with the reason; notes, which otafleetd does not keep, are
// read-only. The release list passes QAbstractItemModelTester.
#include "ServerTestBase.h"
#include "TestBundles.h"

#include "ServerWindows.h"
#include "ui/ReleaseTableModel.h"
#include "ui/ReleasesView.h"

#include <QAbstractItemModelTester>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>

using namespace otafleet;
using namespace otafleet::test;

namespace {

constexpr int kTimeoutMs = 30000;

fleet::RemoteFleetOptions quickFleet() {
    fleet::RemoteFleetOptions o;
    o.pollInterval = std::chrono::milliseconds(200);
    o.backoffInitial = std::chrono::milliseconds(100);
    o.backoffMax = std::chrono::milliseconds(400);
    o.callDeadline = std::chrono::seconds(5);
    return o;
}

}  // namespace

class TestRemoteReleases : public QObject, public ServerTestBase {
    Q_OBJECT

    app::ServerWindows m_windows;

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

    ui::ReleasesView* openAs(const QString& user) {
        ui::MainWindow* window = m_windows.open(as(user), quickFleet(), {});
        window->resize(1200, 800);
        return window->releasesView();
    }

private Q_SLOTS:
    void initTestCase() {
        startServer();
        addUser("rita", cpb::ROLE_RELEASE_MANAGER);
        addUser("vic", cpb::ROLE_VIEWER);
    }

    void releaseManagerImportsAndRevokes() {
        ui::ReleasesView* view = openAs(QStringLiteral("rita"));
        QVERIFY(view);
        view->setConfirmRevoke(false);
        QAbstractItemModelTester tester(view->model(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        auto* import = view->findChild<QPushButton*>(QStringLiteral("importRelease"));
        QTRY_VERIFY_WITH_TIMEOUT(import->isEnabled(), kTimeoutMs);  // once the role is known

        auto bundle = makeSignedBundle(*m_pki, m_tmp.path(), {});
        VERIFY_OK(bundle);
        QSignalSpy finished(view, &ui::ReleasesView::workFinished);
        view->importBundle(*bundle);
        QVERIFY(finished.wait(kTimeoutMs));
        auto error = finished.first().first().value<std::optional<Error>>();
        QVERIFY2(!error, error ? qPrintable(error->toString()) : "");
        QTRY_COMPARE_WITH_TIMEOUT(view->model()->rowCount(), 1, kTimeoutMs);
        QTRY_VERIFY_WITH_TIMEOUT(view->report().has_value(), kTimeoutMs);
        QVERIFY2(view->report()->verified(), qPrintable(view->verdictText()));
        auto signer = m_pki->pki.releaseSignerCertificate();
        VERIFY_OK(signer);
        QVERIFY2(view->signersText().contains(signer->commonName().toHtmlEscaped()),
                 qPrintable(view->signersText()));
        const fleet::ReleaseInfo shown = view->model()->releaseAt(0);
        QCOMPARE(shown.version, QStringLiteral("1.1.0"));
        QCOMPARE(shown.importedBy, QStringLiteral("rita"));  // the server's signed-in user

        // The server holds it, as uploaded by rita.
        Console admin = adminConsole();
        cpb::ReleaseList list;
        QVERIFY(admin.stub->ListReleases(admin.context().get(), {}, &list).ok());
        QCOMPARE(list.releases_size(), 1);
        QCOMPARE(QString::fromStdString(list.releases(0).id()), shown.id);

        // otafleetd keeps no notes: the field is read-only and says why.
        auto* notes = view->findChild<QPlainTextEdit*>(QStringLiteral("notes"));
        QVERIFY(notes->isReadOnly());
        QVERIFY(!notes->toolTip().isEmpty());

        auto* revoke = view->findChild<QPushButton*>(QStringLiteral("revokeRelease"));
        QVERIFY(revoke->isEnabled());
        finished.clear();
        revoke->click();
        QVERIFY(finished.wait(kTimeoutMs));
        error = finished.first().first().value<std::optional<Error>>();
        QVERIFY2(!error, error ? qPrintable(error->toString()) : "");
        QTRY_VERIFY_WITH_TIMEOUT(view->model()->releaseAt(0).revoked, kTimeoutMs);
        QTRY_VERIFY(!revoke->isEnabled());
        QVERIFY(admin.stub->ListReleases(admin.context().get(), {}, &list).ok());
        QVERIFY(list.releases(0).revoked());
    }

    void viewerMayOnlyLook() {
        ui::ReleasesView* view = openAs(QStringLiteral("vic"));
        QVERIFY(view);
        QTRY_COMPARE_WITH_TIMEOUT(view->model()->rowCount(), 1, kTimeoutMs);
        auto* import = view->findChild<QPushButton*>(QStringLiteral("importRelease"));
        auto* create = view->findChild<QPushButton*>(QStringLiteral("newRelease"));
        QTRY_VERIFY_WITH_TIMEOUT(import->toolTip().contains(QStringLiteral("viewer")), kTimeoutMs);
        QVERIFY(!import->isEnabled());
        QVERIFY(!create->isEnabled());
        QVERIFY2(create->toolTip().contains(QStringLiteral("release manager")),
                 qPrintable(create->toolTip()));
        QVERIFY(!view->findChild<QPushButton*>(QStringLiteral("revokeRelease"))->isEnabled());
        // The shortcut's way in says the same instead of opening the dialog.
        QVERIFY(view->openSignDialog() == nullptr);
        QVERIFY(view->messageText().contains(QStringLiteral("viewer")));
    }
};

QTEST_MAIN(TestRemoteReleases)
#include "tst_remotereleases.moc"
