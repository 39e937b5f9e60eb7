// otafleetd against bad input, on a real server process: every ConsoleService RPC that takes
// input gets empty, oversized, unknown-enum and out-of-range requests and answers
// INVALID_ARGUMENT or RESOURCE_EXHAUSTED with a stable code and a sentence, never a crash (the
// server still answers afterwards). Uploads: no header, too large, more or fewer bytes than
// declared, not a bundle, and a stream that never ends (cut by [limits] upload_timeout).
// DeviceService: certificates it must refuse, a session that makes a device online and offline,
// a resumable download, and a decommissioned device shut out.
#include "ServerTestBase.h"
#include "TestBundles.h"

#include <QElapsedTimer>

using namespace otafleet;
using namespace otafleet::test;

namespace {

using S = cpb::ConsoleService::Stub;
using Code = grpc::StatusCode;

template <class Request, class Reply>
grpc::Status unary(Console& c,
                   grpc::Status (S::*method)(grpc::ClientContext*, const Request&, Reply*),
                   const Request& request) {
    Reply reply;
    return ((*c.stub).*method)(c.context().get(), request, &reply);
}

struct Case {
    const char* name;
    std::function<grpc::Status(Console&)> call;
    Code expected;
    const char* code;  // the stable otafleet code in the status details
};

}  // namespace

class TestServerInput : public QObject, public ServerTestBase {
    Q_OBJECT

private:
    Console m_admin;
    QString m_bundle;

    grpc::Status uploadRaw(const std::function<void(grpc::ClientWriter<cpb::ReleaseChunk>&)>& send,
                           int deadlineSeconds = 30) {
        auto ctx = m_admin.context(deadlineSeconds);
        cpb::Release reply;
        auto writer = m_admin.stub->UploadRelease(ctx.get(), &reply);
        send(*writer);
        writer->WritesDone();
        return writer->Finish();
    }

    static cpb::ReleaseChunk header(quint64 size) {
        cpb::ReleaseChunk chunk;
        chunk.mutable_header()->set_file_name("fw.otab");
        chunk.mutable_header()->set_total_size(size);
        return chunk;
    }

    bool online(const std::string& deviceId) {
        cpb::ListDevicesRequest r;
        r.set_page_size(1000);
        cpb::DevicePage page;
        if (!m_admin.stub->ListDevices(m_admin.context().get(), r, &page).ok())
            return false;
        for (const auto& d : page.devices()) {
            if (d.device_id() == deviceId)
                return d.online();
        }
        return false;
    }

private Q_SLOTS:
    void initTestCase() {
        startServer([](QString& conf) {
            conf.replace(QStringLiteral("upload_timeout = 60"),
                         QStringLiteral("upload_timeout = 2"));
            conf.replace(QStringLiteral("max_release_size = 2147483648"),
                         QStringLiteral("max_release_size = 1048576"));
        });
        if (QTest::currentTestFailed())
            return;
        m_admin = adminConsole();
        reportDevice(QStringLiteral("dev-1"));
        TestBundleSpec spec;
        spec.payloadSize = 32 * 1024;
        QVERIFY(QDir().mkpath(m_tmp.filePath(QStringLiteral("bundles"))));
        auto bundle = makeSignedBundle(*m_pki, m_tmp.filePath(QStringLiteral("bundles")), spec);
        VERIFY_OK(bundle);
        m_bundle = *bundle;
    }

    void badInputOnEveryRpc() {
        const std::string longName(65, 'a');
        const std::string huge(5 * 1024 * 1024, 'x');  // past the 4 MiB message limit
        const std::string hex64(64, 'a');
        const QList<Case> cases{
            {"login empty user",
             [](Console& c) { return unary(c, &S::Login, cpb::LoginRequest()); },
             Code::INVALID_ARGUMENT, "server.invalid-name"},
            {"login oversized password",
             [](Console& c) {
                 cpb::LoginRequest r;
                 r.set_user("admin");
                 r.set_password(std::string(2000, 'p'));
                 return unary(c, &S::Login, r);
             },
             Code::INVALID_ARGUMENT, "store.password-invalid"},
            {"add user empty",
             [](Console& c) { return unary(c, &S::AddUser, cpb::AddUserRequest()); },
             Code::INVALID_ARGUMENT, "server.invalid-name"},
            {"add user long name",
             [&](Console& c) {
                 cpb::AddUserRequest r;
                 r.set_name(longName);
                 r.set_role(cpb::ROLE_VIEWER);
                 r.set_password("long-enough");
                 return unary(c, &S::AddUser, r);
             },
             Code::INVALID_ARGUMENT, "server.invalid-name"},
            {"add user unknown role",
             [](Console& c) {
                 cpb::AddUserRequest r;
                 r.set_name("eve");
                 r.set_role(static_cast<cpb::Role>(42));
                 r.set_password("long-enough");
                 return unary(c, &S::AddUser, r);
             },
             Code::INVALID_ARGUMENT, "server.invalid-role"},
            {"add user no role",
             [](Console& c) {
                 cpb::AddUserRequest r;
                 r.set_name("eve");
                 r.set_password("long-enough");
                 return unary(c, &S::AddUser, r);
             },
             Code::INVALID_ARGUMENT, "server.invalid-role"},
            {"add user short password",
             [](Console& c) {
                 cpb::AddUserRequest r;
                 r.set_name("eve");
                 r.set_role(cpb::ROLE_VIEWER);
                 r.set_password("short");
                 return unary(c, &S::AddUser, r);
             },
             Code::INVALID_ARGUMENT, "store.password-invalid"},
            {"add user oversized message",
             [&](Console& c) {
                 cpb::AddUserRequest r;
                 r.set_name("eve");
                 r.set_role(cpb::ROLE_VIEWER);
                 r.set_password(huge);
                 return unary(c, &S::AddUser, r);
             },
             Code::RESOURCE_EXHAUSTED, ""},
            {"set role unknown",
             [](Console& c) {
                 cpb::SetUserRoleRequest r;
                 r.set_name("admin");
                 r.set_role(static_cast<cpb::Role>(-3));
                 return unary(c, &S::SetUserRole, r);
             },
             Code::INVALID_ARGUMENT, "server.invalid-role"},
            {"set role missing user",
             [](Console& c) {
                 cpb::SetUserRoleRequest r;
                 r.set_name("nobody");
                 r.set_role(cpb::ROLE_VIEWER);
                 return unary(c, &S::SetUserRole, r);
             },
             Code::NOT_FOUND, "store.not-found"},
            {"disable empty",
             [](Console& c) { return unary(c, &S::DisableUser, cpb::DisableUserRequest()); },
             Code::INVALID_ARGUMENT, "server.invalid-name"},
            {"audit page size 0",
             [](Console& c) { return unary(c, &S::ListAudit, cpb::ListAuditRequest()); },
             Code::INVALID_ARGUMENT, "server.invalid-paging"},
            {"audit page size 1001",
             [](Console& c) {
                 cpb::ListAuditRequest r;
                 r.set_page_size(1001);
                 return unary(c, &S::ListAudit, r);
             },
             Code::INVALID_ARGUMENT, "server.invalid-paging"},
            {"audit negative after",
             [](Console& c) {
                 cpb::ListAuditRequest r;
                 r.set_page_size(10);
                 r.set_after_id(-1);
                 return unary(c, &S::ListAudit, r);
             },
             Code::INVALID_ARGUMENT, "server.invalid-paging"},
            {"devices page size 0",
             [](Console& c) { return unary(c, &S::ListDevices, cpb::ListDevicesRequest()); },
             Code::INVALID_ARGUMENT, "server.invalid-paging"},
            {"devices page out of range",
             [](Console& c) {
                 cpb::ListDevicesRequest r;
                 r.set_page_size(10);
                 r.set_page(4'000'000'000U);
                 return unary(c, &S::ListDevices, r);
             },
             Code::INVALID_ARGUMENT, "server.invalid-paging"},
            {"devices oversized filter",
             [](Console& c) {
                 cpb::ListDevicesRequest r;
                 r.set_page_size(10);
                 r.set_filter(std::string(2000, 'f'));
                 return unary(c, &S::ListDevices, r);
             },
             Code::INVALID_ARGUMENT, "server.invalid-text"},
            {"tag empty",
             [](Console& c) { return unary(c, &S::TagDevice, cpb::TagDeviceRequest()); },
             Code::INVALID_ARGUMENT, "server.invalid-device"},
            {"tag with space",
             [](Console& c) {
                 cpb::TagDeviceRequest r;
                 r.set_device_id("dev-1");
                 r.set_tag("two words");
                 return unary(c, &S::TagDevice, r);
             },
             Code::INVALID_ARGUMENT, "server.invalid-tag"},
            {"untag unknown device",
             [](Console& c) {
                 cpb::TagDeviceRequest r;
                 r.set_device_id("no-such-device");
                 r.set_tag("pilot");
                 return unary(c, &S::UntagDevice, r);
             },
             Code::NOT_FOUND, "store.not-found"},
            {"group bad",
             [](Console& c) {
                 cpb::SetDeviceGroupRequest r;
                 r.set_device_id("dev-1");
                 r.set_group(std::string(65, 'g'));
                 return unary(c, &S::SetDeviceGroup, r);
             },
             Code::INVALID_ARGUMENT, "server.invalid-tag"},
            {"decommission empty",
             [](Console& c) {
                 return unary(c, &S::DecommissionDevice, cpb::DecommissionDeviceRequest());
             },
             Code::INVALID_ARGUMENT, "server.invalid-device"},
            {"decommission control characters",
             [](Console& c) {
                 cpb::DecommissionDeviceRequest r;
                 r.set_device_id("dev-1");
                 r.set_reason(std::string("a\x01b"));
                 return unary(c, &S::DecommissionDevice, r);
             },
             Code::INVALID_ARGUMENT, "server.invalid-text"},
            {"inspect malformed id",
             [](Console& c) {
                 cpb::InspectReleaseRequest r;
                 r.set_id("xyz");
                 return unary(c, &S::InspectRelease, r);
             },
             Code::INVALID_ARGUMENT, "server.invalid-release"},
            {"inspect unknown id",
             [&](Console& c) {
                 cpb::InspectReleaseRequest r;
                 r.set_id(hex64);
                 return unary(c, &S::InspectRelease, r);
             },
             Code::NOT_FOUND, "store.not-found"},
            {"revoke empty",
             [](Console& c) { return unary(c, &S::RevokeRelease, cpb::RevokeReleaseRequest()); },
             Code::INVALID_ARGUMENT, "server.invalid-release"},
            {"create rollout empty",
             [](Console& c) { return unary(c, &S::CreateRollout, cpb::CreateRolloutRequest()); },
             Code::INVALID_ARGUMENT, "server.invalid-release"},
            {"create rollout oversized target",
             [&](Console& c) {
                 cpb::CreateRolloutRequest r;
                 r.set_release_id(hex64);
                 r.set_target(std::string(2000, 'm'));
                 r.mutable_plan()->set_waves("100%");
                 return unary(c, &S::CreateRollout, r);
             },
             Code::INVALID_ARGUMENT, "server.invalid-text"},
            {"create rollout oversized plan option",
             [&](Console& c) {
                 cpb::CreateRolloutRequest r;
                 r.set_release_id(hex64);
                 r.mutable_plan()->set_waves("100%");
                 r.mutable_plan()->set_window(std::string(300, 'w'));
                 return unary(c, &S::CreateRollout, r);
             },
             Code::INVALID_ARGUMENT, "server.invalid-rollout"},
            {"create rollout no waves",
             [&](Console& c) {
                 cpb::CreateRolloutRequest r;
                 r.set_release_id(hex64);
                 return unary(c, &S::CreateRollout, r);
             },
             Code::INVALID_ARGUMENT, "plan.waves"},
            {"create rollout bad threshold",
             [&](Console& c) {
                 cpb::CreateRolloutRequest r;
                 r.set_release_id(hex64);
                 r.mutable_plan()->set_waves("100%");
                 r.mutable_plan()->set_failure_threshold("250%");
                 return unary(c, &S::CreateRollout, r);
             },
             Code::INVALID_ARGUMENT, "plan.percent"},
            {"create rollout unknown release",
             [&](Console& c) {
                 cpb::CreateRolloutRequest r;
                 r.set_release_id(hex64);
                 r.mutable_plan()->set_waves("100%");
                 return unary(c, &S::CreateRollout, r);
             },
             Code::NOT_FOUND, "store.not-found"},
            {"rollout id zero",
             [](Console& c) { return unary(c, &S::GetRollout, cpb::RolloutRequest()); },
             Code::INVALID_ARGUMENT, "server.invalid-rollout"},
            {"rollout id negative",
             [](Console& c) {
                 cpb::RolloutRequest r;
                 r.set_id(-5);
                 return unary(c, &S::StartRollout, r);
             },
             Code::INVALID_ARGUMENT, "server.invalid-rollout"},
            {"rollout unknown",
             [](Console& c) {
                 cpb::RolloutRequest r;
                 r.set_id(4242);
                 return unary(c, &S::PauseRollout, r);
             },
             Code::NOT_FOUND, "server.unknown-rollout"},
            {"list rollouts page size zero",
             [](Console& c) { return unary(c, &S::ListRollouts, cpb::ListRolloutsRequest()); },
             Code::INVALID_ARGUMENT, "server.invalid-paging"},
            {"list rollouts page out of range",
             [](Console& c) {
                 cpb::ListRolloutsRequest r;
                 r.set_page(4'000'000'000U);
                 r.set_page_size(10);
                 return unary(c, &S::ListRollouts, r);
             },
             Code::INVALID_ARGUMENT, "server.invalid-paging"},
            {"rollout devices of a negative id",
             [](Console& c) {
                 cpb::ListRolloutDevicesRequest r;
                 r.set_id(-5);
                 r.set_page_size(10);
                 return unary(c, &S::ListRolloutDevices, r);
             },
             Code::INVALID_ARGUMENT, "server.invalid-rollout"},
            {"rollout devices page size zero",
             [](Console& c) {
                 cpb::ListRolloutDevicesRequest r;
                 r.set_id(1);
                 return unary(c, &S::ListRolloutDevices, r);
             },
             Code::INVALID_ARGUMENT, "server.invalid-paging"},
            {"rollout devices of an unknown rollout",
             [](Console& c) {
                 cpb::ListRolloutDevicesRequest r;
                 r.set_id(4242);
                 r.set_page_size(10);
                 return unary(c, &S::ListRolloutDevices, r);
             },
             Code::NOT_FOUND, "server.unknown-rollout"},
            {"telemetry of a negative rollout",
             [](Console& c) {
                 cpb::TelemetryReportRequest r;
                 r.set_charts(true);
                 r.set_rollout_id(-1);
                 return unary(c, &S::TelemetryReport, r);
             },
             Code::INVALID_ARGUMENT, "server.invalid-rollout"},
        };
        for (const Case& test : cases) {
            const grpc::Status status = test.call(m_admin);
            QVERIFY2(status.error_code() == test.expected,
                     qPrintable(QStringLiteral("%1: got %2 %3")
                                    .arg(QLatin1String(test.name))
                                    .arg(int(status.error_code()))
                                    .arg(QString::fromStdString(status.error_message()))));
            if (*test.code) {
                QCOMPARE(status.error_details(), std::string(test.code));
                QVERIFY2(status.error_message().size() > 20, test.name);  // a sentence
            }
        }
        // A filter that does not parse (rollout/DeviceFilter.h) is refused with its own code.
        cpb::ListDevicesRequest badFilter;
        badFilter.set_page_size(10);
        badFilter.set_filter("(model=gw-x1");
        const grpc::Status filtered = unary(m_admin, &S::ListDevices, badFilter);
        QCOMPARE(filtered.error_code(), Code::INVALID_ARGUMENT);
        QVERIFY2(filtered.error_details().rfind("filter.", 0) == 0,
                 filtered.error_details().c_str());
        // Still serving.
        QVERIFY(unary(m_admin, &S::WhoAmI, cpb::WhoAmIRequest()).ok());
    }

    void uploadsThatMustFail() {
        // No header.
        grpc::Status status = uploadRaw([](auto& w) {
            cpb::ReleaseChunk chunk;
            chunk.set_data("abc");
            w.Write(chunk);
        });
        QCOMPARE(status.error_code(), Code::INVALID_ARGUMENT);
        QCOMPARE(status.error_details(), std::string("server.upload-protocol"));
        // Declared larger than [limits] max_release_size.
        status = uploadRaw([](auto& w) { w.Write(header(2 * 1024 * 1024)); });
        QCOMPARE(status.error_code(), Code::RESOURCE_EXHAUSTED);
        QCOMPARE(status.error_details(), std::string("server.release-too-large"));
        // More bytes than declared.
        status = uploadRaw([](auto& w) {
            cpb::ReleaseChunk chunk = header(4);
            chunk.set_data("12345678");
            w.Write(chunk);
        });
        QCOMPARE(status.error_code(), Code::RESOURCE_EXHAUSTED);
        // Fewer bytes than declared.
        status = uploadRaw([](auto& w) {
            cpb::ReleaseChunk chunk = header(100);
            chunk.set_data("1234");
            w.Write(chunk);
        });
        QCOMPARE(status.error_code(), Code::INVALID_ARGUMENT);
        QCOMPARE(status.error_details(), std::string("server.upload-truncated"));
        // Not a bundle.
        status = uploadRaw([](auto& w) {
            cpb::ReleaseChunk chunk = header(64);
            chunk.set_data(std::string(64, 'z'));
            w.Write(chunk);
        });
        QCOMPARE(status.error_code(), Code::INVALID_ARGUMENT);
        QVERIFY(status.error_details().rfind("bundle.", 0) == 0);
        // A stream that never ends: the header, then silence. The server cuts it.
        QElapsedTimer timer;
        timer.start();
        auto ctx = m_admin.context(30);
        cpb::Release reply;
        auto writer = m_admin.stub->UploadRelease(ctx.get(), &reply);
        QVERIFY(writer->Write(header(1000)));
        status = writer->Finish();
        QVERIFY2(status.error_code() == Code::CANCELLED, status.error_message().c_str());
        QVERIFY(timer.elapsed() < 20000);
        // Nothing was kept; a good upload still works.
        cpb::ReleaseList list;
        QVERIFY(m_admin.stub->ListReleases(m_admin.context().get(), {}, &list).ok());
        QCOMPARE(list.releases_size(), 0);
        QFile file(m_bundle);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray bytes = file.readAll();
        status = uploadRaw([&](auto& w) {
            cpb::ReleaseChunk chunk = header(quint64(bytes.size()));
            chunk.set_data(bytes.constData(), size_t(bytes.size()));
            w.Write(chunk);
        });
        QVERIFY2(status.ok(), status.error_message().c_str());
        QVERIFY(m_admin.stub->ListReleases(m_admin.context().get(), {}, &list).ok());
        QCOMPARE(list.releases_size(), 1);
        QCOMPARE(list.releases(0).version(), std::string("1.1.0"));
    }

    void deviceSessionOnlineOfflineAndDownload() {
        auto stub = deviceStub(QStringLiteral("dev-2"));
        QVERIFY(stub);
        {
            grpc::ClientContext context;
            auto stream = stub->Session(&context);
            dpb::AgentMessage hello;
            *hello.mutable_inventory() =
                inventory(QStringLiteral("dev-2"), QStringLiteral("1.0.0"));
            QVERIFY(stream->Write(hello));
            QElapsedTimer timer;
            timer.start();
            while (!online("dev-2") && timer.elapsed() < 10000)
                QTest::qWait(50);
            QVERIFY(online("dev-2"));
            dpb::AgentMessage beat;
            beat.mutable_heartbeat();
            QVERIFY(stream->Write(beat));
            stream->WritesDone();
            QVERIFY(stream->Finish().ok());
        }
        QElapsedTimer timer;
        timer.start();
        while (online("dev-2") && timer.elapsed() < 10000)
            QTest::qWait(50);
        QVERIFY(!online("dev-2"));

        // Download resumes at an offset, once a rollout has offered the release to the device.
        cpb::ReleaseList list;
        QVERIFY(m_admin.stub->ListReleases(m_admin.context().get(), {}, &list).ok());
        QVERIFY(list.releases_size() > 0);
        const qint64 rollout = rollOut(m_admin, QString::fromStdString(list.releases(0).id()),
                                       QStringLiteral("id=dev-2"));
        QVERIFY(rollout > 0);
        QVERIFY(waitOffered(m_admin, rollout, 1, 20000));
        dpb::DownloadRequest request;
        request.set_release_id(list.releases(0).id());
        request.set_offset(1000);
        grpc::ClientContext context;
        auto reader = stub->Download(&context, request);
        dpb::DownloadChunk chunk;
        QByteArray received;
        while (reader->Read(&chunk))
            received += QByteArray::fromStdString(chunk.data());
        QVERIFY(reader->Finish().ok());
        QFile file(m_bundle);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(received, file.readAll().mid(1000));
    }

    // Progress with an unknown state ends the session with INVALID_ARGUMENT and a sentence;
    // progress for an offer the server never made is ignored and the session goes on.
    void badProgressEndsTheSession() {
        auto stub = deviceStub(QStringLiteral("dev-2"));
        QVERIFY(stub);
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
        auto stream = stub->Session(&context);
        dpb::AgentMessage message;
        *message.mutable_inventory() = inventory(QStringLiteral("dev-2"), QStringLiteral("1.0.0"));
        QVERIFY(stream->Write(message));
        message.mutable_progress()->set_offer_id("77/dev-2/1");
        message.mutable_progress()->set_state("succeeded");
        QVERIFY(stream->Write(message));
        message.mutable_progress()->set_state("exploded");
        QVERIFY(stream->Write(message));
        dpb::ServerMessage reply;
        while (stream->Read(&reply)) {
        }
        const grpc::Status status = stream->Finish();
        QCOMPARE(status.error_code(), Code::INVALID_ARGUMENT);
        QCOMPARE(status.error_details(), std::string("server.invalid-progress"));
        QVERIFY(status.error_message().size() > 20);
    }

    void deviceServiceRefusesWhatItMust() {
        // An inventory naming another device than the certificate.
        auto stub = deviceStub(QStringLiteral("dev-3"));
        QVERIFY(stub);
        dpb::InventoryAck ack;
        grpc::ClientContext c1;
        grpc::Status status =
            stub->ReportInventory(&c1, inventory(QStringLiteral("dev-1"), {}), &ack);
        QCOMPARE(status.error_code(), Code::PERMISSION_DENIED);
        QCOMPARE(status.error_details(), std::string("server.device-mismatch"));
        // The operator certificate is not a device.
        grpc::SslCredentialsOptions tls;
        const QDir pki(m_pki->pkiDir);
        tls.pem_root_certs = readText(pki.filePath(QStringLiteral("root-ca.pem")));
        tls.pem_cert_chain = readText(pki.filePath(QStringLiteral("operator.pem")));
        tls.pem_private_key = readText(pki.filePath(QStringLiteral("operator.key")));
        auto operatorAsDevice = dpb::DeviceService::NewStub(channel(tls));
        grpc::ClientContext c2;
        status =
            operatorAsDevice->ReportInventory(&c2, inventory(QStringLiteral("dev-1"), {}), &ack);
        QCOMPARE(status.error_code(), Code::UNAUTHENTICATED);
        QCOMPARE(status.error_details(), std::string("server.not-a-device"));
        // A decommissioned device is shut out.
        cpb::DecommissionDeviceRequest decommission;
        decommission.set_device_id("dev-1");
        QVERIFY(unary(m_admin, &S::DecommissionDevice, decommission).ok());
        auto dev1 = deviceStub(QStringLiteral("dev-1"));
        grpc::ClientContext c3;
        status = dev1->ReportInventory(&c3, inventory(QStringLiteral("dev-1"), {}), &ack);
        QCOMPARE(status.error_code(), Code::PERMISSION_DENIED);
        QCOMPARE(status.error_details(), std::string("server.decommissioned"));
    }

    void cleanupTestCase() {
        if (m_server)
            m_server->stop();
    }
};

QTEST_GUILESS_MAIN(TestServerInput)
#include "tst_serverinput.moc"
