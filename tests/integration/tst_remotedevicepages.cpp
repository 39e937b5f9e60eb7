// The paged device list against a real otafleetd (fleet/RemoteDevicePages through RemoteFleet):
// ListDevices' new order and free text done by the server's database, the paged model checked by
// QAbstractItemModelTester, a bulk tag of a multi-selection in the console's real MainWindow
// through TagDevice (each one audited by the server), a bulk decommission by the admin, and a
// viewer whose bulk actions are disabled with the reason.
#include "ServerTestBase.h"

#include "fleet/DevicePages.h"
#include "fleet/RemoteFleet.h"
#include "ui/DeviceBrowser.h"
#include "ui/MainWindow.h"
#include "ui/PagedDeviceModel.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QItemSelectionModel>
#include <QLineEdit>
#include <QSignalSpy>
#include <QTableView>

using namespace otafleet;
using namespace otafleet::test;
using ui::PagedDeviceModel;

namespace {
constexpr int kTimeoutMs = 20000;
const QStringList kVersions{QStringLiteral("1.0.0"), QStringLiteral("1.1.0"),
                            QStringLiteral("1.2.0")};
}  // namespace

class TestRemoteDevicePages : public QObject, public ServerTestBase {
    Q_OBJECT

    client::ConsoleSettings adminSettings() const {
        client::ConsoleSettings s;
        s.address = m_server->address();
        s.pkiDir = m_pki->pkiDir;
        return s;
    }

    QStringList serverKeys(const QString& filter, const QString& sort = {}, bool descending = false,
                           const QString& text = {}) const {
        Console admin = adminConsole();
        cpb::ListDevicesRequest r;
        r.set_filter(filter.toStdString());
        r.set_sort(sort.toStdString());
        r.set_descending(descending);
        r.set_text(text.toStdString());
        r.set_page_size(100);
        cpb::DevicePage page;
        const grpc::Status status = admin.stub->ListDevices(admin.context().get(), r, &page);
        if (!status.ok())
            return {QStringLiteral("error: ") + QString::fromStdString(status.error_message())};
        QStringList keys;
        for (const auto& d : page.devices())
            keys << QString::fromStdString(d.device_id());
        return keys;
    }

    static QStringList shownKeys(PagedDeviceModel& model) {
        QStringList keys;
        for (int row = 0; row < model.rowCount(); ++row)
            keys << model.index(row, 0).data(PagedDeviceModel::KeyRole).toString();
        return keys;
    }

private Q_SLOTS:
    void initTestCase() {
        startServer();
        for (int i = 0; i < 7; ++i)
            reportDevice(QStringLiteral("rp-%1").arg(i), kVersions.at(i % 3));
    }

    void serverSortsAndSearches() {
        QCOMPARE(serverKeys({}).size(), 7);
        QCOMPARE(serverKeys({}, QStringLiteral("version"), true).mid(0, 2),
                 (QStringList{QStringLiteral("rp-5"), QStringLiteral("rp-2")}));
        QCOMPARE(serverKeys({}, {}, false, QStringLiteral("SN-rp-4")),
                 QStringList{QStringLiteral("rp-4")});
        QVERIFY(serverKeys({}, QStringLiteral("colour")).first().contains(u"sorted"));
    }

    void pagedModelFollowsTheServer() {
        fleet::RemoteFleet fleet(adminSettings());
        auto pages = fleet.devicePages();
        QVERIFY(pages);
        PagedDeviceModel model(*pages);
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy ready(&model, &PagedDeviceModel::queryFinished);
        QVERIFY(ready.wait(kTimeoutMs));
        QCOMPARE(model.rowCount(), 7);
        QCOMPARE(shownKeys(model), serverKeys({}));
        model.sort(PagedDeviceModel::Version, Qt::DescendingOrder);
        QVERIFY(ready.wait(kTimeoutMs));
        QCOMPARE(shownKeys(model), serverKeys({}, QStringLiteral("version"), true));
        VERIFY_OK(model.setFilter(QStringLiteral("version >= 1.1.0")));
        QVERIFY(ready.wait(kTimeoutMs));
        QCOMPARE(shownKeys(model),
                 serverKeys(QStringLiteral("version >= 1.1.0"), QStringLiteral("version"), true));
        QCOMPARE(model.rowCount(), 4);
    }

    void bulkTagInTheServerWindow() {
        fleet::RemoteFleet fleet(adminSettings());
        ui::MainWindow window(fleet);
        window.resize(1180, 600);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        ui::DeviceBrowser* browser = window.deviceBrowser();
        QVERIFY(browser);
        QVERIFY(!window.deviceTable()->isVisible());
        PagedDeviceModel& model = *browser->model();
        QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 7, kTimeoutMs);
        QTRY_VERIFY_WITH_TIMEOUT(!fleet.connection().role.isEmpty(), kTimeoutMs);
        // The dashboard's way in: a filter shown in the list.
        window.showDevicesMatching(QStringLiteral("version = 1.0.0"));
        QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 3, kTimeoutMs);
        QTRY_VERIFY_WITH_TIMEOUT(model.index(2, 0).data(PagedDeviceModel::LoadedRole).toBool(),
                                 kTimeoutMs);
        for (int row : {0, 2})
            browser->table()->selectionModel()->select(
                model.index(row, 0), QItemSelectionModel::Select | QItemSelectionModel::Rows);
        const QStringList selected{model.index(0, 0).data(PagedDeviceModel::KeyRole).toString(),
                                   model.index(2, 0).data(PagedDeviceModel::KeyRole).toString()};
        QAction* tag = browser->action(fleet::BulkAction::Tag);
        QTRY_VERIFY_WITH_TIMEOUT(tag->isEnabled(), kTimeoutMs);
        browser->setConfirm(false);
        browser->setPresetValue(QStringLiteral("night-shift"));
        QSignalSpy bulk(browser, &ui::DeviceBrowser::bulkFinished);
        tag->trigger();
        QVERIFY(bulk.wait(kTimeoutMs));
        QCOMPARE(serverKeys(QStringLiteral("tag = night-shift")), selected);
        QTRY_VERIFY_WITH_TIMEOUT(
            model.index(0, PagedDeviceModel::Tags).data().toString().contains(u"night-shift"),
            kTimeoutMs);
        if (const QString shots = qEnvironmentVariable("OTAFLEET_GRAB_DIR"); !shots.isEmpty())
            window.grab().save(shots + QStringLiteral("/server-device-browser.png"));
        // The admin decommissions one of them.
        browser->table()->clearSelection();
        browser->table()->selectionModel()->select(
            model.index(0, 0), QItemSelectionModel::Select | QItemSelectionModel::Rows);
        browser->action(fleet::BulkAction::Decommission)->trigger();
        QVERIFY(bulk.wait(kTimeoutMs));
        QTRY_COMPARE_WITH_TIMEOUT(model.index(0, PagedDeviceModel::State).data().toString(),
                                  PagedDeviceModel::tr("Decommissioned"), kTimeoutMs);
    }

    void viewerSeesWhyBulkActionsAreOff() {
        Console admin = adminConsole();
        cpb::AddUserRequest add;
        add.set_name("vic");
        add.set_role(cpb::ROLE_VIEWER);
        add.set_password("password of vic");
        cpb::User user;
        const grpc::Status status = admin.stub->AddUser(admin.context().get(), add, &user);
        QVERIFY2(status.ok(), status.error_message().c_str());
        client::ConsoleSettings s;
        s.address = m_server->address();
        s.caFile = QDir(m_pki->pkiDir).filePath(QStringLiteral("root-ca.pem"));
        s.user = QStringLiteral("vic");
        s.password = QByteArrayLiteral("password of vic");
        fleet::RemoteFleet fleet(s);
        ui::MainWindow window(fleet);
        ui::DeviceBrowser* browser = window.deviceBrowser();
        QVERIFY(browser);
        QTRY_COMPARE_WITH_TIMEOUT(browser->model()->rowCount(), 7, kTimeoutMs);
        QTRY_COMPARE_WITH_TIMEOUT(fleet.connection().role, QStringLiteral("viewer"), kTimeoutMs);
        browser->table()->selectRow(1);
        for (fleet::BulkAction action :
             {fleet::BulkAction::Tag, fleet::BulkAction::Group, fleet::BulkAction::Decommission}) {
            QAction* a = browser->action(action);
            QVERIFY(!a->isEnabled());
            QVERIFY2(a->toolTip().contains(QStringLiteral("viewer")), qPrintable(a->toolTip()));
        }
        // Reading still works for a viewer.
        QVERIFY(browser->updateAction()->isEnabled());
    }
};

QTEST_MAIN(TestRemoteDevicePages)
#include "tst_remotedevicepages.moc"
