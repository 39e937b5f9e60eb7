// otafleetd on PostgreSQL, end to end: `otafleetd setup --database postgresql://...` against a
// PostgreSQL server this test starts in a temp dir, then a real otafleetd process serving
// consoles and devices from it: users, password login, devices reporting in, the summary, the
// audit chain; a restart of otafleetd finds everything again. Skipped, saying why, where
// PostgreSQL is not installed.
#include "PostgresServer.h"
#include "ServerTestBase.h"

#include <QTest>

using namespace otafleet;
using namespace otafleet::test;

class TestServerPostgres : public QObject, public ServerTestBase {
    Q_OBJECT

    PostgresServer m_postgres;
    QString m_url;

private Q_SLOTS:
    void initTestCase() {
        QString why;
        if (!PostgresServer::installed(&why))
            QSKIP(qPrintable(QStringLiteral("PostgreSQL run skipped: %1.").arg(why)));
        QVERIFY2(m_postgres.start(&why), qPrintable(why));
        m_url = m_postgres.createDatabase(&why);
        QVERIFY2(!m_url.isEmpty(), qPrintable(why));
        startServer({}, {QStringLiteral("--database"), m_url});
        QVERIFY(m_server);
        // The configuration names the database as given, and no SQLite file was made.
        QFile conf(m_server->configPath());
        QVERIFY(conf.open(QIODevice::ReadOnly));
        QVERIFY(conf.readAll().contains(QStringLiteral("database = %1").arg(m_url).toUtf8()));
        QVERIFY(!QFile::exists(m_server->databasePath()));
    }

    void usersDevicesAndAuditLiveInPostgres() {
        Console admin = adminConsole();
        cpb::AddUserRequest add;
        add.set_name("rita");
        add.set_role(cpb::ROLE_RELEASE_MANAGER);
        add.set_password("release-manager-password");
        cpb::User user;
        grpc::Status status = admin.stub->AddUser(admin.context().get(), add, &user);
        QVERIFY2(status.ok(), status.error_message().c_str());

        Console rita = anonymousConsole();
        status = login(rita, "rita", "release-manager-password");
        QVERIFY2(status.ok(), status.error_message().c_str());
        QVERIFY(!login(rita, "rita", "wrong-password-here").ok());

        for (int i = 0; i < 3; ++i)
            reportDevice(QStringLiteral("pg-dev-%1").arg(i), QStringLiteral("1.%1.0").arg(i));

        cpb::ListDevicesRequest list;
        list.set_page_size(10);
        list.set_filter("version>=1.1.0");
        cpb::DevicePage page;
        status = rita.stub->ListDevices(rita.context().get(), list, &page);
        QVERIFY2(status.ok(), status.error_message().c_str());
        QCOMPARE(page.total(), 2U);

        QString why;
        // The rows are in PostgreSQL, not only in the server's memory.
        QVERIFY2(m_postgres.execute(m_url,
                                    QStringLiteral("DO $$ BEGIN IF (SELECT COUNT(*) FROM "
                                                   "fleet_devices) <> 3 THEN RAISE EXCEPTION "
                                                   "'expected 3 devices'; END IF; END $$"),
                                    &why),
                 qPrintable(why));
    }

    void restartFindsEverythingAndTheChainHolds() {
        m_server->stop();
        VERIFY_OK(m_server->start());
        Console admin = adminConsole();
        cpb::FleetSummaryReply summary;
        grpc::Status status =
            admin.stub->FleetSummary(admin.context().get(), cpb::FleetSummaryRequest(), &summary);
        QVERIFY2(status.ok(), status.error_message().c_str());
        QCOMPARE(summary.devices(), 3U);
        cpb::UserList users;
        status = admin.stub->ListUsers(admin.context().get(), cpb::ListUsersRequest(), &users);
        QVERIFY2(status.ok(), status.error_message().c_str());
        QCOMPARE(users.users_size(), 2);
        cpb::AuditVerdict verdict;
        status =
            admin.stub->VerifyAudit(admin.context().get(), cpb::VerifyAuditRequest(), &verdict);
        QVERIFY2(status.ok(), status.error_message().c_str());
        QVERIFY2(verdict.intact(), verdict.reason().c_str());
        QVERIFY(verdict.entries() >= 3);  // setup's admin, rita added, the refused login

        // Someone with database access cuts the chain's tail: verify names it.
        QString why;
        QVERIFY2(m_postgres.execute(m_url,
                                    QStringLiteral("DELETE FROM audit WHERE id = (SELECT MAX(id) "
                                                   "FROM audit)"),
                                    &why),
                 qPrintable(why));
        status =
            admin.stub->VerifyAudit(admin.context().get(), cpb::VerifyAuditRequest(), &verdict);
        QVERIFY2(status.ok(), status.error_message().c_str());
        QVERIFY(!verdict.intact());
        QVERIFY(verdict.first_bad_id() > 0);
    }
};

QTEST_GUILESS_MAIN(TestServerPostgres)
#include "tst_serverpostgres.moc"
