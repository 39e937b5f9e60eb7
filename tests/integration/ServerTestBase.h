// Shared by otafleetd's integration tests: a PKI on a fresh SoftHSM token, `otafleetd setup` and a
// running otafleetd on a loopback port the kernel chose, and gRPC channels to it as the admin
// (operator certificate), as a password user (bearer token from Login) or as a device (device
// certificate issued by the PKI's device CA).
#pragma once

#include "ServerProcess.h"
#include "TestPki.h"
#include "VerifyOk.h"

#include "otafleet/console/v1/console.grpc.pb.h"
#include "otafleet/device/v1/device.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <optional>

namespace otafleet::test {

namespace cpb = otafleet::console::v1;
namespace dpb = otafleet::device::v1;

inline std::string readText(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll().toStdString() : std::string();
}

// One signed-in console caller: a stub and, after a password login, the token it sends.
struct Console {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<cpb::ConsoleService::Stub> stub;
    std::string token;

    std::unique_ptr<grpc::ClientContext> context(int seconds = 15) const {
        auto c = std::make_unique<grpc::ClientContext>();
        c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
        if (!token.empty())
            c->AddMetadata("authorization", "Bearer " + token);
        return c;
    }
};

class ServerTestBase {
protected:
    QTemporaryDir m_tmp;
    std::optional<TestPki> m_pki;
    std::unique_ptr<ServerProcess> m_server;

    QString binDir() const { return QStringLiteral(OTAFLEET_BIN_DIR); }

    // PKI on a token, otafleetd set up (with extra `otafleetd setup` arguments) and started;
    // `configure` may edit otafleetd.conf first.
    void startServer(const std::function<void(QString&)>& configure = {},
                     const QStringList& setupArgs = {}) {
        QVERIFY(m_tmp.isValid());
        auto pki = TestPki::create(m_tmp.path(), true);
        VERIFY_OK(pki);
        m_pki = std::move(*pki);
        auto server =
            ServerProcess::setUp(binDir(), m_tmp.filePath(QStringLiteral("server")), m_pki->pkiDir,
                                 QString::fromLatin1(TestPki::kPinEnv), setupArgs);
        VERIFY_OK(server);
        m_server = std::move(*server);
        if (configure) {
            QFile file(m_server->configPath());
            QVERIFY(file.open(QIODevice::ReadOnly));
            QString text = QString::fromUtf8(file.readAll());
            file.close();
            configure(text);
            QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
            file.write(text.toUtf8());
        }
        VERIFY_OK(m_server->start());
    }

    std::shared_ptr<grpc::Channel> channel(const grpc::SslCredentialsOptions& tls) const {
        grpc::ChannelArguments args;
        args.SetMaxSendMessageSize(16 * 1024 * 1024);  // lets a test send what the server refuses
        return grpc::CreateCustomChannel(m_server->address().toStdString(),
                                         grpc::SslCredentials(tls), args);
    }

    Console adminConsole() const {
        grpc::SslCredentialsOptions tls;
        const QDir pki(m_pki->pkiDir);
        tls.pem_root_certs = readText(pki.filePath(QStringLiteral("root-ca.pem")));
        tls.pem_cert_chain = readText(pki.filePath(QStringLiteral("operator.pem")));
        tls.pem_private_key = readText(pki.filePath(QStringLiteral("operator.key")));
        Console c;
        c.channel = channel(tls);
        c.stub = cpb::ConsoleService::NewStub(c.channel);
        return c;
    }

    // A console with no client certificate and no token yet.
    Console anonymousConsole() const {
        grpc::SslCredentialsOptions tls;
        tls.pem_root_certs = readText(QDir(m_pki->pkiDir).filePath(QStringLiteral("root-ca.pem")));
        Console c;
        c.channel = channel(tls);
        c.stub = cpb::ConsoleService::NewStub(c.channel);
        return c;
    }

    grpc::Status login(Console& c, const std::string& user, const std::string& password) const {
        cpb::LoginRequest request;
        request.set_user(user);
        request.set_password(password);
        cpb::LoginReply reply;
        const grpc::Status status = c.stub->Login(c.context().get(), request, &reply);
        if (status.ok())
            c.token = reply.token();
        return status;
    }

    // A device's channel with a fresh identity from the device CA (common name = deviceId).
    std::unique_ptr<dpb::DeviceService::Stub> deviceStub(const QString& deviceId) const {
        auto identity = m_pki->pki.issueDeviceIdentity(deviceId, m_pki->pinProvider());
        if (!identity)
            return nullptr;
        grpc::SslCredentialsOptions tls;
        tls.pem_root_certs = readText(QDir(m_pki->pkiDir).filePath(QStringLiteral("root-ca.pem")));
        tls.pem_cert_chain = identity->certificateChainPem.toStdString();
        tls.pem_private_key = identity->privateKeyPem.toStdString();
        return dpb::DeviceService::NewStub(channel(tls));
    }

    static dpb::Inventory inventory(const QString& deviceId, const QString& version) {
        dpb::Inventory inv;
        inv.set_device_id(deviceId.toStdString());
        inv.set_name("bench-" + deviceId.toStdString());
        inv.set_model("gw-x1");
        inv.set_hardware("rev-a");
        inv.set_serial("SN-" + deviceId.toStdString());
        inv.set_version(version.toStdString());
        inv.set_agent_version("0.9.0");
        inv.set_health_ok(true);
        dpb::Slot* slot = inv.add_slots();
        slot->set_name("A");
        slot->set_state("active");
        slot->set_version(version.toStdString());
        slot->set_security_version(1);
        return inv;
    }

    // Registers a device through DeviceService, as its agent would.
    void reportDevice(const QString& deviceId, const QString& version = QStringLiteral("1.0.0")) {
        auto stub = deviceStub(deviceId);
        QVERIFY(stub);
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
        dpb::InventoryAck ack;
        const grpc::Status status =
            stub->ReportInventory(&context, inventory(deviceId, version), &ack);
        QVERIFY2(status.ok(), status.error_message().c_str());
        QCOMPARE(ack.heartbeat_seconds(), 30U);
    }

    // A one-wave rollout of `releaseId` to the devices `target` selects, started; 0 on failure
    // (with a warning). The server offers the release to them on its next ticks.
    static qint64 rollOut(const Console& admin, const QString& releaseId, const QString& target) {
        cpb::CreateRolloutRequest create;
        create.set_release_id(releaseId.toStdString());
        create.set_target(target.toStdString());
        create.mutable_plan()->set_waves("100%");
        cpb::Rollout rollout;
        grpc::Status status = admin.stub->CreateRollout(admin.context().get(), create, &rollout);
        if (!status.ok()) {
            qWarning("CreateRollout: %s", status.error_message().c_str());
            return 0;
        }
        cpb::RolloutRequest start;
        start.set_id(rollout.id());
        status = admin.stub->StartRollout(admin.context().get(), start, &rollout);
        if (!status.ok()) {
            qWarning("StartRollout: %s", status.error_message().c_str());
            return 0;
        }
        return rollout.id();
    }

    // Waits until rollout `id` has offered the release to `devices` devices (counted in any
    // state past pending).
    static bool waitOffered(const Console& admin, qint64 id, quint64 devices, int timeoutMs) {
        QDeadlineTimer deadline(timeoutMs);
        while (!deadline.hasExpired()) {
            cpb::RolloutRequest request;
            request.set_id(id);
            cpb::Rollout rollout;
            if (admin.stub->GetRollout(admin.context().get(), request, &rollout).ok()) {
                const auto pending = rollout.counts().find("pending");
                const quint64 waiting = pending == rollout.counts().end() ? 0 : pending->second;
                if (rollout.total() - waiting >= devices)
                    return true;
            }
            QTest::qWait(100);
        }
        return false;
    }

    // The audit entries with `action`, oldest first.
    static QList<cpb::AuditEntry> auditEntries(const Console& admin, const std::string& action) {
        QList<cpb::AuditEntry> out;
        qint64 after = 0;
        for (;;) {
            cpb::ListAuditRequest request;
            request.set_after_id(after);
            request.set_page_size(1000);
            cpb::AuditPage page;
            if (!admin.stub->ListAudit(admin.context().get(), request, &page).ok() ||
                page.entries_size() == 0) {
                return out;
            }
            for (const cpb::AuditEntry& e : page.entries()) {
                if (e.action() == action)
                    out << e;
                after = e.id();
            }
        }
    }
};

}  // namespace otafleet::test
