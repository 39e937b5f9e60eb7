// The paged device table (ui/PagedDeviceModel) over a real SQLite fleet file of 200,000
// devices (fleet/StoreDevicePages): the model passes QAbstractItemModelTester through queries,
// scrolling and refreshes; its count and rows after a filter or sort change are what SQL written
// by hand here selects; scrolling reads only the pages scrolled to and keeps a few; a bulk tag
// of a selection changes exactly those devices, and a cancelled bulk change keeps what it did.
// The device list widget (ui/DeviceBrowser) filters, tags a multi-selection, exports what it
// shows as CSV, and disables what the user's role does not allow, saying why.
#include "GeneratedFleet.h"
#include "VerifyOk.h"

#include "fleet/RemoteDevicePages.h"
#include "fleet/StoreDevicePages.h"
#include "ui/DeviceBrowser.h"
#include "ui/PagedDeviceModel.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QElapsedTimer>
#include <QFile>
#include <QFutureWatcher>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QScrollBar>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;
using ui::PagedDeviceModel;

namespace {
constexpr qint64 kDevices = 200'000;
constexpr int kTimeoutMs = 30000;
}  // namespace

class TestPagedDeviceModel : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    QString m_path;
    QSqlDatabase m_db;  // the test's own connection: the truth the model is checked against

    QStringList sqlKeys(const QString& where, const QString& order, int offset, int limit) {
        QSqlQuery q(m_db);
        [&] {
            QVERIFY2(
                q.exec(QStringLiteral("SELECT device_id FROM fleet_devices WHERE %1 ORDER "
                                      "BY %2 LIMIT %3 OFFSET %4")
                           .arg(where, order, QString::number(limit), QString::number(offset))),
                qPrintable(q.lastError().text()));
        }();
        QStringList keys;
        while (q.next())
            keys << q.value(0).toString();
        return keys;
    }

    qint64 sqlCount(const QString& where) {
        QSqlQuery q(m_db);
        if (!q.exec(QStringLiteral("SELECT COUNT(*) FROM fleet_devices WHERE %1").arg(where)) ||
            !q.next())
            return -1;
        return q.value(0).toLongLong();
    }

    // The keys the model shows for rows [first, first + count), waiting for their pages.
    static QStringList modelKeys(PagedDeviceModel& model, int first, int count) {
        QStringList keys;
        for (int row = first; row < first + count && row < model.rowCount(); ++row) {
            const QModelIndex index = model.index(row, PagedDeviceModel::Name);
            if (!index.data(PagedDeviceModel::LoadedRole).toBool()) {
                QSignalSpy loaded(&model, &PagedDeviceModel::pageLoaded);
                if (!QTest::qWaitFor(
                        [&] { return index.data(PagedDeviceModel::LoadedRole).toBool(); },
                        kTimeoutMs))
                    return {};
            }
            keys << index.data(PagedDeviceModel::KeyRole).toString();
        }
        return keys;
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        m_path = m_tmp.filePath(QStringLiteral("fleet.sqlite"));
        QElapsedTimer timer;
        timer.start();
        VERIFY_OK(
            testsupport::generateFleetDevices(m_path, kDevices, QDateTime::currentDateTimeUtc()));
        qInfo("generated %lld devices in %lld ms", static_cast<long long>(kDevices),
              static_cast<long long>(timer.elapsed()));
        m_db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("truth"));
        m_db.setDatabaseName(m_path);
        QVERIFY(m_db.open());
        QCOMPARE(sqlCount(QStringLiteral("1=1")), kDevices);
    }

    void cleanupTestCase() {
        m_db.close();
        m_db = QSqlDatabase();
        QSqlDatabase::removeDatabase(QStringLiteral("truth"));
    }

    void passesTheModelTesterThroughQueriesAndScrolling() {
        fleet::StoreDevicePages source(m_path);
        PagedDeviceModel model(source);
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy ready(&model, &PagedDeviceModel::queryFinished);
        QVERIFY(ready.wait(kTimeoutMs));
        QCOMPARE(model.rowCount(), int(kDevices));
        QCOMPARE(model.columnCount(), int(PagedDeviceModel::ColumnCount));
        // A row far down is a placeholder until its page arrives.
        const QModelIndex far = model.index(150'123, PagedDeviceModel::Name);
        QCOMPARE(far.data().toString(), PagedDeviceModel::placeholderText());
        QVERIFY(QTest::qWaitFor([&] { return far.data(PagedDeviceModel::LoadedRole).toBool(); },
                                kTimeoutMs));
        QCOMPARE(far.data(PagedDeviceModel::KeyRole).toString(), QStringLiteral("dev-0150123"));
        VERIFY_OK(model.setFilter(QStringLiteral("model = sensor-s2 and state = online")));
        QVERIFY(ready.wait(kTimeoutMs));
        QCOMPARE(qint64(model.rowCount()),
                 sqlCount(QStringLiteral("model = 'sensor-s2' AND online = 1")));
        model.sort(PagedDeviceModel::LastSeen, Qt::DescendingOrder);
        QVERIFY(ready.wait(kTimeoutMs));
        model.refresh();
        QSignalSpy loaded(&model, &PagedDeviceModel::pageLoaded);
        QVERIFY(loaded.wait(kTimeoutMs));
        // A bad expression is refused at once and the table stays as it was.
        const int before = model.rowCount();
        const Status refused = model.setFilter(QStringLiteral("model = "));
        QVERIFY(!refused);
        QVERIFY(refused.error().code.startsWith(u"filter."));
        QCOMPARE(model.rowCount(), before);
    }

    void filterAndSortGiveWhatSqlSelects_data() {
        QTest::addColumn<QString>("expression");
        QTest::addColumn<QString>("text");
        QTest::addColumn<int>("column");
        QTest::addColumn<bool>("descending");
        QTest::addColumn<QString>("where");  // written by hand, independent of the translation
        QTest::addColumn<QString>("order");
        QTest::newRow("everything by id")
            << QString() << QString() << int(PagedDeviceModel::Tags) << false
            << QStringLiteral("1=1") << QStringLiteral("device_id");
        QTest::newRow("model by name")
            << QStringLiteral("model = gateway-x1") << QString() << int(PagedDeviceModel::Name)
            << false << QStringLiteral("model = 'gateway-x1'") << QStringLiteral("name, device_id");
        QTest::newRow("hardware and group, last seen newest first")
            << QStringLiteral("hardware = rev-c and group = berlin") << QString()
            << int(PagedDeviceModel::LastSeen) << true
            << QStringLiteral("hardware = 'rev-c' AND group_name = 'berlin'")
            << QStringLiteral("last_seen_ms DESC, device_id DESC");
        // Tags and versions are matched past SQL (a superset, then DeviceFilter::matches).
        QTest::newRow("tag, by version")
            << QStringLiteral("tag = pilot") << QString() << int(PagedDeviceModel::Version) << false
            << QStringLiteral("tags = '[\"pilot\"]'") << QStringLiteral("version, device_id");
        QTest::newRow("version range offline, by model")
            << QStringLiteral("version >= 1.3.0 and state = offline") << QString()
            << int(PagedDeviceModel::Model) << false
            << QStringLiteral("version >= '1.3.0' AND online = 0")
            << QStringLiteral("model, hardware, device_id");
        QTest::newRow("free text")
            << QString() << QStringLiteral("0042") << int(PagedDeviceModel::Hardware) << true
            << QStringLiteral(
                   "(device_id LIKE '%0042%' OR name LIKE '%0042%' OR serial LIKE "
                   "'%0042%' OR model LIKE '%0042%' OR hardware LIKE '%0042%' OR "
                   "version LIKE '%0042%')")
            << QStringLiteral("hardware DESC, device_id DESC");
    }

    void filterAndSortGiveWhatSqlSelects() {
        QFETCH(QString, expression);
        QFETCH(QString, text);
        QFETCH(int, column);
        QFETCH(bool, descending);
        QFETCH(QString, where);
        QFETCH(QString, order);
        fleet::StoreDevicePages source(m_path);
        PagedDeviceModel model(source);
        QSignalSpy ready(&model, &PagedDeviceModel::queryFinished);
        QVERIFY(ready.wait(kTimeoutMs));
        VERIFY_OK(model.setFilter(expression, text));
        model.sort(column, descending ? Qt::DescendingOrder : Qt::AscendingOrder);
        if (!expression.isEmpty() || !text.isEmpty() || column != PagedDeviceModel::Tags)
            QVERIFY(ready.wait(kTimeoutMs));
        const qint64 total = sqlCount(where);
        QVERIFY(total > 0);
        QCOMPARE(qint64(model.rowCount()), total);
        // The first page, and one in the middle, row for row.
        QCOMPARE(modelKeys(model, 0, 50), sqlKeys(where, order, 0, 50));
        const int middle = int(total / 2);
        QCOMPARE(modelKeys(model, middle, 30), sqlKeys(where, order, middle, 30));
    }

    void scrollingReadsThePagesScrolledTo() {
        fleet::StoreDevicePages source(m_path);
        PagedDeviceModel model(source);
        QTableView view;
        view.verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
        view.verticalHeader()->setDefaultSectionSize(22);
        view.setModel(&model);
        view.resize(900, 600);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        QTRY_VERIFY_WITH_TIMEOUT(model.isReady(), kTimeoutMs);
        QTRY_COMPARE_WITH_TIMEOUT(
            view.indexAt(QPoint(5, 5)).data(PagedDeviceModel::LoadedRole).toBool(), true,
            kTimeoutMs);
        const qint64 fetchedAtTop = model.pagesFetched();
        QCOMPARE(fetchedAtTop, qint64(1));  // the count came with the first page
        // Jump to four places far apart: each shows its rows once its page arrived, and only a
        // handful of pages are read (not the 1,000 between).
        for (const int row : {50'000, 120'777, 199'990, 3'000}) {
            view.scrollTo(model.index(row, 0), QAbstractItemView::PositionAtTop);
            QTRY_VERIFY_WITH_TIMEOUT(
                view.indexAt(QPoint(5, 5)).data(PagedDeviceModel::LoadedRole).toBool(), kTimeoutMs);
            const QModelIndex top = view.indexAt(QPoint(5, 5));
            QCOMPARE(top.data(PagedDeviceModel::KeyRole).toString(),
                     QStringLiteral("dev-%1").arg(top.row(), 7, 10, QLatin1Char('0')));
        }
        QVERIFY2(model.pagesFetched() <= fetchedAtTop + 4 * 2,
                 qPrintable(QString::number(model.pagesFetched())));
        // Scrolling one page down by the scroll bar reads the next page.
        const qint64 before = model.pagesFetched();
        view.verticalScrollBar()->setValue(view.verticalScrollBar()->value() +
                                           PagedDeviceModel::kPageSize);
        QTRY_VERIFY_WITH_TIMEOUT(
            view.indexAt(QPoint(5, 5)).data(PagedDeviceModel::LoadedRole).toBool(), kTimeoutMs);
        QVERIFY(model.pagesFetched() > before);
        QVERIFY(model.cachedPageCount() <= PagedDeviceModel::kMaxCachedPages);
    }

    void bulkTagChangesExactlyTheSelectedDevices() {
        fleet::StoreDevicePages source(m_path);
        PagedDeviceModel model(source);
        QSignalSpy ready(&model, &PagedDeviceModel::queryFinished);
        QVERIFY(ready.wait(kTimeoutMs));
        VERIFY_OK(model.setFilter(QStringLiteral("model = meter-m3")));
        QVERIFY(ready.wait(kTimeoutMs));
        // Rows on the page held and on pages never shown.
        const QList<int> rows{3, 17, 199, 4'321, 50'001, 66'665};
        Result<QStringList> keys = QStringList();
        bool collected = false;
        model.collectKeys(rows, [&](const Result<QStringList>& got) {
            keys = got;
            collected = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(collected, kTimeoutMs);
        VERIFY_OK(keys);
        QCOMPARE(keys->size(), rows.size());
        QCOMPARE(*keys, sqlKeys(QStringLiteral("model = 'meter-m3'"), QStringLiteral("device_id"),
                                rows.at(0), 1) +
                            sqlKeys(QStringLiteral("model = 'meter-m3'"),
                                    QStringLiteral("device_id"), rows.at(1), 1) +
                            sqlKeys(QStringLiteral("model = 'meter-m3'"),
                                    QStringLiteral("device_id"), rows.at(2), 1) +
                            sqlKeys(QStringLiteral("model = 'meter-m3'"),
                                    QStringLiteral("device_id"), rows.at(3), 1) +
                            sqlKeys(QStringLiteral("model = 'meter-m3'"),
                                    QStringLiteral("device_id"), rows.at(4), 1) +
                            sqlKeys(QStringLiteral("model = 'meter-m3'"),
                                    QStringLiteral("device_id"), rows.at(5), 1));
        fleet::BulkRequest request;
        request.action = fleet::BulkAction::Tag;
        request.keys = *keys;
        request.value = QStringLiteral("bench-42");
        QFutureWatcher<Result<fleet::BulkOutcome>> watcher;
        QSignalSpy finished(&watcher, &QFutureWatcherBase::finished);
        watcher.setFuture(source.apply(request));
        QVERIFY(finished.wait(kTimeoutMs));
        const Result<fleet::BulkOutcome> outcome = watcher.result();
        VERIFY_OK(outcome);
        QCOMPARE(outcome->changed, qint64(rows.size()));
        QVERIFY(outcome->failed.isEmpty());
        QStringList tagged = sqlKeys(QStringLiteral("tags LIKE '%\"bench-42\"%'"),
                                     QStringLiteral("device_id"), 0, 100);
        QStringList expected = *keys;
        expected.sort();
        QCOMPARE(tagged, expected);
        // The filter language sees the new tag at once.
        VERIFY_OK(model.setFilter(QStringLiteral("tag = bench-42")));
        QVERIFY(ready.wait(kTimeoutMs));
        QCOMPARE(model.rowCount(), int(rows.size()));
    }

    void cancelledBulkChangeKeepsWhatItDid() {
        fleet::StoreDevicePages source(m_path);
        fleet::BulkRequest request;
        request.action = fleet::BulkAction::Group;
        request.value = QStringLiteral("hamburg");
        for (int i = 100'000; i < 160'000; ++i)
            request.keys << QStringLiteral("dev-%1").arg(i, 7, 10, QLatin1Char('0'));
        request.keys << QStringLiteral("no-such-device");
        QFutureWatcher<Result<fleet::BulkOutcome>> watcher;
        QSignalSpy finished(&watcher, &QFutureWatcherBase::finished);
        watcher.setFuture(source.apply(request));
        // Stopped once the first batch is in (progress 0 comes with the range, before any).
        QTRY_VERIFY_WITH_TIMEOUT(watcher.progressValue() > 0, kTimeoutMs);
        request.stop->store(true);
        QVERIFY(finished.count() > 0 || finished.wait(kTimeoutMs));
        QCOMPARE(watcher.future().resultCount(), 1);
        const Result<fleet::BulkOutcome> outcome = watcher.result();
        VERIFY_OK(outcome);
        QVERIFY(outcome->cancelled);
        QVERIFY(outcome->changed > 0);
        QVERIFY(outcome->changed < request.keys.size() - 1);
        QCOMPARE(outcome->changed % fleet::StoreDevicePages::kBulkBatch, 0);
        QCOMPARE(sqlCount(QStringLiteral("group_name = 'hamburg'")), outcome->changed);
        // An unknown device fails alone; the others change.
        fleet::BulkRequest small;
        small.action = fleet::BulkAction::Decommission;
        small.keys = {QStringLiteral("dev-0000007"), QStringLiteral("no-such-device")};
        QFutureWatcher<Result<fleet::BulkOutcome>> second;
        QSignalSpy secondDone(&second, &QFutureWatcherBase::finished);
        second.setFuture(source.apply(small));
        QVERIFY(secondDone.wait(kTimeoutMs));
        VERIFY_OK(second.result());
        QCOMPARE(second.result()->changed, qint64(1));
        QCOMPARE(second.result()->failed.size(), 1);
        QCOMPARE(second.result()->failed.first().second.code, QStringLiteral("store.not-found"));
        QCOMPARE(sqlCount(QStringLiteral("decommissioned = 1")), qint64(1));
    }

    void browserFiltersTagsAndExports() {
        auto source = std::make_shared<fleet::StoreDevicePages>(m_path);
        ui::DeviceBrowser browser(source);
        browser.resize(1180, 560);
        browser.show();
        QVERIFY(QTest::qWaitForWindowExposed(&browser));
        PagedDeviceModel& model = *browser.model();
        QSignalSpy ready(&model, &PagedDeviceModel::queryFinished);
        QTRY_VERIFY_WITH_TIMEOUT(model.isReady(), kTimeoutMs);
        // Nothing selected: the bulk actions say what to do.
        QAction* tag = browser.action(fleet::BulkAction::Tag);
        QVERIFY(!tag->isEnabled());
        QVERIFY(tag->toolTip().contains(QStringLiteral("Select devices")));
        // An expression, then plain words (a search), then a bad expression (refused).
        browser.filterBar()->setText(QStringLiteral("group = lyon and hardware = rev-b"));
        browser.applyFilterBar();
        QVERIFY(ready.wait(kTimeoutMs));
        QCOMPARE(qint64(model.rowCount()),
                 sqlCount(QStringLiteral("group_name = 'lyon' AND hardware = 'rev-b'")));
        QVERIFY(browser.countLabel()->text().contains(QStringLiteral("of")));
        QSignalSpy messages(&browser, &ui::DeviceBrowser::message);
        browser.filterBar()->setText(QStringLiteral("group = "));
        browser.applyFilterBar();
        QCOMPARE(messages.count(), 1);
        QVERIFY(model.filterExpression().startsWith(QStringLiteral("group = lyon")));
        browser.filterBar()->setText(QStringLiteral("Unit 000012"));
        browser.applyFilterBar();
        QVERIFY(ready.wait(kTimeoutMs));
        QCOMPARE(model.filterText(), QStringLiteral("Unit 000012"));
        QCOMPARE(qint64(model.rowCount()), sqlCount(QStringLiteral("name LIKE '%Unit 000012%'")));
        // Select three rows (Ctrl-click style) and tag them through the window.
        QTRY_VERIFY_WITH_TIMEOUT(model.index(0, 0).data(PagedDeviceModel::LoadedRole).toBool(),
                                 kTimeoutMs);
        QItemSelectionModel* selection = browser.table()->selectionModel();
        for (int row : {0, 2, 5})
            selection->select(model.index(row, 0),
                              QItemSelectionModel::Select | QItemSelectionModel::Rows);
        QVERIFY(tag->isEnabled());
        QStringList expected;
        for (int row : {0, 2, 5})
            expected << model.index(row, 0).data(PagedDeviceModel::KeyRole).toString();
        expected.sort();
        browser.setConfirm(false);
        browser.setPresetValue(QStringLiteral("window-tag"));
        QSignalSpy bulk(&browser, &ui::DeviceBrowser::bulkFinished);
        tag->trigger();
        QVERIFY(bulk.wait(kTimeoutMs));
        QCOMPARE(sqlKeys(QStringLiteral("tags LIKE '%\"window-tag\"%'"),
                         QStringLiteral("device_id"), 0, 100),
                 expected);
        QTRY_VERIFY_WITH_TIMEOUT(
            model.index(0, PagedDeviceModel::Tags).data().toString().contains(u"window-tag"),
            kTimeoutMs);
        if (const QString shots = qEnvironmentVariable("OTAFLEET_GRAB_DIR"); !shots.isEmpty())
            browser.grab().save(shots + QStringLiteral("/device-browser.png"));
        // CSV of what the list shows, in its order.
        const QString csv = m_tmp.filePath(QStringLiteral("shown.csv"));
        QSignalSpy exported(&browser, &ui::DeviceBrowser::exportFinished);
        browser.exportShown(csv);
        QVERIFY(exported.wait(kTimeoutMs));
        QVERIFY2(exported.first().at(0).toBool(), qPrintable(exported.first().at(1).toString()));
        QFile file(csv);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = file.readAll().trimmed().split('\n');
        QCOMPARE(lines.size(), model.rowCount() + 1);
        QVERIFY(lines.at(0).startsWith("name,address,device_id"));
        QVERIFY(lines.at(1).contains(expected.first().toUtf8()) ||
                lines.at(1).contains(
                    model.index(0, 0).data(PagedDeviceModel::KeyRole).toString().toUtf8()));
    }

    void actionsTheRoleForbidsAreDisabledWithTheReason() {
        // A viewer signed in to otafleetd: the list still reads (here nothing answers, which
        // the list reports), but no bulk action can start, and each says why.
        client::ConsoleSettings settings;
        settings.address = QStringLiteral("127.0.0.1:1");
        settings.caFile = m_tmp.filePath(QStringLiteral("missing-ca.pem"));
        settings.user = QStringLiteral("vera");
        auto source = std::make_shared<fleet::RemoteDevicePages>(settings, [] {
            return std::pair<QString, QString>(QStringLiteral("vera"), QStringLiteral("viewer"));
        });
        ui::DeviceBrowser browser(source);
        QSignalSpy messages(&browser, &ui::DeviceBrowser::message);
        QVERIFY(messages.wait(kTimeoutMs));  // the failed read, in words
        QVERIFY(!messages.first().first().toString().isEmpty());
        for (fleet::BulkAction action :
             {fleet::BulkAction::Tag, fleet::BulkAction::Untag, fleet::BulkAction::Group,
              fleet::BulkAction::Decommission}) {
            QAction* a = browser.action(action);
            QVERIFY(!a->isEnabled());
            QVERIFY2(a->toolTip().contains(QStringLiteral("viewer")), qPrintable(a->toolTip()));
        }
        QVERIFY(browser.action(fleet::BulkAction::Decommission)
                    ->toolTip()
                    .contains(QStringLiteral("admin")));
        // A technician may tag but not decommission.
        auto technician = std::make_shared<fleet::RemoteDevicePages>(settings, [] {
            return std::pair<QString, QString>(QStringLiteral("tim"), QStringLiteral("technician"));
        });
        QVERIFY(!technician->bulkBlocker(fleet::BulkAction::Tag));
        QVERIFY(technician->bulkBlocker(fleet::BulkAction::Decommission));
    }
};

QTEST_MAIN(TestPagedDeviceModel)
#include "tst_pageddevicemodel.moc"
