// otafleetd's RBAC matrix on a real server process (TLS on loopback, PKI on a SoftHSM token):
// every ConsoleService RPC called as every role, the rollout RPCs included. What a role may do
// succeeds; what it may not fails with PERMISSION_DENIED, changes nothing (users, devices,
// releases and rollouts compared before and after) and leaves exactly one audit entry
// "denied:ACTION" naming the caller. Then the audit chain verifies through otafleetctl, and a row
// changed in the SQLite file is named.
#include "CliRun.h"
#include "ServerTestBase.h"
#include "TestBundles.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlDatabase>
#include <QSqlQuery>

#include <functional>
#include <map>

using namespace otafleet;
using namespace otafleet::test;

namespace {

const QStringList kRoles{QStringLiteral("viewer"), QStringLiteral("technician"),
                         QStringLiteral("release-manager"), QStringLiteral("approver"),
                         QStringLiteral("admin")};

cpb::Role protoRole(int index) {
    return static_cast<cpb::Role>(index + 1);  // ROLE_VIEWER .. ROLE_ADMIN, in kRoles order
}

std::string userOf(int role) {
    return "u-" + kRoles.at(role).toStdString();
}

std::string passwordOf(int role) {
    return "password-of-" + kRoles.at(role).toStdString();
}

// The expected table (what DESIGN.md section 8 and the issue ask; the server's Rbac.cpp must
// agree): action -> roles allowed.
const std::map<QString, QStringList>& expectedAllowed() {
    static const QStringList all = kRoles;
    static const QStringList admin{QStringLiteral("admin")};
    static const std::map<QString, QStringList> table{
        {QStringLiteral("whoami"), all},
        {QStringLiteral("user.add"), admin},
        {QStringLiteral("user.list"), admin},
        {QStringLiteral("user.set-role"), admin},
        {QStringLiteral("user.disable"), admin},
        {QStringLiteral("audit.list"), {QStringLiteral("approver"), QStringLiteral("admin")}},
        {QStringLiteral("audit.verify"), {QStringLiteral("approver"), QStringLiteral("admin")}},
        {QStringLiteral("fleet.devices"), all},
        {QStringLiteral("fleet.summary"), all},
        {QStringLiteral("fleet.tag"),
         {QStringLiteral("technician"), QStringLiteral("release-manager"),
          QStringLiteral("admin")}},
        {QStringLiteral("fleet.untag"),
         {QStringLiteral("technician"), QStringLiteral("release-manager"),
          QStringLiteral("admin")}},
        {QStringLiteral("fleet.group"),
         {QStringLiteral("technician"), QStringLiteral("release-manager"),
          QStringLiteral("admin")}},
        {QStringLiteral("fleet.decommission"), admin},
        {QStringLiteral("release.upload"),
         {QStringLiteral("release-manager"), QStringLiteral("admin")}},
        {QStringLiteral("release.list"), all},
        {QStringLiteral("release.inspect"), all},
        {QStringLiteral("release.revoke"),
         {QStringLiteral("release-manager"), QStringLiteral("admin")}},
        {QStringLiteral("fleet.telemetry"), all},
        {QStringLiteral("fleet.anomalies"), all},
        {QStringLiteral("rollout.create"),
         {QStringLiteral("release-manager"), QStringLiteral("admin")}},
        {QStringLiteral("rollout.approve"), {QStringLiteral("approver"), QStringLiteral("admin")}},
        {QStringLiteral("rollout.start"),
         {QStringLiteral("release-manager"), QStringLiteral("admin")}},
        {QStringLiteral("rollout.pause"),
         {QStringLiteral("release-manager"), QStringLiteral("approver"), QStringLiteral("admin")}},
        {QStringLiteral("rollout.resume"),
         {QStringLiteral("release-manager"), QStringLiteral("admin")}},
        {QStringLiteral("rollout.abort"),
         {QStringLiteral("release-manager"), QStringLiteral("approver"), QStringLiteral("admin")}},
        {QStringLiteral("rollout.retry-failed"),
         {QStringLiteral("release-manager"), QStringLiteral("admin")}},
        {QStringLiteral("rollout.status"), all},
        {QStringLiteral("rollout.list"), all},
    };
    return table;
}

}  // namespace

class TestServerRbac : public QObject, public ServerTestBase {
    Q_OBJECT

private:
    Console m_admin;
    std::vector<Console> m_consoles;  // index = role
    QStringList m_bundles;            // one per role, plus the base one at the end
    QString m_baseRelease;
    std::map<int, std::string> m_uploaded;  // role -> release id it uploaded
    // Per role, made by the release manager before the matrix: a production draft to approve,
    // a draft to start, and a started rollout to pause, resume and abort.
    std::map<int, qint64> m_toApprove;
    std::map<int, qint64> m_toStart;
    std::map<int, qint64> m_running;

    using Call = std::function<grpc::Status(Console&, int role)>;

    grpc::Status upload(Console& c, const QString& path, std::string* id) {
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly))
            return grpc::Status(grpc::StatusCode::INTERNAL, "cannot read the test bundle");
        const QByteArray bytes = file.readAll();
        auto ctx = c.context(60);
        cpb::Release reply;
        auto writer = c.stub->UploadRelease(ctx.get(), &reply);
        cpb::ReleaseChunk chunk;
        chunk.mutable_header()->set_file_name("fw.otab");
        chunk.mutable_header()->set_total_size(quint64(bytes.size()));
        for (qsizetype at = 0; at < bytes.size(); at += 64 * 1024) {
            const QByteArray part = bytes.mid(at, 64 * 1024);
            chunk.set_data(part.constData(), size_t(part.size()));
            if (!writer->Write(chunk))
                break;
            chunk.clear_header();
        }
        writer->WritesDone();
        const grpc::Status status = writer->Finish();
        if (status.ok() && id)
            *id = reply.id();
        return status;
    }

    template <class Request, class Reply>
    static grpc::Status unary(Console& c,
                              grpc::Status (cpb::ConsoleService::Stub::*method)(
                                  grpc::ClientContext*, const Request&, Reply*),
                              const Request& request) {
        Reply reply;
        return ((*c.stub).*method)(c.context().get(), request, &reply);
    }

    QList<std::pair<QString, Call>> calls() {
        using S = cpb::ConsoleService::Stub;
        QList<std::pair<QString, Call>> out;
        out.append({QStringLiteral("whoami"),
                    [](Console& c, int) { return unary(c, &S::WhoAmI, cpb::WhoAmIRequest()); }});
        out.append({QStringLiteral("user.add"), [](Console& c, int role) {
                        cpb::AddUserRequest r;
                        r.set_name("new-by-" + kRoles.at(role).toStdString());
                        r.set_role(cpb::ROLE_VIEWER);
                        r.set_password("a-new-password");
                        return unary(c, &S::AddUser, r);
                    }});
        out.append({QStringLiteral("user.list"), [](Console& c, int) {
                        return unary(c, &S::ListUsers, cpb::ListUsersRequest());
                    }});
        out.append({QStringLiteral("user.set-role"), [](Console& c, int) {
                        cpb::SetUserRoleRequest r;
                        r.set_name("scratch");
                        r.set_role(cpb::ROLE_APPROVER);
                        return unary(c, &S::SetUserRole, r);
                    }});
        out.append({QStringLiteral("user.disable"), [](Console& c, int role) {
                        cpb::DisableUserRequest r;
                        r.set_name("d-" + kRoles.at(role).toStdString());
                        return unary(c, &S::DisableUser, r);
                    }});
        out.append({QStringLiteral("audit.list"), [](Console& c, int) {
                        cpb::ListAuditRequest r;
                        r.set_page_size(10);
                        return unary(c, &S::ListAudit, r);
                    }});
        out.append({QStringLiteral("audit.verify"), [](Console& c, int) {
                        return unary(c, &S::VerifyAudit, cpb::VerifyAuditRequest());
                    }});
        out.append({QStringLiteral("fleet.devices"), [](Console& c, int) {
                        cpb::ListDevicesRequest r;
                        r.set_page_size(10);
                        return unary(c, &S::ListDevices, r);
                    }});
        out.append({QStringLiteral("fleet.summary"), [](Console& c, int) {
                        return unary(c, &S::FleetSummary, cpb::FleetSummaryRequest());
                    }});
        out.append({QStringLiteral("fleet.tag"), [](Console& c, int role) {
                        cpb::TagDeviceRequest r;
                        r.set_device_id("dev-1");
                        r.set_tag("t-" + kRoles.at(role).toStdString());
                        return unary(c, &S::TagDevice, r);
                    }});
        out.append({QStringLiteral("fleet.untag"), [](Console& c, int role) {
                        cpb::TagDeviceRequest r;
                        r.set_device_id("dev-1");
                        r.set_tag("t-" + kRoles.at(role).toStdString());
                        return unary(c, &S::UntagDevice, r);
                    }});
        out.append({QStringLiteral("fleet.group"), [](Console& c, int role) {
                        cpb::SetDeviceGroupRequest r;
                        r.set_device_id("dev-1");
                        r.set_group("g-" + kRoles.at(role).toStdString());
                        return unary(c, &S::SetDeviceGroup, r);
                    }});
        out.append({QStringLiteral("fleet.decommission"), [](Console& c, int role) {
                        cpb::DecommissionDeviceRequest r;
                        r.set_device_id("scrap-" + kRoles.at(role).toStdString());
                        r.set_reason("end of life");
                        return unary(c, &S::DecommissionDevice, r);
                    }});
        out.append({QStringLiteral("release.upload"), [this](Console& c, int role) {
                        std::string id;
                        const grpc::Status status = upload(c, m_bundles.at(role), &id);
                        if (status.ok())
                            m_uploaded[role] = id;
                        return status;
                    }});
        out.append({QStringLiteral("release.list"), [](Console& c, int) {
                        return unary(c, &S::ListReleases, cpb::ListReleasesRequest());
                    }});
        out.append({QStringLiteral("release.inspect"), [this](Console& c, int) {
                        cpb::InspectReleaseRequest r;
                        r.set_id(m_baseRelease.toStdString());
                        return unary(c, &S::InspectRelease, r);
                    }});
        out.append({QStringLiteral("release.revoke"), [this](Console& c, int role) {
                        cpb::RevokeReleaseRequest r;
                        // Its own upload when it could upload, else the base release.
                        r.set_id(m_uploaded.count(role) ? m_uploaded[role]
                                                        : m_baseRelease.toStdString());
                        r.set_reason("bad build");
                        return unary(c, &S::RevokeRelease, r);
                    }});
        out.append({QStringLiteral("fleet.telemetry"), [](Console& c, int) {
                        return unary(c, &S::TelemetryReport, cpb::TelemetryReportRequest());
                    }});
        out.append({QStringLiteral("fleet.anomalies"), [](Console& c, int) {
                        return unary(c, &S::ListAnomalies, cpb::ListAnomaliesRequest());
                    }});
        const auto byId = [](qint64 id) {
            cpb::RolloutRequest r;
            r.set_id(id);
            return r;
        };
        out.append({QStringLiteral("rollout.create"), [this](Console& c, int) {
                        return unary(c, &S::CreateRollout, rolloutRequest(false));
                    }});
        out.append({QStringLiteral("rollout.approve"), [this, byId](Console& c, int role) {
                        return unary(c, &S::ApproveRollout, byId(m_toApprove.at(role)));
                    }});
        out.append({QStringLiteral("rollout.start"), [this, byId](Console& c, int role) {
                        return unary(c, &S::StartRollout, byId(m_toStart.at(role)));
                    }});
        out.append({QStringLiteral("rollout.pause"), [this, byId](Console& c, int role) {
                        return unary(c, &S::PauseRollout, byId(m_running.at(role)));
                    }});
        out.append({QStringLiteral("rollout.resume"), [this, byId](Console& c, int role) {
                        return unary(c, &S::ResumeRollout, byId(m_running.at(role)));
                    }});
        out.append({QStringLiteral("rollout.abort"), [this, byId](Console& c, int role) {
                        return unary(c, &S::AbortRollout, byId(m_running.at(role)));
                    }});
        out.append({QStringLiteral("rollout.retry-failed"), [this, byId](Console& c, int role) {
                        const grpc::Status status =
                            unary(c, &S::RetryFailedRollout, byId(m_toStart.at(role)));
                        // Past the role check the engine finds no failed device to retry (or the
                        // rollout not running yet): refused for its state, not for the role.
                        if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
                            (status.error_details() == "rollout.nothing-to-retry" ||
                             status.error_details() == "rollout.transition"))
                            return grpc::Status::OK;
                        return status;
                    }});
        out.append({QStringLiteral("rollout.status"), [this, byId](Console& c, int role) {
                        return unary(c, &S::GetRollout, byId(m_toApprove.at(role)));
                    }});
        out.append({QStringLiteral("rollout.list"), [](Console& c, int) {
                        cpb::ListRolloutsRequest r;
                        r.set_page_size(100);
                        return unary(c, &S::ListRollouts, r);
                    }});
        return out;
    }

    cpb::CreateRolloutRequest rolloutRequest(bool production) const {
        cpb::CreateRolloutRequest r;
        r.set_release_id(m_baseRelease.toStdString());
        r.set_target("id=dev-1");
        r.mutable_plan()->set_waves("100%");
        r.mutable_plan()->set_production(production);
        return r;
    }

    // Everything a refused call could have changed, as the admin sees it.
    std::string snapshot() {
        std::string state;
        cpb::UserList users;
        if (m_admin.stub->ListUsers(m_admin.context().get(), {}, &users).ok())
            state += users.SerializeAsString();
        cpb::ListDevicesRequest page;
        page.set_page_size(1000);
        cpb::DevicePage devices;
        if (m_admin.stub->ListDevices(m_admin.context().get(), page, &devices).ok())
            state += devices.SerializeAsString();
        cpb::ReleaseList releases;
        if (m_admin.stub->ListReleases(m_admin.context().get(), {}, &releases).ok())
            state += releases.SerializeAsString();
        // Rollouts as far as a caller changes them: the engine moves a started rollout from
        // scheduled to running and offers on its own, so those do not count.
        cpb::ListRolloutsRequest list;
        list.set_page_size(1000);
        cpb::RolloutList rollouts;
        if (m_admin.stub->ListRollouts(m_admin.context().get(), list, &rollouts).ok()) {
            for (const cpb::Rollout& r : rollouts.rollouts()) {
                const std::string rolloutState = r.state() == "scheduled" ? "running" : r.state();
                state += std::to_string(r.id()) + ' ' + rolloutState + ' ' + r.approved_by() + ' ' +
                         r.pause_reason() + '\n';
            }
        }
        return state;
    }

    QList<cpb::AuditEntry> auditAfter(qint64 afterId) {
        cpb::ListAuditRequest r;
        r.set_after_id(afterId);
        r.set_page_size(1000);
        cpb::AuditPage page;
        const grpc::Status status = m_admin.stub->ListAudit(m_admin.context().get(), r, &page);
        QList<cpb::AuditEntry> entries;
        if (status.ok()) {
            for (const auto& e : page.entries())
                entries.append(e);
        }
        return entries;
    }

    qint64 lastAuditId() {
        const auto all = auditAfter(0);
        return all.isEmpty() ? 0 : all.last().id();
    }

    QStringList connection(int role) const {
        return {QStringLiteral("--server"),
                m_server->address(),
                QStringLiteral("--ca"),
                QDir(m_pki->pkiDir).filePath(QStringLiteral("root-ca.pem")),
                QStringLiteral("--user"),
                QString::fromStdString(userOf(role)),
                QStringLiteral("--password-env"),
                QStringLiteral("OTAFLEET_TEST_PASSWORD_%1").arg(role)};
    }

private Q_SLOTS:
    void initTestCase() {
        startServer();
        if (QTest::currentTestFailed())
            return;
        m_admin = adminConsole();
        using S = cpb::ConsoleService::Stub;
        for (int role = 0; role < kRoles.size(); ++role) {
            cpb::AddUserRequest r;
            r.set_name(userOf(role));
            r.set_role(protoRole(role));
            r.set_password(passwordOf(role));
            QVERIFY(unary(m_admin, &S::AddUser, r).ok());
            r.set_name("d-" + kRoles.at(role).toStdString());
            QVERIFY(unary(m_admin, &S::AddUser, r).ok());
            qputenv(qPrintable(QStringLiteral("OTAFLEET_TEST_PASSWORD_%1").arg(role)),
                    QByteArray::fromStdString(passwordOf(role)));
        }
        cpb::AddUserRequest scratch;
        scratch.set_name("scratch");
        scratch.set_role(cpb::ROLE_VIEWER);
        scratch.set_password("scratch-password");
        QVERIFY(unary(m_admin, &S::AddUser, scratch).ok());
        for (int role = 0; role < kRoles.size(); ++role) {
            Console c = anonymousConsole();
            const grpc::Status status = login(c, userOf(role), passwordOf(role));
            QVERIFY2(status.ok(), status.error_message().c_str());
            m_consoles.push_back(std::move(c));
            reportDevice(QStringLiteral("scrap-%1").arg(kRoles.at(role)));
        }
        reportDevice(QStringLiteral("dev-1"));
        for (int i = 0; i <= kRoles.size(); ++i) {
            TestBundleSpec spec;
            spec.version = QStringLiteral("2.%1.0").arg(i);
            spec.payloadSize = 32 * 1024;
            QVERIFY(QDir().mkpath(m_tmp.filePath(QStringLiteral("bundles"))));
            auto bundle = makeSignedBundle(*m_pki, m_tmp.filePath(QStringLiteral("bundles")), spec);
            VERIFY_OK(bundle);
            m_bundles << *bundle;
        }
        std::string base;
        const grpc::Status uploaded = upload(m_admin, m_bundles.last(), &base);
        QVERIFY2(uploaded.ok(), uploaded.error_message().c_str());
        m_baseRelease = QString::fromStdString(base);
        Console& manager = m_consoles[2];
        QCOMPARE(kRoles.at(2), QStringLiteral("release-manager"));
        for (int role = 0; role < kRoles.size(); ++role) {
            cpb::Rollout r;
            QVERIFY(manager.stub->CreateRollout(manager.context().get(), rolloutRequest(true), &r)
                        .ok());
            m_toApprove[role] = r.id();
            QVERIFY(manager.stub->CreateRollout(manager.context().get(), rolloutRequest(false), &r)
                        .ok());
            m_toStart[role] = r.id();
            QVERIFY(manager.stub->CreateRollout(manager.context().get(), rolloutRequest(false), &r)
                        .ok());
            m_running[role] = r.id();
            cpb::RolloutRequest start;
            start.set_id(r.id());
            QVERIFY(manager.stub->StartRollout(manager.context().get(), start, &r).ok());
        }
    }

    void everyRpcAsEveryRole() {
        const auto table = calls();
        QCOMPARE(qsizetype(table.size()), qsizetype(expectedAllowed().size()));
        int denied = 0;
        for (const auto& [action, call] : table) {
            const QStringList allowed = expectedAllowed().at(action);
            for (int role = 0; role < kRoles.size(); ++role) {
                const QByteArray where =
                    (action + QStringLiteral(" as ") + kRoles.at(role)).toUtf8();
                if (allowed.contains(kRoles.at(role))) {
                    const grpc::Status status = call(m_consoles[role], role);
                    QVERIFY2(status.ok(),
                             (where + ": " + QByteArray::fromStdString(status.error_message()))
                                 .constData());
                    continue;
                }
                const std::string before = snapshot();
                const qint64 lastId = lastAuditId();
                const grpc::Status status = call(m_consoles[role], role);
                QVERIFY2(
                    status.error_code() == grpc::StatusCode::PERMISSION_DENIED,
                    (where + ": " + QByteArray::fromStdString(status.error_message())).constData());
                QCOMPARE(status.error_details(), std::string("server.permission-denied"));
                QVERIFY2(snapshot() == before, where.constData());
                const auto entries = auditAfter(lastId);
                QCOMPARE(entries.size(), 1);
                QCOMPARE(QString::fromStdString(entries.first().action()),
                         QStringLiteral("denied:") + action);
                QCOMPARE(entries.first().actor(), userOf(role));
                ++denied;
            }
        }
        QVERIFY(denied > 30);
    }

    void adminCertificateAndLogins() {
        cpb::User me;
        QVERIFY(m_admin.stub->WhoAmI(m_admin.context().get(), {}, &me).ok());
        QCOMPARE(me.name(), std::string("admin"));
        QVERIFY(me.certificate_bound());
        // No certificate, no token: nobody.
        Console anonymous = anonymousConsole();
        QCOMPARE(anonymous.stub->WhoAmI(anonymous.context().get(), {}, &me).error_code(),
                 grpc::StatusCode::UNAUTHENTICATED);
        const qint64 lastId = lastAuditId();
        QCOMPARE(login(anonymous, userOf(0), "wrong-password").error_code(),
                 grpc::StatusCode::UNAUTHENTICATED);
        const auto refused = auditAfter(lastId);
        QCOMPARE(refused.size(), 1);
        QCOMPARE(refused.first().action(), std::string("login.refused"));
        // A forged token is refused.
        anonymous.token = "forged-token";
        QCOMPARE(anonymous.stub->WhoAmI(anonymous.context().get(), {}, &me).error_code(),
                 grpc::StatusCode::UNAUTHENTICATED);
        // The admin disabled d-admin in the matrix: its password no longer signs in.
        QCOMPARE(login(anonymous, "d-admin", passwordOf(4)).error_code(),
                 grpc::StatusCode::UNAUTHENTICATED);
    }

    void cliAsRoles() {
        // Viewer lists devices; the device reported above is there.
        auto devices = otafleetctl(QStringList{QStringLiteral("fleet"), QStringLiteral("devices"),
                                               QStringLiteral("--json")} +
                                   connection(0));
        QVERIFY2(devices.exitCode == 0, devices.err.constData());
        const QJsonObject page = QJsonDocument::fromJson(devices.out).object();
        QVERIFY(page.value(QLatin1String("total")).toInt() >= 6);
        // A viewer may not list users: exit 1 with the stable code.
        auto refused = otafleetctl(QStringList{QStringLiteral("user"), QStringLiteral("list")} +
                                   connection(0));
        QCOMPARE(refused.exitCode, 1);
        QVERIFY(refused.err.contains("server.permission-denied"));
        // The admin by certificate adds a user whose password comes from --password-env.
        qputenv("OTAFLEET_TEST_NEW_PASSWORD", "cli-user-password");
        auto added = ctl({"user", "add", "cli-user", "--role", "technician", "--password-env",
                          "OTAFLEET_TEST_NEW_PASSWORD", "--server", m_server->address(), "--pki",
                          m_pki->pkiDir, "--json"});
        QVERIFY2(added.exitCode == 0, added.err.constData());
        QCOMPARE(QJsonDocument::fromJson(added.out)
                     .object()
                     .value(QLatin1String("user"))
                     .toObject()
                     .value(QLatin1String("role"))
                     .toString(),
                 QStringLiteral("technician"));
        auto summary = ctl({"fleet", "summary", "--json", "--server", m_server->address(), "--pki",
                            m_pki->pkiDir});
        QVERIFY2(summary.exitCode == 0, summary.err.constData());
        QVERIFY(QJsonDocument::fromJson(summary.out).object().contains(QLatin1String("versions")));
        // The filter language of services/rollout, evaluated by the server; paging applies after.
        auto filtered =
            ctl({"fleet", "devices", "--filter", "id=dev-1 or id=scrap-viewer", "--page-size", "1",
                 "--page", "1", "--json", "--server", m_server->address(), "--pki", m_pki->pkiDir});
        QVERIFY2(filtered.exitCode == 0, filtered.err.constData());
        const QJsonObject filteredPage = QJsonDocument::fromJson(filtered.out).object();
        QCOMPARE(filteredPage.value(QLatin1String("total")).toInt(), 2);
        const QJsonArray second = filteredPage.value(QLatin1String("devices")).toArray();
        QCOMPARE(second.size(), 1);
        QCOMPARE(second.at(0).toObject().value(QLatin1String("device_id")).toString(),
                 QStringLiteral("scrap-viewer"));
        auto usage = ctl({"fleet", "devices", "--server", m_server->address()});
        QCOMPARE(usage.exitCode, 2);
    }

    // Last: it alters the database.
    void auditVerifiesThenNamesTamperedRow() {
        auto verified = ctl(
            {"audit", "verify", "--json", "--server", m_server->address(), "--pki", m_pki->pkiDir});
        QVERIFY2(verified.exitCode == 0, verified.err.constData());
        QVERIFY(
            QJsonDocument::fromJson(verified.out).object().value(QLatin1String("intact")).toBool());
        auto exported = ctl(
            {"audit", "export", "--json", "--server", m_server->address(), "--pki", m_pki->pkiDir});
        QVERIFY2(exported.exitCode == 0, exported.err.constData());
        QVERIFY(
            QJsonDocument::fromJson(exported.out).object().value(QLatin1String("count")).toInt() >
            40);
        {
            QSqlDatabase db =
                QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("tamper"));
            db.setDatabaseName(m_server->databasePath());
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY(q.exec(QStringLiteral("UPDATE audit SET detail = 'forged' WHERE id = 7")));
            db.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("tamper"));
        auto tampered = ctl(
            {"audit", "verify", "--json", "--server", m_server->address(), "--pki", m_pki->pkiDir});
        QCOMPARE(tampered.exitCode, 1);
        const QJsonObject verdict = QJsonDocument::fromJson(tampered.out).object();
        QCOMPARE(verdict.value(QLatin1String("intact")).toBool(), false);
        QCOMPARE(verdict.value(QLatin1String("first_bad_id")).toInt(), 7);
        QVERIFY(tampered.err.contains("audit.tampered"));
        QVERIFY(tampered.err.contains("entry 7"));
    }

    void cleanupTestCase() {
        if (m_server)
            m_server->stop();
    }
};

QTEST_GUILESS_MAIN(TestServerRbac)
#include "tst_serverrbac.moc"
