// otafleetd's repositories, run twice: on real SQLite files and on a real PostgreSQL server that
// the test starts in a temp dir (skipped, saying so, where PostgreSQL is not installed): scrypt
// password hashes, users and roles, the hash-chained audit log (and its verification naming the
// first altered row, whatever was done to the database), fleet devices with tags, groups, paging
// and the summary, and releases.
#include "PostgresServer.h"
#include "VerifyOk.h"
#include "store/FleetStore.h"
#include "store/PasswordHash.h"

#include <QCoreApplication>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace otafleet;
using namespace otafleet::store;

enum class Backend { Sqlite, Postgres };

class TestServerStore : public QObject {
    Q_OBJECT

public:
    explicit TestServerStore(Backend backend) : m_backend(backend) {}

private:
    Backend m_backend;
    QTemporaryDir m_tmp;
    std::unique_ptr<test::PostgresServer> m_postgres;
    int m_files = 0;

    // A new, empty store: a SQLite file, or a fresh database on the PostgreSQL server.
    QString newPath() {
        if (m_backend == Backend::Sqlite)
            return m_tmp.filePath(QStringLiteral("server-%1.sqlite").arg(++m_files));
        QString why;
        const QString url = m_postgres->createDatabase(&why);
        if (url.isEmpty())
            qFatal("cannot create a PostgreSQL database: %s", qPrintable(why));
        return url;
    }

    // Writes behind the store's back, as an attacker with the file (or database) would.
    void tamper(const QString& path, const QString& statement) {
        if (m_backend == Backend::Postgres) {
            QString why;
            QVERIFY2(m_postgres->execute(path, statement, &why), qPrintable(why));
            return;
        }
        const QString name = QStringLiteral("tamper-%1").arg(reinterpret_cast<quintptr>(&path));
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
            db.setDatabaseName(path);
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY2(q.exec(statement), qPrintable(q.lastError().text()));
            db.close();
        }
        QSqlDatabase::removeDatabase(name);
    }

    static void fillAudit(FleetStore& s, int n) {
        for (int i = 1; i <= n; ++i) {
            VERIFY_OK(s.audit().append(QStringLiteral("admin"), QStringLiteral("user:u%1").arg(i),
                                       QStringLiteral("user.add"), QStringLiteral("role viewer")));
        }
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        if (m_backend == Backend::Sqlite)
            return;
        QString why;
        if (!test::PostgresServer::installed(&why))
            QSKIP(qPrintable(QStringLiteral("PostgreSQL run skipped: %1.").arg(why)));
        m_postgres = std::make_unique<test::PostgresServer>();
        QVERIFY2(m_postgres->start(&why), qPrintable(why));
    }

    void storeIsOnItsBackend() {
        auto opened = FleetStore::open(newPath());
        VERIFY_OK(opened);
        QCOMPARE((*opened)->isPostgres(), m_backend == Backend::Postgres);
        QCOMPARE((*opened)->journalMode(), m_backend == Backend::Postgres
                                               ? QStringLiteral("postgresql")
                                               : QStringLiteral("wal"));
        QCOMPARE((*opened)->schemaVersion(), FleetStore::latestSchemaVersion());
        // Reopening migrates nothing and keeps what was written.
        const QString path = (*opened)->path();
        VERIFY_OK((*opened)->audit().append(QStringLiteral("admin"), QStringLiteral("x"),
                                            QStringLiteral("test"), QString()));
        opened->reset();
        auto again = FleetStore::open(path);
        VERIFY_OK(again);
        QCOMPARE((*again)->schemaVersion(), FleetStore::latestSchemaVersion());
        QCOMPARE((*again)->audit().verify()->entries, 1);
    }

    void badPostgresLocations_data() {
        QTest::addColumn<QString>("location");
        QTest::addColumn<QString>("code");
        QTest::newRow("no database") << QStringLiteral("postgresql://u@localhost:1/")
                                     << QStringLiteral("store.location-invalid");
        QTest::newRow("password in url") << QStringLiteral("postgresql://u:secret@localhost/db")
                                         << QStringLiteral("store.location-invalid");
        QTest::newRow("bad option") << QStringLiteral("postgresql://u@localhost/db?a;b=1")
                                    << QStringLiteral("store.location-invalid");
        QTest::newRow("nobody listens")
            << QStringLiteral("postgresql://u@/db?host=%1&port=9").arg(m_tmp.path())
            << QStringLiteral("store.open-failed");
    }
    void badPostgresLocations() {
        if (m_backend == Backend::Sqlite)
            QSKIP("PostgreSQL locations are checked in the PostgreSQL run");
        QFETCH(QString, location);
        QFETCH(QString, code);
        auto opened = FleetStore::open(location);
        QVERIFY(!opened);
        QCOMPARE(opened.error().code, code);
        QVERIFY(!opened.error().message.contains(QStringLiteral("secret")));
    }

    void passwordHashRoundTrip() {
        auto hash = PasswordHash::make("correct horse battery");
        VERIFY_OK(hash);
        QVERIFY(hash->startsWith(QStringLiteral("scrypt$32768$8$1$")));
        QVERIFY(PasswordHash::matches("correct horse battery", *hash));
        QVERIFY(!PasswordHash::matches("correct horse batterY", *hash));
        QVERIFY(!PasswordHash::matches("", *hash));
        // Salted: the same password hashes differently.
        QVERIFY(*PasswordHash::make("correct horse battery") != *hash);
        // Malformed or absurd stored hashes never match and never run away.
        QVERIFY(!PasswordHash::matches("x", QString()));
        QVERIFY(
            !PasswordHash::matches("correct horse battery", QStringLiteral("scrypt$1$8$1$a$b")));
        QVERIFY(!PasswordHash::matches("correct horse battery",
                                       QStringLiteral("scrypt$1099511627776$8$1$AAAA$AAAA")));
        const auto tooShort = PasswordHash::make("short");
        QVERIFY(!tooShort);
        QCOMPARE(tooShort.error().code, QStringLiteral("store.password-invalid"));
        QVERIFY(!PasswordHash::make(QByteArray(PasswordHash::kMaxLength + 1, 'a')));
    }

    void usersAndRoles() {
        auto opened = FleetStore::open(newPath());
        VERIFY_OK(opened);
        UserRepository& users = (*opened)->users();
        VERIFY_OK(users.add(UserRecord{
            QStringLiteral("admin"), Role::Admin, QString(), QStringLiteral("AABB"), false, {}}));
        VERIFY_OK(users.add(UserRecord{QStringLiteral("vera"),
                                       Role::Viewer,
                                       *PasswordHash::make("viewer-password"),
                                       QString(),
                                       false,
                                       {}}));
        const auto dup =
            users.add(UserRecord{QStringLiteral("vera"), Role::Admin, {}, {}, false, {}});
        QVERIFY(!dup);
        QCOMPARE(dup.error().code, QStringLiteral("store.duplicate"));
        const auto badName =
            users.add(UserRecord{QStringLiteral("bad name"), Role::Admin, {}, {}, false, {}});
        QCOMPARE(badName.error().code, QStringLiteral("store.invalid-input"));

        auto byCert = users.findByCertificate(QStringLiteral("aabb"));
        VERIFY_OK(byCert);
        QVERIFY(byCert->has_value());
        QCOMPARE((*byCert)->name, QStringLiteral("admin"));
        QVERIFY(!users.findByCertificate(QString())->has_value());

        VERIFY_OK(users.setRole(QStringLiteral("vera"), Role::Approver));
        VERIFY_OK(users.setDisabled(QStringLiteral("vera"), true));
        auto vera = users.get(QStringLiteral("vera"));
        VERIFY_OK(vera);
        QCOMPARE(vera->role, Role::Approver);
        QVERIFY(vera->disabled);
        QCOMPARE(users.setRole(QStringLiteral("nobody"), Role::Admin).error().code,
                 QStringLiteral("store.not-found"));
        QCOMPARE(users.all()->size(), 2);

        for (Role r :
             {Role::Viewer, Role::Technician, Role::ReleaseManager, Role::Approver, Role::Admin}) {
            QCOMPARE(parseRole(roleName(r)), std::optional<Role>(r));
        }
        QVERIFY(!parseRole(QStringLiteral("root")));
    }

    void auditChainVerifies() {
        const QString path = newPath();
        auto opened = FleetStore::open(path);
        VERIFY_OK(opened);
        fillAudit(**opened, 5);
        auto verdict = (*opened)->audit().verify();
        VERIFY_OK(verdict);
        QVERIFY(verdict->intact);
        QCOMPARE(verdict->entries, 5);
        auto page = (*opened)->audit().list(2, 2);
        VERIFY_OK(page);
        QCOMPARE(page->size(), 2);
        QCOMPARE(page->at(0).id, 3);
        QCOMPARE(page->at(0).prevHash, (*opened)->audit().list(1, 1)->at(0).entryHash);
    }

    void auditTamperingIsNamed_data() {
        QTest::addColumn<QString>("statement");
        QTest::addColumn<qint64>("firstBad");
        QTest::newRow("detail changed")
            << QStringLiteral("UPDATE audit SET detail = 'x' WHERE id = 3") << qint64(3);
        QTest::newRow("actor changed")
            << QStringLiteral("UPDATE audit SET actor = 'eve' WHERE id = 1") << qint64(1);
        QTest::newRow("row deleted")
            << QStringLiteral("DELETE FROM audit WHERE id = 2") << qint64(3);
        QTest::newRow("tail deleted")
            << QStringLiteral("DELETE FROM audit WHERE id >= 4") << qint64(4);
        QTest::newRow("hash rewritten")
            << QStringLiteral("UPDATE audit SET detail = 'x', entry_hash = 'ab' WHERE id = 2")
            << qint64(2);
    }
    void auditTamperingIsNamed() {
        QFETCH(QString, statement);
        QFETCH(qint64, firstBad);
        const QString path = newPath();
        {
            auto opened = FleetStore::open(path);
            VERIFY_OK(opened);
            fillAudit(**opened, 5);
        }
        tamper(path, statement);
        auto opened = FleetStore::open(path);
        VERIFY_OK(opened);
        auto verdict = (*opened)->audit().verify();
        VERIFY_OK(verdict);
        QVERIFY(!verdict->intact);
        QCOMPARE(verdict->firstBadId, firstBad);
        QVERIFY(verdict->reason.contains(QStringLiteral("entry %1").arg(firstBad)));
    }

    void fleetDevicesInventoryTagsPagingSummary() {
        auto opened = FleetStore::open(newPath());
        VERIFY_OK(opened);
        FleetDeviceRepository& devices = (*opened)->fleetDevices();
        const QDateTime now = QDateTime::currentDateTimeUtc();
        for (int i = 0; i < 25; ++i) {
            FleetDeviceRecord d;
            d.deviceId = QStringLiteral("dev-%1").arg(i, 2, 10, QLatin1Char('0'));
            d.model = QStringLiteral("gw-x1");
            d.hardware = i % 2 ? QStringLiteral("rev-a") : QStringLiteral("rev-b");
            d.version = i < 10 ? QStringLiteral("1.0.0") : QStringLiteral("1.1.0");
            VERIFY_OK(devices.recordInventory(d, now));
        }
        VERIFY_OK(devices.setOnline(QStringLiteral("dev-03"), true, now));
        VERIFY_OK(devices.addTag(QStringLiteral("dev-03"), QStringLiteral("pilot")));
        VERIFY_OK(devices.addTag(QStringLiteral("dev-03"), QStringLiteral("pilot")));
        VERIFY_OK(devices.addTag(QStringLiteral("dev-03"), QStringLiteral("lab")));
        VERIFY_OK(devices.setGroup(QStringLiteral("dev-03"), QStringLiteral("berlin")));
        // A new report refreshes the inventory but keeps what operators set.
        FleetDeviceRecord again;
        again.deviceId = QStringLiteral("dev-03");
        again.model = QStringLiteral("gw-x1");
        again.hardware = QStringLiteral("rev-a");
        again.version = QStringLiteral("2.0.0");
        VERIFY_OK(devices.recordInventory(again, now));
        auto d3 = devices.get(QStringLiteral("dev-03"));
        VERIFY_OK(d3);
        QCOMPARE(d3->tags, (QStringList{QStringLiteral("lab"), QStringLiteral("pilot")}));
        QCOMPARE(d3->group, QStringLiteral("berlin"));
        QCOMPARE(d3->version, QStringLiteral("2.0.0"));
        QVERIFY(d3->online);
        VERIFY_OK(devices.removeTag(QStringLiteral("dev-03"), QStringLiteral("lab")));
        QCOMPARE(devices.get(QStringLiteral("dev-03"))->tags, QStringList{QStringLiteral("pilot")});
        QCOMPARE(devices.addTag(QStringLiteral("nope"), QStringLiteral("x")).error().code,
                 QStringLiteral("store.not-found"));

        auto page = devices.page(2, 10);
        VERIFY_OK(page);
        QCOMPARE(page->total, 25);
        QCOMPARE(page->devices.size(), 5);
        QCOMPARE(page->devices.first().deviceId, QStringLiteral("dev-20"));
        QVERIFY(devices.page(9, 10)->devices.isEmpty());

        VERIFY_OK(devices.decommission(QStringLiteral("dev-24")));
        auto summary = devices.summary();
        VERIFY_OK(summary);
        QCOMPARE(summary->devices, 24);
        QCOMPARE(summary->online, 1);
        QCOMPARE(summary->decommissioned, 1);
        qint64 counted = 0;
        for (const VersionCount& c : summary->versions)
            counted += c.devices;
        QCOMPARE(counted, 24);
        VERIFY_OK(devices.markAllOffline());
        QCOMPARE(devices.summary()->online, 0);
    }

    void deviceTelemetryAggregates() {
        auto opened = FleetStore::open(newPath());
        VERIFY_OK(opened);
        DeviceTelemetryRepository& t = (*opened)->deviceTelemetry();
        const QDateTime hour = QDateTime::fromMSecsSinceEpoch(1767225600000, Qt::UTC);
        const auto record = [&](const QString& device, quint64 seq, int minutes,
                                const QString& event, const QString& code = {},
                                quint64 durationMs = 0) {
            DeviceTelemetryRecord r;
            r.deviceId = device;
            r.seq = seq;
            r.time = hour.addSecs(minutes * 60);
            r.model = QStringLiteral("gw-x1");
            r.hardware = QStringLiteral("rev-a");
            r.version = QStringLiteral("2.0.0");
            r.event = event;
            r.errorCode = code;
            r.durationMs = durationMs;
            r.bytes = 1000;
            return r;
        };
        VERIFY_OK(
            t.append({record(QStringLiteral("d1"), 1, 5, QStringLiteral("install-done"), {}, 1000),
                      record(QStringLiteral("d2"), 1, 10, QStringLiteral("install-done"), {}, 3000),
                      record(QStringLiteral("d3"), 1, 20, QStringLiteral("install-failed"),
                             QStringLiteral("crypto.signature-invalid")),
                      record(QStringLiteral("d3"), 2, 70, QStringLiteral("boot"),
                             QStringLiteral("agent.tamper-detected")),
                      record(QStringLiteral("d4"), 1, 75, QStringLiteral("revert"),
                             QStringLiteral("agent.health-check-failed"))}));
        // Sent again after a reconnect: kept once.
        VERIFY_OK(t.append({record(QStringLiteral("d1"), 1, 5, QStringLiteral("install-done"))}));
        QCOMPARE(*t.count(), 5);
        QCOMPARE(t.append({DeviceTelemetryRecord{}}).error().code,
                 QStringLiteral("store.invalid-input"));

        TelemetryQuery all;
        all.since = hour;
        all.until = hour.addSecs(2 * 3600);
        auto buckets = t.hourly(all);
        VERIFY_OK(buckets);
        QCOMPARE(buckets->size(), 4);  // hour 1: install-done, install-failed; hour 2: boot, revert
        const TelemetryBucketRow& done = buckets->at(0);
        QCOMPARE(done.hour, hour);
        QCOMPARE(done.event, QStringLiteral("install-done"));
        QCOMPARE(done.count, 2);
        QCOMPARE(done.devices, 2);
        QCOMPARE(done.avgDurationMs, 2000.0);
        QCOMPARE(done.bytes, 2000);
        QCOMPARE(buckets->at(2).hour, hour.addSecs(3600));

        auto reasons = t.failureReasons(all);
        VERIFY_OK(reasons);
        QCOMPARE(reasons->size(), 3);
        TelemetryQuery otherModel = all;
        otherModel.model = QStringLiteral("gw-x2");
        QVERIFY(t.hourly(otherModel)->isEmpty());

        auto outcomes = t.outcomes(hour, hour.addSecs(2 * 3600));
        VERIFY_OK(outcomes);
        QCOMPARE(outcomes->finished, 4);
        QCOMPARE(outcomes->failed, 2);

        auto tampered = t.latestWithError({QStringLiteral("agent.tamper-detected")}, {});
        VERIFY_OK(tampered);
        QCOMPARE(tampered->size(), 1);
        QCOMPARE(tampered->first().deviceId, QStringLiteral("d3"));
        QCOMPARE(tampered->first().event, QStringLiteral("boot"));
        auto signatures = t.latestWithError({}, {QStringLiteral("crypto.signature-")});
        VERIFY_OK(signatures);
        QCOMPARE(signatures->size(), 1);
        QCOMPARE(signatures->first().errorCode, QStringLiteral("crypto.signature-invalid"));
    }

    // otafleetd's rollouts: a header plus one row per device; a save rewrites the header and the
    // rows it is given, in one transaction, and leaves every other row as it was.
    void rolloutDeviceRows() {
        auto opened = FleetStore::open(newPath());
        VERIFY_OK(opened);
        RolloutRepository& rollouts = (*opened)->rollouts();
        RolloutRecord record;
        record.name = QStringLiteral("gw 2.0.0 to all");
        record.releaseId = QString(64, u'b');
        record.state = QStringLiteral("draft");
        record.engineJson = QByteArrayLiteral("{\"h\":1}");
        QList<RolloutDeviceRow> rows;
        for (int i = 0; i < 300; ++i)
            rows.append({i, QStringLiteral("dev-%1").arg(i), QStringLiteral("pending"), -1, 0, 0,
                         QString(), 0});
        auto id = rollouts.addForRelease(record, rows);
        VERIFY_OK(id);
        RolloutDeviceRow changed{7,
                                 QStringLiteral("dev-7"),
                                 QStringLiteral("failed"),
                                 0,
                                 2,
                                 1234,
                                 QStringLiteral("health check refused 2.0.0"),
                                 0};
        RolloutDeviceRow queued{
            299, QStringLiteral("dev-299"), QStringLiteral("pending"), 1, 1, 99, QString(), 41};
        VERIFY_OK(rollouts.saveWithDevices(*id, QStringLiteral("running"),
                                           QByteArrayLiteral("{\"h\":2}"), {changed, queued}));
        auto stored = rollouts.devices(*id);
        VERIFY_OK(stored);
        QCOMPARE(stored->size(), 300);
        for (int i = 0; i < 300; ++i)
            QCOMPARE(stored->at(i).position, qint64(i));
        QCOMPARE(stored->at(7).state, QStringLiteral("failed"));
        QCOMPARE(stored->at(7).reason, QStringLiteral("health check refused 2.0.0"));
        QCOMPARE(stored->at(7).attempts, 2);
        QCOMPARE(stored->at(7).offeredAtMs, qint64(1234));
        QCOMPARE(stored->at(299).queueSeq, qint64(41));
        QCOMPARE(stored->at(299).wave, 1);
        QCOMPARE(stored->at(8).state, QStringLiteral("pending"));
        QCOMPARE(stored->at(8).wave, -1);
        auto all = rollouts.all();
        VERIFY_OK(all);
        QCOMPARE(all->first().state, QStringLiteral("running"));
        QCOMPARE(all->first().engineJson, QByteArrayLiteral("{\"h\":2}"));
        // A save that fails writes nothing: neither the header nor any row.
        QCOMPARE(rollouts.saveWithDevices(*id + 1, QStringLiteral("paused"), "{}", {changed})
                     .error()
                     .code,
                 QStringLiteral("store.unknown-rollout"));
        QCOMPARE(rollouts.devices(*id + 1)->size(), 0);
        QVERIFY(rollouts.devices(*id)->size() == 300);
    }

    void releases() {
        auto opened = FleetStore::open(newPath());
        VERIFY_OK(opened);
        ReleaseRepository& releases = (*opened)->releases();
        ReleaseRecord r;
        r.id = QStringLiteral("ab12");
        r.product = QStringLiteral("gw-x1");
        r.version = QStringLiteral("1.2.0");
        r.securityVersion = 3;
        r.hardware = QStringList{QStringLiteral("rev-a"), QStringLiteral("rev-b")};
        r.size = 1234;
        r.fileName = QStringLiteral("fw.otab");
        r.blobPath = QStringLiteral("/blobs/ab12");
        r.manifestJson = "{}";
        r.signers = QStringList{QStringLiteral("CN=release")};
        r.uploadedBy = QStringLiteral("rita");
        VERIFY_OK(releases.add(r));
        QCOMPARE(releases.add(r).error().code, QStringLiteral("store.duplicate"));
        auto got = releases.get(QStringLiteral("ab12"));
        VERIFY_OK(got);
        QCOMPARE(got->hardware, r.hardware);
        QCOMPARE(got->securityVersion, quint64(3));
        QVERIFY(!got->revoked);
        VERIFY_OK(releases.revoke(QStringLiteral("ab12"), QDateTime::currentDateTimeUtc()));
        QVERIFY(releases.get(QStringLiteral("ab12"))->revoked);
        QCOMPARE(
            releases.revoke(QStringLiteral("ab12"), QDateTime::currentDateTimeUtc()).error().code,
            QStringLiteral("store.already-revoked"));
        QCOMPARE(releases.get(QStringLiteral("zz")).error().code,
                 QStringLiteral("store.not-found"));
        QCOMPARE(releases.all()->size(), 1);
        // Notes beside the release (schema 10): editable after signing, bounded.
        QCOMPARE(got->notes, QString());
        VERIFY_OK(releases.setNotes(QStringLiteral("ab12"), QStringLiteral("Fixes the radio.")));
        QCOMPARE(releases.get(QStringLiteral("ab12"))->notes, QStringLiteral("Fixes the radio."));
        QCOMPARE(releases.setNotes(QStringLiteral("zz"), QString()).error().code,
                 QStringLiteral("store.not-found"));
        QCOMPARE(
            releases
                .setNotes(QStringLiteral("ab12"), QString(ReleaseRepository::kMaxNotes + 1, u'x'))
                .error()
                .code,
            QStringLiteral("store.notes-too-long"));
        QCOMPARE(releases.all()->first().notes, QStringLiteral("Fixes the radio."));
    }
};

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    int failures = 0;
    {
        TestServerStore sqlite(Backend::Sqlite);
        failures += QTest::qExec(&sqlite, argc, argv);
    }
    {
        TestServerStore postgres(Backend::Postgres);
        failures += QTest::qExec(&postgres, argc, argv);
    }
    return failures;
}
#include "tst_serverstore.moc"
