// otafleet-agent refusals: every verifier threat refused with its own code and the device
// byte-identical, certificates that are not an operator's, bad setup and config, token keys.
#include "AgentTestBase.h"

#include "common/AtomicFile.h"
#include "crypto/Certificate.h"

#include <QTcpServer>

using namespace agenttest;

class TestAgentSecurity : public AgentTestBase {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { setUpFleets(); }

    void refusesThreats_data() {
        QTest::addColumn<QString>("threat");
        QTest::addColumn<QString>("code");
        QTest::newRow("untrusted key") << "untrusted"
                                       << "crypto.untrusted-signer";
        QTest::newRow("flipped payload bit") << "flipped"
                                             << "bundle.payload-corrupted";
        QTest::newRow("truncated") << "truncated"
                                   << "bundle.truncated";
        QTest::newRow("lower security version") << "rollback"
                                                << "bundle.rollback";
        QTest::newRow("expired") << "expired"
                                 << "bundle.expired";
        QTest::newRow("other hardware") << "hardware"
                                        << "bundle.wrong-hardware";
    }
    void refusesThreats() {
        QFETCH(QString, threat);
        QFETCH(QString, code);
        static std::unique_ptr<AgentProcess> agent;  // one device for all rows
        if (!agent)
            agent = newAgent();
        QVERIFY(agent);
        BundleSpec spec;
        if (threat == u"rollback")
            spec.securityVersion = 0;
        if (threat == u"expired")
            spec.expired = true;
        if (threat == u"hardware")
            spec.hardware = QStringLiteral("rev-b");
        auto bundle = makeBundle(spec, threat == u"untrusted" ? *m_otherPki : *m_pki);
        VERIFY_OK(bundle);
        QFile file(*bundle);
        QVERIFY(file.open(QIODevice::ReadWrite));
        if (threat == u"flipped") {
            file.seek(file.size() - 1000);
            char c = 0;
            file.getChar(&c);
            file.seek(file.size() - 1000);
            file.putChar(char(c ^ 0x10));
        } else if (threat == u"truncated") {
            file.resize(file.size() - 4096);
        }
        file.close();

        const auto before = deviceFiles(agent->dir());
        QVERIFY(!before.isEmpty());
        auto client = clientFor(*agent);
        QVERIFY(client);
        auto id = AgentClient::transferIdFor(*bundle);
        VERIFY_OK(id);
        VERIFY_OK(client->upload(*bundle, *id, 256 * 1024, {}));
        auto installed = client->install(*id, {});
        QVERIFY(!installed);
        QCOMPARE(installed.error().code, code);
        QCOMPARE(deviceFiles(agent->dir()), before);
        auto info = client->info();
        VERIFY_OK(info);
        QCOMPARE(info->lastErrorCode, code);
        QCOMPARE(info->activeVersion(), QStringLiteral("1.0.0"));
        if (QTest::currentDataTag() == QByteArrayView("other hardware"))
            agent.reset();
    }

    void refusesNonOperatorCertificate() {
        const QDir pki(m_pki->pkiDir);
        const QDir work(m_tmp.filePath(QStringLiteral("rogue")));
        QVERIFY(QDir().mkpath(work.path()));
        QFile ext(work.filePath(QStringLiteral("ext.cnf")));
        QVERIFY(ext.open(QIODevice::WriteOnly));
        ext.write(
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
            "extendedKeyUsage=clientAuth\n");
        ext.close();
        const auto openssl = [&](const QStringList& args) {
            QProcess p;
            p.setWorkingDirectory(work.path());
            p.setProcessChannelMode(QProcess::MergedChannels);
            p.start(QStringLiteral("openssl"), args);
            const bool ok = p.waitForFinished(30000) && p.exitCode() == 0;
            if (!ok)
                qWarning().noquote() << p.readAll();
            return ok;
        };
        QVERIFY(openssl({QStringLiteral("req"), QStringLiteral("-new"), QStringLiteral("-newkey"),
                         QStringLiteral("ec"), QStringLiteral("-pkeyopt"),
                         QStringLiteral("ec_paramgen_curve:P-256"), QStringLiteral("-nodes"),
                         QStringLiteral("-keyout"), QStringLiteral("device.key"),
                         QStringLiteral("-subj"), QStringLiteral("/CN=rogue-device"),
                         QStringLiteral("-out"), QStringLiteral("device.csr")}));
        QVERIFY(openssl({QStringLiteral("x509"), QStringLiteral("-req"), QStringLiteral("-in"),
                         QStringLiteral("device.csr"), QStringLiteral("-CA"),
                         pki.filePath(QStringLiteral("ca/device-ca.pem")), QStringLiteral("-CAkey"),
                         pki.filePath(QStringLiteral("keys/device-ca.key")),
                         QStringLiteral("-CAcreateserial"), QStringLiteral("-days"),
                         QStringLiteral("1"), QStringLiteral("-extfile"), QStringLiteral("ext.cnf"),
                         QStringLiteral("-out"), QStringLiteral("device.pem")}));
        QFile leaf(work.filePath(QStringLiteral("device.pem")));
        QFile ca(pki.filePath(QStringLiteral("ca/device-ca.pem")));
        QVERIFY(leaf.open(QIODevice::ReadOnly) && ca.open(QIODevice::ReadOnly));
        QFile chain(work.filePath(QStringLiteral("chain.pem")));
        QVERIFY(chain.open(QIODevice::WriteOnly));
        chain.write(leaf.readAll() + ca.readAll());
        chain.close();

        auto agent = newAgent();
        QVERIFY(agent);
        auto identity = agentclient::TlsIdentity::fromFiles(
            pki.filePath(QStringLiteral("root-ca.pem")), chain.fileName(),
            work.filePath(QStringLiteral("device.key")));
        VERIFY_OK(identity);
        auto rogue = AgentClient::create(agent->target(), *identity);
        VERIFY_OK(rogue);
        auto info = (*rogue)->info();
        QVERIFY(!info);
        QCOMPARE(info.error().code, QStringLiteral("agent.not-an-operator"));
        auto offset = (*rogue)->uploadOffset(QStringLiteral("abc"));
        QVERIFY(!offset);
        QCOMPARE(offset.error().code, QStringLiteral("agent.not-an-operator"));
        VERIFY_OK(clientFor(*agent)->info());  // the operator still gets in
    }

    // A CA under the root that merely carries the operator CA's name (and a leaf it issued)
    // passes TLS; the agent checks the leaf's signature with the operator CA's key.
    void refusesOperatorNameLookalike() {
        const QDir pki(m_pki->pkiDir);
        const QDir work(m_tmp.filePath(QStringLiteral("lookalike")));
        QVERIFY(QDir().mkpath(work.path()));
        auto operatorCa =
            crypto::Certificate::loadPemFile(pki.filePath(QStringLiteral("ca/operator-ca.pem")));
        VERIFY_OK(operatorCa);
        const QString cn = operatorCa->first().commonName();
        QCOMPARE(operatorCa->first().subject(), QStringLiteral("CN=") + cn);
        const auto write = [&](const char* name, const QByteArray& text) {
            QFile f(work.filePath(QLatin1String(name)));
            return f.open(QIODevice::WriteOnly) && f.write(text) == text.size();
        };
        QVERIFY(write("ca.cnf",
                      "basicConstraints=critical,CA:TRUE,pathlen:0\n"
                      "keyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n"
                      "authorityKeyIdentifier=keyid\n"));
        QVERIFY(write("leaf.cnf",
                      "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
                      "extendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\n"
                      "authorityKeyIdentifier=keyid\n"));
        const auto openssl = [&](const QStringList& args) {
            QProcess p;
            p.setWorkingDirectory(work.path());
            p.setProcessChannelMode(QProcess::MergedChannels);
            p.start(QStringLiteral("openssl"), args);
            const bool ok = p.waitForFinished(30000) && p.exitCode() == 0;
            if (!ok)
                qWarning().noquote() << p.readAll();
            return ok;
        };
        const auto newKeyAndCsr = [&](const QString& name, const QString& subject) {
            return openssl({QStringLiteral("req"), QStringLiteral("-new"),
                            QStringLiteral("-newkey"), QStringLiteral("ec"),
                            QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:P-256"),
                            QStringLiteral("-nodes"), QStringLiteral("-keyout"),
                            name + QStringLiteral(".key"), QStringLiteral("-subj"), subject,
                            QStringLiteral("-out"), name + QStringLiteral(".csr")});
        };
        const auto sign = [&](const QString& name, const QString& caPem, const QString& caKey,
                              const QString& ext) {
            return openssl({QStringLiteral("x509"), QStringLiteral("-req"), QStringLiteral("-in"),
                            name + QStringLiteral(".csr"), QStringLiteral("-CA"), caPem,
                            QStringLiteral("-CAkey"), caKey, QStringLiteral("-CAcreateserial"),
                            QStringLiteral("-days"), QStringLiteral("1"),
                            QStringLiteral("-extfile"), ext, QStringLiteral("-out"),
                            name + QStringLiteral(".pem")});
        };
        QVERIFY(newKeyAndCsr(QStringLiteral("rogue-ca"), QStringLiteral("/CN=") + cn));
        QVERIFY(sign(QStringLiteral("rogue-ca"), pki.filePath(QStringLiteral("root-ca.pem")),
                     pki.filePath(QStringLiteral("keys/root-ca.key")), QStringLiteral("ca.cnf")));
        QVERIFY(newKeyAndCsr(QStringLiteral("leaf"), QStringLiteral("/CN=lookalike")));
        QVERIFY(sign(QStringLiteral("leaf"), QStringLiteral("rogue-ca.pem"),
                     QStringLiteral("rogue-ca.key"), QStringLiteral("leaf.cnf")));
        auto leaf = readFileBounded(work.filePath(QStringLiteral("leaf.pem")), 65536);
        auto rogueCa = readFileBounded(work.filePath(QStringLiteral("rogue-ca.pem")), 65536);
        VERIFY_OK(leaf);
        VERIFY_OK(rogueCa);
        QVERIFY(write("chain.pem", *leaf + *rogueCa));

        auto agent = newAgent();
        QVERIFY(agent);
        auto identity = agentclient::TlsIdentity::fromFiles(
            pki.filePath(QStringLiteral("root-ca.pem")), work.filePath(QStringLiteral("chain.pem")),
            work.filePath(QStringLiteral("leaf.key")));
        VERIFY_OK(identity);
        auto lookalike = AgentClient::create(agent->target(), *identity);
        VERIFY_OK(lookalike);
        auto info = (*lookalike)->info();
        QVERIFY(!info);
        QCOMPARE(info.error().code, QStringLiteral("agent.not-an-operator"));
    }

    void refusesBadSetupAndConfig() {
        QProcess setup;
        setup.start(QStringLiteral(OTAFLEET_BIN_DIR "/otafleet-agent"),
                    {QStringLiteral("setup"), QStringLiteral("--dir"),
                     m_tmp.filePath(QStringLiteral("lilo")), QStringLiteral("--pki"), m_pki->pkiDir,
                     QStringLiteral("--listen"), QStringLiteral("127.0.0.1:1"),
                     QStringLiteral("--boot-backend"), QStringLiteral("lilo")});
        QVERIFY(setup.waitForFinished(30000));
        QCOMPARE(setup.exitCode(), 1);
        QVERIFY(setup.readAllStandardError().contains("[agent.setup-invalid]"));

        auto agent = newAgent();
        QVERIFY(agent);
        // SIGTERM stops the agent cleanly.
        ::kill(pid_t(agent->pid()), SIGTERM);
        QTRY_VERIFY_WITH_TIMEOUT(!agent->isRunning(), 10000);
        QVERIFY2(agent->output().contains("otafleet.agent info: stopping"),
                 agent->output().constData());
        QFile conf(agent->configPath());
        QVERIFY(conf.open(QIODevice::Append));
        conf.write("[boot]\ntries = 5\n");
        conf.close();
        auto started = agent->start(5000);
        QVERIFY(!started);
        QVERIFY2(
            started.error().message.contains(QStringLiteral("unknown key 'tries'; did you mean "
                                                            "'trial_tries'?")),
            qPrintable(started.error().message));
        QVERIFY(started.error().message.contains(QStringLiteral("[agent.config-invalid]")));
    }

    // Release and server CA keys in a SoftHSM token: setup signs the factory image through
    // PKCS#11 with the PIN taken from the environment.
    void setupWithTokenKeys() {
        auto token = TestPki::create(m_tmp.filePath(QStringLiteral("token")), true);
        VERIFY_OK(token);
        auto agent = AgentProcess::setUp(
            QStringLiteral(OTAFLEET_BIN_DIR), m_tmp.filePath(QStringLiteral("token-agent")),
            token->pkiDir, QStringLiteral("token-dev"), QStringLiteral("rev-a"),
            QString::fromLatin1(TestPki::kPinEnv));
        VERIFY_OK(agent);
        VERIFY_OK((*agent)->start());
        auto identity = agentclient::TlsIdentity::fromPkiDirectory(token->pkiDir);
        VERIFY_OK(identity);
        auto client = AgentClient::create((*agent)->target(), *identity);
        VERIFY_OK(client);
        auto info = (*client)->info();
        VERIFY_OK(info);
        QCOMPARE(info->activeVersion(), QStringLiteral("1.0.0"));
        // An operator of another fleet is refused at the TLS layer.
        auto foreign = agentclient::TlsIdentity::fromPkiDirectory(m_pki->pkiDir);
        VERIFY_OK(foreign);
        auto stranger = AgentClient::create((*agent)->target(), *foreign);
        VERIFY_OK(stranger);
        auto refused = (*stranger)->info();
        QVERIFY(!refused);
        QVERIFY2(refused.error().code.startsWith(u"link."), qPrintable(refused.error().toString()));
    }

    // Programs that hold keys or PINs make no core dumps: the agent (TLS key) and otafleetctl
    // (token sessions, PINs), each checked while it runs, through the kernel's view of it.
    void noCoreDumps() {
        auto agent = newAgent();
        QVERIFY(agent);
        QVERIFY2(coreLimit(agent->pid()) == QByteArrayLiteral("0 0"),
                 coreLimit(agent->pid()).constData());
        // otafleetctl waits on a peer that accepts TCP and never answers the TLS handshake.
        QTcpServer silent;
        QVERIFY(silent.listen(QHostAddress::LocalHost));
        QProcess ctl;
        ctl.start(QStringLiteral(OTAFLEET_BIN_DIR "/otafleetctl"),
                  {QStringLiteral("device"), QStringLiteral("info"), QStringLiteral("--target"),
                   QStringLiteral("127.0.0.1:%1").arg(silent.serverPort()), QStringLiteral("--pki"),
                   m_pki->pkiDir});
        QVERIFY(ctl.waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(silent.hasPendingConnections() || silent.waitForNewConnection(0),
                                 10000);
        QCOMPARE(ctl.state(), QProcess::Running);
        QCOMPARE(coreLimit(ctl.processId()), QByteArrayLiteral("0 0"));
        ctl.kill();
        ctl.waitForFinished();
    }

private:
    // "soft hard" of the process's RLIMIT_CORE as /proc/PID/limits shows it.
    static QByteArray coreLimit(qint64 pid) {
        QFile limits(QStringLiteral("/proc/%1/limits").arg(pid));
        if (!limits.open(QIODevice::ReadOnly))
            return "unreadable";
        for (const QByteArray& line : limits.readAll().split('\n')) {
            if (line.startsWith("Max core file size")) {
                const QList<QByteArray> fields = line.mid(26).simplified().split(' ');
                return fields.size() >= 2 ? fields[0] + ' ' + fields[1] : line;
            }
        }
        return "missing";
    }
};

QTEST_GUILESS_MAIN(TestAgentSecurity)
#include "tst_agentsecurity.moc"
