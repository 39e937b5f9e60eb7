// FleetStore on a real SQLite file: migrations, WAL, device CRUD, event log, persistence across
// reopen, refusal of a database from a newer otafleet, and independent connections.
#include "VerifyOk.h"
#include "store/FleetStore.h"

#include <QFile>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;
using store::FleetStore;

class TestFleetStore : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    int m_files = 0;
    QString newPath() { return m_tmp.filePath(QStringLiteral("fleet-%1.sqlite").arg(++m_files)); }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_tmp.isValid()); }

    void migratesNewFileToLatestInWalMode() {
        const QString path = newPath();
        auto opened = FleetStore::open(path);
        VERIFY_OK(opened);
        FleetStore& s = **opened;
        QCOMPARE(s.schemaVersion(), FleetStore::latestSchemaVersion());
        QVERIFY(FleetStore::latestSchemaVersion() >= 1);
        QCOMPARE(s.journalMode(), QStringLiteral("wal"));
        VERIFY_OK(s.devices().add(QStringLiteral("lan://10.0.0.1:1"), QStringLiteral("a")));
        QVERIFY(QFile::exists(path));
        QVERIFY(QFile::exists(path + QStringLiteral("-wal")));
    }

    void createsMissingFolders() {
        auto opened = FleetStore::open(m_tmp.filePath(QStringLiteral("a/b/c/fleet.sqlite")));
        VERIFY_OK(opened);
    }

    void deviceCrud() {
        auto opened = FleetStore::open(newPath());
        VERIFY_OK(opened);
        store::DeviceRepository& devices = (*opened)->devices();
        auto a = devices.add(QStringLiteral("lan://10.0.0.1:50051"), QStringLiteral("bench A"));
        auto b = devices.add(QStringLiteral("lan://10.0.0.2:50051"), QString());
        VERIFY_OK(a);
        VERIFY_OK(b);
        QVERIFY(*a != *b);

        auto all = devices.all();
        VERIFY_OK(all);
        QCOMPARE(all->size(), 2);
        QCOMPARE(all->at(0).uri, QStringLiteral("lan://10.0.0.1:50051"));
        QCOMPARE(all->at(0).displayName, QStringLiteral("bench A"));
        QVERIFY(!all->at(0).lastSeen.isValid());
        QVERIFY(all->at(0).added.isValid());

        const QDateTime seen = QDateTime::fromMSecsSinceEpoch(1700000000123, Qt::UTC);
        VERIFY_OK(devices.recordSnapshot(*a, R"({"name":"x"})", seen));
        VERIFY_OK(devices.recordError(*a, QStringLiteral("link.unreachable"),
                                      QStringLiteral("The device did not answer.")));
        auto got = devices.get(*a);
        VERIFY_OK(got);
        QCOMPARE(got->snapshotJson, QByteArray(R"({"name":"x"})"));
        QCOMPARE(got->lastSeen, seen);
        QCOMPARE(got->lastErrorCode, QStringLiteral("link.unreachable"));
        // A new report keeps the error: only the caller knows whether it is resolved.
        VERIFY_OK(devices.recordSnapshot(*a, R"({"name":"y"})", seen));
        QCOMPARE(devices.get(*a)->lastErrorCode, QStringLiteral("link.unreachable"));
        VERIFY_OK(devices.clearError(*a));
        QVERIFY(devices.get(*a)->lastErrorCode.isEmpty());

        VERIFY_OK(devices.rename(*b, QStringLiteral("bench B")));
        QCOMPARE(devices.get(*b)->displayName, QStringLiteral("bench B"));

        VERIFY_OK(devices.remove(*a));
        auto gone = devices.get(*a);
        QVERIFY(!gone);
        QCOMPARE(gone.error().code, QStringLiteral("store.not-found"));
        QCOMPARE(devices.remove(*a).error().code, QStringLiteral("store.not-found"));
        QCOMPARE(devices.rename(*a, QStringLiteral("x")).error().code,
                 QStringLiteral("store.not-found"));
        QCOMPARE(devices.all()->size(), 1);
    }

    void refusesInvalidInput_data() {
        QTest::addColumn<QString>("uri");
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("code");
        QTest::newRow("empty uri")
            << QString() << QString() << QStringLiteral("store.invalid-input");
        QTest::newRow("long name") << QStringLiteral("lan://h:1") << QString(201, QLatin1Char('n'))
                                   << QStringLiteral("store.invalid-input");
        QTest::newRow("duplicate") << QStringLiteral("lan://dup:1") << QStringLiteral("again")
                                   << QStringLiteral("store.duplicate");
    }
    void refusesInvalidInput() {
        QFETCH(QString, uri);
        QFETCH(QString, name);
        QFETCH(QString, code);
        auto opened = FleetStore::open(newPath());
        VERIFY_OK(opened);
        VERIFY_OK((*opened)->devices().add(QStringLiteral("lan://dup:1"), QStringLiteral("first")));
        auto added = (*opened)->devices().add(uri, name);
        QVERIFY(!added);
        QCOMPARE(added.error().code, code);
        QVERIFY(!added.error().message.isEmpty());
    }

    void refusesOversizedSnapshot() {
        auto opened = FleetStore::open(newPath());
        VERIFY_OK(opened);
        auto id = (*opened)->devices().add(QStringLiteral("lan://h:1"), QString());
        VERIFY_OK(id);
        const QByteArray huge(store::DeviceRepository::kMaxSnapshotBytes + 1, 'x');
        auto saved =
            (*opened)->devices().recordSnapshot(*id, huge, QDateTime::currentDateTimeUtc());
        QVERIFY(!saved);
        QCOMPARE(saved.error().code, QStringLiteral("store.invalid-input"));
    }

    void eventLogNewestFirstAndBounded() {
        auto opened = FleetStore::open(newPath());
        VERIFY_OK(opened);
        store::EventLog& log = (*opened)->events();
        for (int i = 0; i < 5; ++i)
            VERIFY_OK(log.append(7, QStringLiteral("update.started"), QString::number(i)));
        VERIFY_OK(log.append(8, QStringLiteral("device.added"), QStringLiteral("other")));
        auto events = log.forDevice(7, 3);
        VERIFY_OK(events);
        QCOMPARE(events->size(), 3);
        QCOMPARE(events->at(0).detail, QStringLiteral("4"));
        QCOMPARE(events->at(2).detail, QStringLiteral("2"));
        QCOMPARE(events->at(0).deviceId, 7);
        QCOMPARE(events->at(0).kind, QStringLiteral("update.started"));
        QVERIFY(events->at(0).time.isValid());
        QCOMPARE(log.forDevice(8)->size(), 1);
        QCOMPARE(log.forDevice(9)->size(), 0);
    }

    void reopenKeepsEverything() {
        const QString path = newPath();
        qint64 id = 0;
        {
            auto opened = FleetStore::open(path);
            VERIFY_OK(opened);
            auto added =
                (*opened)->devices().add(QStringLiteral("lan://keep:1"), QStringLiteral("kept"));
            VERIFY_OK(added);
            id = *added;
            VERIFY_OK((*opened)->events().append(id, QStringLiteral("device.added"),
                                                 QStringLiteral("kept")));
        }
        auto reopened = FleetStore::open(path);
        VERIFY_OK(reopened);
        QCOMPARE((*reopened)->schemaVersion(), FleetStore::latestSchemaVersion());
        auto got = (*reopened)->devices().get(id);
        VERIFY_OK(got);
        QCOMPARE(got->displayName, QStringLiteral("kept"));
        QCOMPARE((*reopened)->events().forDevice(id)->size(), 1);
    }

    // Schema 6: otafleetd's rollouts keep their release and target beside the console's
    // embedded ones (bundle file), in one table, and read back after reopening.
    void rolloutsOfBothKinds() {
        const QString path = newPath();
        {
            auto opened = FleetStore::open(path);
            VERIFY_OK(opened);
            auto embedded =
                (*opened)->rollouts().add(QStringLiteral("lab"), QStringLiteral("/b/fw.otab"),
                                          QStringLiteral("draft"), QByteArrayLiteral("{\"a\":1}"));
            VERIFY_OK(embedded);
            store::RolloutRecord server;
            server.name = QStringLiteral("gw 2.0.0 to tag=pilot");
            server.releaseId = QString(64, u'a');
            server.target = QStringLiteral("tag=pilot");
            server.state = QStringLiteral("draft");
            server.engineJson = QByteArrayLiteral("{\"b\":2}");
            auto id = (*opened)->rollouts().addForRelease(server);
            VERIFY_OK(id);
            VERIFY_OK((*opened)->rollouts().save(*id, QStringLiteral("running"),
                                                 QByteArrayLiteral("{\"b\":3}")));
        }
        auto reopened = FleetStore::open(path);
        VERIFY_OK(reopened);
        auto all = (*reopened)->rollouts().all();
        VERIFY_OK(all);
        QCOMPARE(all->size(), 2);
        QCOMPARE(all->at(0).bundlePath, QStringLiteral("/b/fw.otab"));
        QCOMPARE(all->at(0).releaseId, QString());
        QCOMPARE(all->at(1).releaseId, QString(64, u'a'));
        QCOMPARE(all->at(1).target, QStringLiteral("tag=pilot"));
        QCOMPARE(all->at(1).state, QStringLiteral("running"));
        QCOMPARE(all->at(1).engineJson, QByteArrayLiteral("{\"b\":3}"));
        QCOMPARE(all->at(1).bundlePath, QString());
    }

    void twoStoresOnOneFileShareData() {
        const QString path = newPath();
        auto first = FleetStore::open(path);
        auto second = FleetStore::open(path);
        VERIFY_OK(first);
        VERIFY_OK(second);
        VERIFY_OK((*first)->devices().add(QStringLiteral("lan://shared:1"), QString()));
        QCOMPARE((*second)->devices().all()->size(), 1);
        first->reset();
        QCOMPARE((*second)->devices().all()->size(), 1);
    }

    void refusesNewerSchema() {
        const QString path = newPath();
        {
            auto opened = FleetStore::open(path);
            VERIFY_OK(opened);
        }
        {
            QSqlDatabase db =
                QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("tamper"));
            db.setDatabaseName(path);
            QVERIFY(db.open());
            QSqlQuery query(db);
            QVERIFY(query.exec(QStringLiteral("PRAGMA user_version = 999")));
            db.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("tamper"));
        auto opened = FleetStore::open(path);
        QVERIFY(!opened);
        QCOMPARE(opened.error().code, QStringLiteral("store.too-new"));
    }

    void reportsUnopenableFile() {
        // A directory where the database file should be.
        const QString path = m_tmp.filePath(QStringLiteral("is-a-dir.sqlite"));
        QVERIFY(QDir().mkpath(path));
        auto opened = FleetStore::open(path);
        QVERIFY(!opened);
        QCOMPARE(opened.error().code, QStringLiteral("store.open-failed"));
    }
};

QTEST_GUILESS_MAIN(TestFleetStore)
#include "tst_fleetstore.moc"
