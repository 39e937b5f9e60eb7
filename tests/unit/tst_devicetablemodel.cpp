// DeviceTableModel over a real EmbeddedFleet (SQLite file, DeviceHub with the real LAN plugin),
// watched by QAbstractItemModelTester through loading, adding, failing, removing and a reset.
// The devices are never reachable here (no operator identity), which is itself a case the table
// must show; reachable devices are covered by tests/gui/tst_mainwindow.
#include "VerifyOk.h"
#include "fleet/EmbeddedFleet.h"
#include "link/DeviceHub.h"
#include "store/FleetStore.h"
#include "ui/DeviceTableModel.h"

#include <QAbstractItemModelTester>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;
using ui::DeviceTableModel;

namespace {

link::DeviceSnapshot benchSnapshot() {
    link::DeviceSnapshot s;
    s.deviceId = QStringLiteral("0b7e");
    s.name = QStringLiteral("gw-17");
    s.model = QStringLiteral("gateway-x1");
    s.hardware = QStringLiteral("rev-a");
    s.activeSlot = QStringLiteral("B");
    s.trial = true;
    s.state = QStringLiteral("trial");
    s.slots = {
        {QStringLiteral("A"), QStringLiteral("inactive"), QStringLiteral("1.0.0"), 1, {}, 0, {}},
        {QStringLiteral("B"), QStringLiteral("trial"), QStringLiteral("1.1.0"), 1, {}, 0, {}}};
    return s;
}

}  // namespace

class TestDeviceTableModel : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    std::unique_ptr<link::DeviceHub> m_hub;
    std::unique_ptr<fleet::EmbeddedFleet> m_fleet;
    std::unique_ptr<DeviceTableModel> m_model;
    std::unique_ptr<QAbstractItemModelTester> m_tester;

    QString cell(int row, int column, int role = Qt::DisplayRole) const {
        return m_model->data(m_model->index(row, column), role).toString();
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        const QString path = m_tmp.filePath(QStringLiteral("fleet.sqlite"));
        {
            // A fleet as an earlier run left it: one device seen on trial, one never reached.
            auto seeded = store::FleetStore::open(path);
            VERIFY_OK(seeded);
            auto a = (*seeded)->devices().add(QStringLiteral("lan://127.0.0.1:9"),
                                              QStringLiteral("bench A"));
            VERIFY_OK(a);
            VERIFY_OK((*seeded)->devices().recordSnapshot(
                *a, QJsonDocument(benchSnapshot().toJson()).toJson(),
                QDateTime::currentDateTimeUtc()));
            VERIFY_OK((*seeded)->devices().add(QStringLiteral("lan://127.0.0.1:10"), QString()));
        }
        auto opened = store::FleetStore::open(path);
        VERIFY_OK(opened);
        // No PKI: the LAN transport cannot authenticate, so every contact fails cleanly.
        m_hub = std::make_unique<link::DeviceHub>(
            link::LinkContext{m_tmp.filePath(QStringLiteral("no-pki")), {}, {}, {}},
            QStringList{QStringLiteral(OTAFLEET_PLUGIN_DIR)});
        auto fleet = fleet::EmbeddedFleet::create(std::move(*opened), *m_hub);
        VERIFY_OK(fleet);
        m_fleet = std::move(*fleet);
        m_model = std::make_unique<DeviceTableModel>(*m_fleet);
        m_tester = std::make_unique<QAbstractItemModelTester>(
            m_model.get(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    }

    void cleanupTestCase() {
        m_tester.reset();
        m_model.reset();
        m_fleet.reset();
        m_hub.reset();
    }

    void showsStoredDevices() {
        QCOMPARE(m_model->rowCount(), 2);
        QCOMPARE(m_model->columnCount(), int(DeviceTableModel::ColumnCount));
        QCOMPARE(cell(0, DeviceTableModel::Name), QStringLiteral("bench A"));
        QCOMPARE(cell(0, DeviceTableModel::Model), QStringLiteral("gateway-x1"));
        QCOMPARE(cell(0, DeviceTableModel::Hardware), QStringLiteral("rev-a"));
        QCOMPARE(cell(0, DeviceTableModel::ActiveSlot), QStringLiteral("B (trial)"));
        QCOMPARE(cell(0, DeviceTableModel::SlotA), QStringLiteral("1.0.0 (inactive)"));
        QCOMPARE(cell(0, DeviceTableModel::SlotB), QStringLiteral("1.1.0 (trial)"));
        QCOMPARE(cell(0, DeviceTableModel::State), QStringLiteral("On trial (commit pending)"));
        // Never contacted and unnamed: the address stands in for the name.
        QCOMPARE(cell(1, DeviceTableModel::Name), QStringLiteral("lan://127.0.0.1:10"));
        QCOMPARE(cell(1, DeviceTableModel::State), QStringLiteral("Not contacted yet"));
        QCOMPARE(cell(1, DeviceTableModel::SlotA), QString());
        QCOMPARE(m_model->headerData(DeviceTableModel::SlotB, Qt::Horizontal, Qt::DisplayRole)
                     .toString(),
                 QStringLiteral("Slot B"));
        QCOMPARE(m_model->rowOf(m_model->deviceIdAt(1)), 1);
        QCOMPARE(m_model->deviceIdAt(5), 0);
    }

    void addedDeviceAppearsAndShowsItsError() {
        QSignalSpy inserted(m_model.get(), &QAbstractItemModel::rowsInserted);
        QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
        auto id = m_fleet->addDevice(QStringLiteral("127.0.0.1:11"), QStringLiteral("third"));
        VERIFY_OK(id);
        QCOMPARE(inserted.count(), 1);
        QCOMPARE(m_model->rowCount(), 3);
        QCOMPARE(cell(2, DeviceTableModel::Name), QStringLiteral("third"));
        // Contacting it failed at once (no identity): the row says so, with the sentence.
        QVERIFY(changed.count() >= 1);
        QVERIFY(m_model->data(m_model->index(2, 0), DeviceTableModel::HasErrorRole).toBool());
        QVERIFY(cell(2, DeviceTableModel::State).startsWith(QStringLiteral("Failed")));
        QVERIFY(!cell(2, DeviceTableModel::State, Qt::ToolTipRole).isEmpty());
        QCOMPARE(m_model->data(m_model->index(2, 0), DeviceTableModel::DeviceIdRole).toLongLong(),
                 *id);
    }

    void duplicateIsRefusedWithoutNewRow() {
        auto again = m_fleet->addDevice(QStringLiteral("lan://127.0.0.1:11"), QString());
        QVERIFY(!again);
        QCOMPARE(again.error().code, QStringLiteral("store.duplicate"));
        QCOMPARE(m_model->rowCount(), 3);
    }

    void removedDeviceDisappears() {
        QSignalSpy removed(m_model.get(), &QAbstractItemModel::rowsRemoved);
        const qint64 id = m_model->deviceIdAt(1);
        VERIFY_OK(m_fleet->removeDevice(id));
        QCOMPARE(removed.count(), 1);
        QCOMPARE(m_model->rowCount(), 2);
        QCOMPARE(m_model->rowOf(id), -1);
        QCOMPARE(cell(1, DeviceTableModel::Name), QStringLiteral("third"));
    }

    void recoversWhenFleetResets() {
        QSignalSpy reset(m_model.get(), &QAbstractItemModel::modelReset);
        Q_EMIT m_fleet->fleetReset();
        QCOMPARE(reset.count(), 1);
        QCOMPARE(m_model->rowCount(), int(m_fleet->devices().size()));
        QCOMPARE(cell(0, DeviceTableModel::Name), QStringLiteral("bench A"));
    }

    void refreshAllKeepsModelConsistent() {
        QSignalSpy finished(m_fleet.get(), &fleet::FleetService::operationFinished);
        m_fleet->refreshAll();
        // Links could not be opened (no identity): nothing runs, every row carries an error.
        QCOMPARE(finished.count(), 0);
        for (int row = 0; row < m_model->rowCount(); ++row)
            QVERIFY(m_model->data(m_model->index(row, 0), DeviceTableModel::HasErrorRole).toBool());
    }
};

QTEST_MAIN(TestDeviceTableModel)
#include "tst_devicetablemodel.moc"
