// The device filter as SQL (server/FleetDeviceSql.h), on a real SQLite store of devices that
// differ in every field a filter tests: for each expression, the devices the database selects are
// exactly those DeviceFilter::matches() accepts when the translation says it is exact, and a
// superset of them otherwise (never a device fewer); a page reads the same devices in the same
// order as paging the matching list by hand.
#include "VerifyOk.h"
#include "server/DeviceFacts.h"
#include "server/FleetDeviceSql.h"
#include "store/FleetStore.h"

#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;

class TestFleetDeviceSql : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    std::unique_ptr<store::FleetStore> m_store;
    QList<store::FleetDeviceRecord> m_all;

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        auto opened = store::FleetStore::open(m_tmp.filePath(QStringLiteral("fleet.sqlite")));
        VERIFY_OK(opened);
        m_store = std::move(*opened);
        store::FleetDeviceRepository& devices = m_store->fleetDevices();
        const QDateTime now = QDateTime::currentDateTimeUtc();
        const QStringList versions{QStringLiteral("1.9.0"), QStringLiteral("1.10.0"),
                                   QStringLiteral("2.0.0-rc.1"), QStringLiteral("2.0.0"),
                                   QStringLiteral("not-semver")};
        for (int i = 0; i < 60; ++i) {
            store::FleetDeviceRecord d;
            d.deviceId = QStringLiteral("dev-%1").arg(i, 2, 10, QLatin1Char('0'));
            d.name = i % 7 ? d.deviceId : QStringLiteral("lab bench");
            d.model = i % 3 ? QStringLiteral("gw-x1") : QStringLiteral("gw-x2");
            d.hardware = i % 2 ? QStringLiteral("rev-a") : QStringLiteral("rev-b");
            d.version = versions.at(i % versions.size());
            VERIFY_OK(devices.recordInventory(d, now));
            if (i % 4 == 1)
                VERIFY_OK(devices.setOnline(d.deviceId, true, now));
            if (i % 5 == 0)
                VERIFY_OK(devices.addTag(d.deviceId, QStringLiteral("pilot")));
            if (i % 6 == 0)
                VERIFY_OK(devices.setGroup(d.deviceId, QStringLiteral("berlin")));
        }
        auto all = devices.all();
        VERIFY_OK(all);
        m_all = *all;
    }

    void selectsWhatTheFilterMatches_data() {
        QTest::addColumn<QString>("expression");
        QTest::addColumn<bool>("exact");
        QTest::newRow("everything") << QString() << true;
        QTest::newRow("model") << QStringLiteral("model=gw-x2") << true;
        QTest::newRow("model and hardware")
            << QStringLiteral("model=gw-x1 and hardware=rev-a") << true;
        QTest::newRow("or and not")
            << QStringLiteral("model=gw-x2 or not (hardware=rev-a and online=true)") << true;
        QTest::newRow("name with a space") << QStringLiteral("name='lab bench'") << true;
        QTest::newRow("id not equal") << QStringLiteral("id!=dev-07") << true;
        QTest::newRow("group") << QStringLiteral("group=berlin") << true;
        QTest::newRow("not in group") << QStringLiteral("group!=berlin") << true;
        QTest::newRow("offline") << QStringLiteral("state=offline") << true;
        QTest::newRow("online false") << QStringLiteral("online!=false") << true;
        QTest::newRow("tag") << QStringLiteral("tag=pilot and online=true") << false;
        QTest::newRow("not tag") << QStringLiteral("not tag=pilot") << false;
        QTest::newRow("version order") << QStringLiteral("model=gw-x1 and version<2.0.0") << false;
        QTest::newRow("not version")
            << QStringLiteral("not (version>=1.10.0 or model=gw-x2)") << false;
        QTest::newRow("quote in value") << QStringLiteral("model=\"it's\"") << true;
    }

    void selectsWhatTheFilterMatches() {
        QFETCH(QString, expression);
        QFETCH(bool, exact);
        auto filter = rollout::DeviceFilter::parse(expression);
        VERIFY_OK(filter);
        const server::DeviceSql sql = server::deviceSqlOf(*filter);
        QCOMPARE(sql.exact, exact);
        QStringList expected;
        for (const store::FleetDeviceRecord& d : std::as_const(m_all)) {
            if (filter->matches(server::factsOf(d)))
                expected << d.deviceId;
        }
        QStringList selected;
        VERIFY_OK(m_store->fleetDevices().scan(sql.where, [&](const store::FleetDeviceRecord& d) {
            selected << d.deviceId;
            return true;
        }));
        if (exact) {
            QCOMPARE(selected, expected);
            // Paged by the database: the same devices, page by page.
            QStringList paged;
            for (int page = 0; page < 20; ++page) {
                auto p = m_store->fleetDevices().page(page, 7, sql.where);
                VERIFY_OK(p);
                QCOMPARE(p->total, qint64(expected.size()));
                for (const store::FleetDeviceRecord& d : std::as_const(p->devices))
                    paged << d.deviceId;
            }
            QCOMPARE(paged, expected);
        } else {
            for (const QString& id : std::as_const(expected))
                QVERIFY2(selected.contains(id), qPrintable(id));
        }
        // Not a filter that selects everything or nothing, except where meant to.
        if (!expression.isEmpty() && !expression.startsWith(u"model=\""))
            QVERIFY(!expected.isEmpty() && expected.size() < m_all.size());
    }
};

QTEST_GUILESS_MAIN(TestFleetDeviceSql)
#include "tst_fleetdevicesql.moc"
