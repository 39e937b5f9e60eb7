// Device enrolment end to end: a real factory station (otafleetctl pki station) on loopback, real
// agents (otafleet-agent enroll, then serving), real TLS. An enrolled agent serves with its device
// certificate and otafleetctl device info reaches it over mutual TLS, also after a restart; a
// wrong token, a CSR for another device id, an expired and a revoked identity are each refused
// with their own code; a device key in a SoftHSM token is enrolled and served with; an impostor
// serving with another device's certificate is refused by the client.
#include "AgentTestBase.h"
#include "ProcessRun.h"
#include "SoftHsmEnvironment.h"

#include "agent/Agent.h"
#include "agent/AgentConfig.h"
#include "agent/AgentService.h"
#include "common/AtomicFile.h"
#include "crypto/DeviceIdentity.h"
#include "enroll/EnrollmentClient.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

#include <grpcpp/grpcpp.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <sys/stat.h>

using namespace agenttest;
using test::argList;
using test::ProcessRun;
using test::runProcess;

namespace {

constexpr char kToken[] = "enrol-me-4711";
constexpr char kTokenEnv[] = "OTAFLEET_ENROLL_TOKEN";

QString bin(const char* name) {
    return QDir(QStringLiteral(OTAFLEET_BIN_DIR)).filePath(QLatin1String(name));
}

QString configValue(const QString& configPath, const QString& key) {
    const QString text = QString::fromUtf8(test::readAll(configPath));
    const auto match = QRegularExpression(QStringLiteral("(?m)^%1 = (.*)$").arg(key)).match(text);
    return match.hasMatch() ? match.captured(1).trimmed() : QString();
}

// A certificate for the public key of `holderCertPath`'s leaf whose validity ended yesterday,
// signed by the CA `caName` of the PEM-key PKI: what a device holds after its identity ran out.
QByteArray expiredCertificate(const QString& pkiDir, const QString& caName,
                              const QString& holderCertPath, const char* extendedKeyUsage,
                              const QString& subjectAltName) {
    const QDir pki(pkiDir);
    auto holder = crypto::Certificate::loadPemFile(holderCertPath);
    auto ca =
        crypto::Certificate::loadPemFile(pki.filePath(QStringLiteral("ca/%1.pem").arg(caName)));
    const QByteArray keyPem =
        test::readAll(pki.filePath(QStringLiteral("keys/%1.key").arg(caName)));
    if (!holder || !ca || keyPem.isEmpty())
        return {};
    BIO* bio = BIO_new_mem_buf(keyPem.constData(), static_cast<int>(keyPem.size()));
    EVP_PKEY* caKey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 4711);
    X509_set_pubkey(cert, X509_get0_pubkey(holder->first().handle()));
    X509_set_subject_name(cert, X509_get_subject_name(holder->first().handle()));
    X509_set_issuer_name(cert, X509_get_subject_name(ca->first().handle()));
    X509_gmtime_adj(X509_getm_notBefore(cert), -2 * 86400);
    X509_gmtime_adj(X509_getm_notAfter(cert), -86400);
    X509V3_CTX context;
    X509V3_set_ctx(&context, ca->first().handle(), cert, nullptr, nullptr, 0);
    const QByteArray san = subjectAltName.toUtf8();
    for (const auto& [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:FALSE"},
                                     std::pair{NID_ext_key_usage, extendedKeyUsage},
                                     std::pair{NID_subject_alt_name, san.constData()},
                                     std::pair{NID_authority_key_identifier, "keyid:always"}}) {
        if (san.isEmpty() && nid == NID_subject_alt_name)
            continue;
        X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
        X509_add_ext(cert, extension, -1);
        X509_EXTENSION_free(extension);
    }
    X509_sign(cert, caKey, EVP_sha256());
    EVP_PKEY_free(caKey);
    const QByteArray pem = crypto::Certificate(cert).toPem() + ca->first().toPem();
    return pem;
}

}  // namespace

class TestEnrollment : public AgentTestBase {
    Q_OBJECT

    QProcess m_station;
    QString m_stationAddress;
    std::optional<test::SoftHsmEnvironment> m_softHsm;

    // `otafleet-agent enroll` against the station, with `token` in the environment.
    ProcessRun enroll(const AgentProcess& agent, const QByteArray& token = kToken,
                      const QStringList& extra = {}) {
        qputenv(kTokenEnv, token);
        return runProcess(bin("otafleet-agent"), argList({"enroll", "--config", agent.configPath(),
                                                          "--station", m_stationAddress}) +
                                                     extra);
    }

    std::unique_ptr<AgentProcess> setUpAgent() {
        const QString dir = m_tmp.filePath(QStringLiteral("agent-%1").arg(++m_agents));
        auto agent = AgentProcess::setUp(QStringLiteral(OTAFLEET_BIN_DIR), dir, m_pki->pkiDir,
                                         QStringLiteral("dev-%1").arg(m_agents));
        if (!agent) {
            qWarning().noquote() << agent.error().toString();
            return nullptr;
        }
        return std::move(*agent);
    }

    Result<AgentInfo> infoOf(const AgentProcess& agent) {
        auto identity = agentclient::TlsIdentity::fromPkiDirectory(m_pki->pkiDir);
        if (!identity)
            return fail(identity.error());
        auto client = AgentClient::create(agent.target(), *identity);
        if (!client)
            return fail(client.error());
        return (*client)->info();
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        m_softHsm.emplace(m_tmp.filePath(QStringLiteral("softhsm")));
        auto pki = TestPki::create(m_tmp.path(), false);
        VERIFY_OK(pki);
        m_pki = std::move(*pki);
        qputenv(kTokenEnv, kToken);
        m_station.setProgram(bin("otafleetctl"));
        m_station.setArguments(argList(
            {"pki", "station", "--pki", m_pki->pkiDir, "--listen", "127.0.0.1:0", "--json"}));
        m_station.start();
        QVERIFY(m_station.waitForStarted());
        QByteArray err;
        const QRegularExpression listening(QStringLiteral("station listening on (\\S+)"));
        for (int i = 0; i < 100 && m_stationAddress.isEmpty(); ++i) {
            m_station.waitForReadyRead(100);
            err += m_station.readAllStandardError();
            const auto match = listening.match(QString::fromUtf8(err));
            if (match.hasMatch())
                m_stationAddress = match.captured(1);
        }
        QVERIFY2(!m_stationAddress.isEmpty(), err.constData());
    }

    void cleanupTestCase() {
        m_station.kill();
        m_station.waitForFinished();
    }

    void enrolledAgentServesWithDeviceCertificate() {
        auto agent = setUpAgent();
        QVERIFY(agent);
        // Without --station: the station comes from agent.conf's [server] address.
        QFile confFile(agent->configPath());
        QVERIFY(confFile.open(QIODevice::WriteOnly | QIODevice::Append));
        confFile.write("\n[server]\naddress = " + m_stationAddress.toUtf8() + "\n");
        confFile.close();
        qputenv(kTokenEnv, kToken);
        const ProcessRun run =
            runProcess(bin("otafleet-agent"), argList({"enroll", "--config", agent->configPath()}));
        QVERIFY2(run.exitCode == 0, run.err.constData());
        QVERIFY(run.out.contains("otafleet-agent: enrolled"));
        // The key file was never readable by others; the certificate is the device CA's.
        const QString keyPath = QDir(agent->dir()).filePath(QStringLiteral("identity/device.key"));
        struct stat keyStat {};
        QCOMPARE(::stat(QFile::encodeName(keyPath).constData(), &keyStat), 0);
        QCOMPARE(keyStat.st_mode & 0777, 0600u);
        const QString deviceId = configValue(agent->configPath(), QStringLiteral("id"));
        auto chain = crypto::Certificate::loadPemFile(
            QDir(agent->dir()).filePath(QStringLiteral("identity/device.pem")));
        VERIFY_OK(chain);
        crypto::ChainCheck check;
        check.rootPem = test::readAll(m_pki->pki.rootCaPath());
        auto verified = crypto::verifyCertificateChain(
            test::readAll(QDir(agent->dir()).filePath(QStringLiteral("identity/device.pem"))),
            check);
        VERIFY_OK(verified);
        QCOMPARE(crypto::deviceIdOf(*verified), deviceId);
        // The station reported the device as one JSON line.
        m_station.waitForReadyRead(2000);
        const QJsonObject line =
            QJsonDocument::fromJson(m_station.readAllStandardOutput().trimmed()).object();
        QCOMPARE(line.value(QStringLiteral("device_id")).toString(), deviceId);

        for (int start = 0; start < 2; ++start) {  // serve, then again after a restart
            VERIFY_OK(agent->start());
            QVERIFY(agent->output().contains("serving with the device identity"));
            const ProcessRun info = runProcess(
                bin("otafleetctl"), argList({"device", "info", "--target", agent->target(), "--pki",
                                             m_pki->pkiDir, "--json"}));
            QVERIFY2(info.exitCode == 0, info.err.constData());
            QCOMPARE(QJsonDocument::fromJson(info.out)
                         .object()
                         .value(QStringLiteral("device_id"))
                         .toString(),
                     deviceId);
            agent->kill();
        }
    }

    void wrongTokenIsRefused() {
        auto agent = setUpAgent();
        QVERIFY(agent);
        const QByteArray confBefore = test::readAll(agent->configPath());
        const ProcessRun run = enroll(*agent, "not-the-token");
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains("[station.token-rejected]"), run.err.constData());
        QCOMPARE(test::readAll(agent->configPath()), confBefore);
        QVERIFY(
            !QFileInfo::exists(QDir(agent->dir()).filePath(QStringLiteral("identity/device.pem"))));
    }

    void csrForAnotherDeviceIsRefused() {
        // A client that asks for dev-victim with a request naming someone else.
        auto key = crypto::DeviceKey::createFile(m_tmp.filePath(QStringLiteral("intruder.key")));
        VERIFY_OK(key);
        auto csr = crypto::makeCertificateRequest(key->evpKey(), QStringLiteral("dev-intruder"));
        VERIFY_OK(csr);
        enroll::EnrollCall call;
        call.station = m_stationAddress;
        call.rootPem = test::readAll(m_pki->pki.rootCaPath());
        call.csr = *csr;
        call.deviceId = QStringLiteral("dev-victim");
        call.token = kToken;
        auto refused = enroll::requestCertificate(call);
        QVERIFY(!refused);
        QCOMPARE(refused.error().code, QStringLiteral("station.csr-rejected"));
        // The same request for its own name is fine: the refusal was about the subject.
        call.deviceId = QStringLiteral("dev-intruder");
        auto first = enroll::requestCertificate(call);
        VERIFY_OK(first);
        // A retried request (same key) gets the same certificate; another key for the same id
        // is refused while that certificate is valid.
        auto again = enroll::requestCertificate(call);
        VERIFY_OK(again);
        QCOMPARE(*again, *first);
        auto otherKey = crypto::DeviceKey::createFile(m_tmp.filePath(QStringLiteral("other.key")));
        VERIFY_OK(otherKey);
        auto otherCsr =
            crypto::makeCertificateRequest(otherKey->evpKey(), QStringLiteral("dev-intruder"));
        VERIFY_OK(otherCsr);
        call.csr = *otherCsr;
        auto second = enroll::requestCertificate(call);
        QVERIFY(!second);
        QCOMPARE(second.error().code, QStringLiteral("station.already-enrolled"));
    }

    void expiredIdentityIsRefused() {
        auto agent = setUpAgent();
        QVERIFY(agent);
        const ProcessRun run = enroll(*agent);
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const QString certPath = QDir(agent->dir()).filePath(QStringLiteral("identity/device.pem"));
        const QByteArray expired = expiredCertificate(m_pki->pkiDir, QStringLiteral("device-ca"),
                                                      certPath, "clientAuth", QString());
        QVERIFY(!expired.isEmpty());
        VERIFY_OK(writeFileAtomically(certPath, expired));
        const auto started = agent->start();
        QVERIFY(!started);
        QVERIFY2(started.error().message.contains(QLatin1String("[agent.identity-expired]")),
                 qPrintable(started.error().message));
        QVERIFY(started.error().message.contains(QLatin1String("otafleet-agent enroll")));
    }

    // An impostor: the real agent core, in this process, configured as one device but serving
    // with another, enrolled device's certificate and key. The client refuses what it says.
    void impostorDeviceIsRefused() {
        auto genuine = setUpAgent();
        QVERIFY(genuine);
        const ProcessRun enrolled = enroll(*genuine);
        QVERIFY2(enrolled.exitCode == 0, enrolled.err.constData());
        auto impostorDir = setUpAgent();
        QVERIFY(impostorDir);
        auto config = agent::AgentConfig::load(impostorDir->configPath());
        VERIFY_OK(config);
        auto core = agent::Agent::create(*config);
        VERIFY_OK(core);
        VERIFY_OK((*core)->bootStage());
        agent::AgentService service(**core, [] {});
        grpc::SslServerCredentialsOptions tls(
            GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
        tls.pem_root_certs = test::readAll(config->operatorCa).toStdString();
        const QDir stolen(QDir(genuine->dir()).filePath(QStringLiteral("identity")));
        tls.pem_key_cert_pairs.push_back(
            {test::readAll(stolen.filePath(QStringLiteral("device.key"))).toStdString(),
             test::readAll(stolen.filePath(QStringLiteral("device.pem"))).toStdString()});
        grpc::ServerBuilder builder;
        int port = 0;
        builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(tls), &port);
        builder.RegisterService(&service);
        const std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
        QVERIFY(server && port > 0);
        auto identity = agentclient::TlsIdentity::fromPkiDirectory(m_pki->pkiDir);
        VERIFY_OK(identity);
        auto client = AgentClient::create(QStringLiteral("127.0.0.1:%1").arg(port), *identity);
        VERIFY_OK(client);
        auto info = (*client)->info();
        server->Shutdown();
        QVERIFY(!info);
        QCOMPARE(info.error().code, QStringLiteral("link.agent-identity-mismatch"));
        QVERIFY2(
            info.error().message.contains(configValue(genuine->configPath(), QStringLiteral("id"))),
            qPrintable(info.error().message));
    }

    void clientNamesAnExpiredAgentCertificate() {
        // An agent serving with an expired setup-time server certificate: the client says so.
        auto agent = setUpAgent();
        QVERIFY(agent);
        const QString certPath = QDir(agent->dir()).filePath(QStringLiteral("tls/agent.pem"));
        const QByteArray expired =
            expiredCertificate(m_pki->pkiDir, QStringLiteral("server-ca"), certPath, "serverAuth",
                               QStringLiteral("IP:127.0.0.1"));
        VERIFY_OK(writeFileAtomically(certPath, expired));
        VERIFY_OK(agent->start());
        auto info = infoOf(*agent);
        QVERIFY(!info);
        QCOMPARE(info.error().code, QStringLiteral("link.agent-certificate-expired"));
    }

    void revokedIdentityIsRefusedUntilReenrolled() {
        auto agent = setUpAgent();
        QVERIFY(agent);
        ProcessRun run = enroll(*agent);
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const QString deviceId = configValue(agent->configPath(), QStringLiteral("id"));
        const QString keyPath = QDir(agent->dir()).filePath(QStringLiteral("identity/device.key"));
        const QByteArray oldKey = test::readAll(keyPath);
        const ProcessRun revoke =
            runProcess(bin("otafleetctl"),
                       argList({"pki", "revoke", "--pki", m_pki->pkiDir, "--name", deviceId}));
        QVERIFY2(revoke.exitCode == 0, revoke.err.constData());
        const QString crl = QDir(agent->dir()).filePath(QStringLiteral("trust/device-crl.pem"));
        const ProcessRun crlRun = runProcess(
            bin("otafleetctl"), argList({"pki", "crl", "--pki", m_pki->pkiDir, "-o", crl}));
        QVERIFY2(crlRun.exitCode == 0, crlRun.err.constData());
        QString text = QString::fromUtf8(test::readAll(agent->configPath()));
        text.replace(
            QStringLiteral("bundle_root = trust/root-ca.pem\n"),
            QStringLiteral("bundle_root = trust/root-ca.pem\ncrl = trust/device-crl.pem\n"));
        VERIFY_OK(writeFileAtomically(agent->configPath(), text.toUtf8()));

        const auto started = agent->start();
        QVERIFY(!started);
        QVERIFY2(started.error().message.contains(QLatin1String("[agent.identity-revoked]")),
                 qPrintable(started.error().message));

        // Re-enrolment makes a fresh key (the old one may be why it was revoked).
        run = enroll(*agent);
        QVERIFY2(run.exitCode == 0, run.err.constData());
        QVERIFY(test::readAll(keyPath) != oldKey);
        VERIFY_OK(agent->start());
        auto info = infoOf(*agent);
        VERIFY_OK(info);
        QCOMPARE(info->deviceId, deviceId);
    }

    void tokenKeyEnrolsAndServes() {
        const ProcessRun init =
            runProcess(QStringLiteral("softhsm2-util"),
                       argList({"--init-token", "--free", "--label", "device", "--pin",
                                TestPki::kPin, "--so-pin", TestPki::kSoPin}));
        QVERIFY2(init.exitCode == 0, init.err.constData());
        auto agent = setUpAgent();
        QVERIFY(agent);
        const ProcessRun run =
            enroll(*agent, kToken,
                   argList({"--key", "pkcs11:token=device;object=identity", "--pkcs11-module",
                            m_softHsm->modulePath(), "--pin-env", TestPki::kPinEnv}));
        QVERIFY2(run.exitCode == 0, run.err.constData());
        QCOMPARE(configValue(agent->configPath(), QStringLiteral("key_uri")),
                 QStringLiteral("pkcs11:token=device;object=identity"));
        QVERIFY(
            !QFileInfo::exists(QDir(agent->dir()).filePath(QStringLiteral("identity/device.key"))));
        // Served through the in-process key engine: the handshake signs inside the token.
        VERIFY_OK(agent->start());
        QVERIFY(agent->output().contains("key pkcs11:"));
        auto info = infoOf(*agent);
        VERIFY_OK(info);
        QCOMPARE(info->deviceId, configValue(agent->configPath(), QStringLiteral("id")));
    }
};

QTEST_GUILESS_MAIN(TestEnrollment)
#include "tst_enrollment.moc"
