// TLS 1.3 only (crypto::requireTls13): a real agent, a real enrolment station and a real otafleetd
// refuse a client
// that offers only TLS 1.2 and complete a TLS 1.3 handshake, checked with `openssl s_client`
// (an independent TLS stack, so the test cannot agree with itself).
#include "AgentTestBase.h"

#include "ProcessRun.h"
#include "ServerProcess.h"

#include <QRegularExpression>

using namespace agenttest;

namespace {

struct Handshake {
    int exitCode = -1;
    QByteArray output;
    // The handshake completed (gRPC then hangs up on s_client, which speaks no HTTP/2: the
    // exit code says nothing).
    [[nodiscard]] bool established() const { return output.contains("CONNECTION ESTABLISHED"); }
};

// `openssl s_client -brief` offering only `version` ("-tls1_2", "-tls1_3") and ALPN h2 as gRPC
// requires (without it gRPC refuses any version), with an operator certificate when `pkiDir` is
// given; stdin is closed, so it ends after the handshake. Without requireTls13() gRPC completes
// the TLS 1.2 handshake (checked by hand against tests/bench/bench_grpc_idle).
Handshake handshake(const QString& target, const QString& version, const QString& pkiDir = {}) {
    QStringList args{QStringLiteral("s_client"),
                     QStringLiteral("-brief"),
                     QStringLiteral("-connect"),
                     target,
                     version,
                     QStringLiteral("-alpn"),
                     QStringLiteral("h2")};
    if (!pkiDir.isEmpty()) {
        args << QStringLiteral("-cert") << QDir(pkiDir).filePath(QStringLiteral("operator.pem"))
             << QStringLiteral("-key") << QDir(pkiDir).filePath(QStringLiteral("operator.key"));
    }
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(QStringLiteral("openssl"), args);
    Handshake result;
    if (!process.waitForStarted())
        return result;
    process.closeWriteChannel();
    if (!process.waitForFinished(15000)) {
        process.kill();
        process.waitForFinished();
        return result;
    }
    result.output = process.readAll();
    result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    return result;
}

}  // namespace

class TestTlsPolicy : public AgentTestBase {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { setUpFleets(); }

    void agentAcceptsOnlyTls13() {
        auto agent = newAgent();
        QVERIFY(agent);
        const Handshake old = handshake(agent->target(), QStringLiteral("-tls1_2"), m_pki->pkiDir);
        QVERIFY2(!old.established(), old.output.constData());
        QVERIFY2(!old.output.contains("Protocol version: TLSv1.2"), old.output.constData());
        const Handshake current =
            handshake(agent->target(), QStringLiteral("-tls1_3"), m_pki->pkiDir);
        QVERIFY2(current.established(), current.output.constData());
        QVERIFY2(current.output.contains("Protocol version: TLSv1.3"), current.output.constData());
        // And the agent still serves its operators (gRPC over the restricted contexts).
        auto client = clientFor(*agent);
        QVERIFY(client);
        VERIFY_OK(client->info());
    }

    void stationAcceptsOnlyTls13() {
        QProcess station;
        station.setProgram(QStringLiteral(OTAFLEET_BIN_DIR "/otafleetctl"));
        station.setArguments(
            test::argList({"pki", "station", "--pki", m_pki->pkiDir, "--listen", "127.0.0.1:0"}));
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("OTAFLEET_ENROLL_TOKEN"), QStringLiteral("tls-policy-token"));
        station.setProcessEnvironment(env);
        station.start();
        QVERIFY(station.waitForStarted());
        QString address;
        QByteArray err;
        const QRegularExpression listening(QStringLiteral("station listening on (\\S+)"));
        for (int i = 0; i < 150 && address.isEmpty(); ++i) {
            station.waitForReadyRead(100);
            err += station.readAllStandardError();
            const auto match = listening.match(QString::fromUtf8(err));
            if (match.hasMatch())
                address = match.captured(1);
        }
        QVERIFY2(!address.isEmpty(), err.constData());
        const Handshake old = handshake(address, QStringLiteral("-tls1_2"));
        const Handshake current = handshake(address, QStringLiteral("-tls1_3"));
        station.kill();
        station.waitForFinished();
        QVERIFY2(!old.established(), old.output.constData());
        QVERIFY2(current.established(), current.output.constData());
        QVERIFY2(current.output.contains("Protocol version: TLSv1.3"), current.output.constData());
    }

    void serverAcceptsOnlyTls13() {
        auto server =
            test::ServerProcess::setUp(QStringLiteral(OTAFLEET_BIN_DIR),
                                       m_tmp.filePath(QStringLiteral("server")), m_pki->pkiDir);
        VERIFY_OK(server);
        VERIFY_OK((*server)->start());
        const QString address = (*server)->address();
        const Handshake old = handshake(address, QStringLiteral("-tls1_2"), m_pki->pkiDir);
        const Handshake current = handshake(address, QStringLiteral("-tls1_3"), m_pki->pkiDir);
        (*server)->stop();
        QVERIFY2(!old.established(), old.output.constData());
        QVERIFY2(current.established(), current.output.constData());
        QVERIFY2(current.output.contains("Protocol version: TLSv1.3"), current.output.constData());
    }

    void helpSaysSo() {
        const auto agentHelp = test::runProcess(QStringLiteral(OTAFLEET_BIN_DIR "/otafleet-agent"),
                                                {QStringLiteral("--help")});
        QCOMPARE(agentHelp.exitCode, 0);
        QVERIFY2(agentHelp.out.contains("only TLS 1.3"), agentHelp.out.constData());
        const auto ctlHelp = test::runProcess(QStringLiteral(OTAFLEET_BIN_DIR "/otafleetctl"),
                                              {QStringLiteral("--help")});
        QCOMPARE(ctlHelp.exitCode, 0);
        QVERIFY2(ctlHelp.out.contains("only TLS 1.3"), ctlHelp.out.constData());
        const auto serverHelp = test::runProcess(QStringLiteral(OTAFLEET_BIN_DIR "/otafleetd"),
                                                 {QStringLiteral("--help")});
        QCOMPARE(serverHelp.exitCode, 0);
        QVERIFY2(serverHelp.out.contains("only TLS 1.3"), serverHelp.out.constData());
    }
};

QTEST_GUILESS_MAIN(TestTlsPolicy)
#include "tst_tlspolicy.moc"
