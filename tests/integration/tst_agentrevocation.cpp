// Revocation on the agent: a CRL installed by setup (PKI/crl.pem) makes the agent refuse a bundle
// signed by a revoked release signer (crypto.signer-revoked, device untouched) and a revoked
// operator certificate (agent.operator-revoked), while current signers and operators still work.
#include "AgentTestBase.h"

#include "common/AtomicFile.h"

using namespace agenttest;

class TestAgentRevocation : public AgentTestBase {
    Q_OBJECT

    // A bundle signed by the named release signer of the fleet PKI.
    Result<QString> bundleSignedBy(const QString& signerName, const QString& version) {
        const QString unsignedPath = m_tmp.filePath(QStringLiteral("by-%1.otab").arg(signerName));
        const QString bin = m_tmp.filePath(QStringLiteral("by-%1.bin").arg(signerName));
        if (auto ok = writeFileAtomically(bin, QByteArray(256 * 1024, 'r')); !ok)
            return fail(ok.error());
        bundle::CreateOptions o;
        o.version = *SemVer::parse(version);
        o.securityVersion = 1;
        o.hardware = {QStringLiteral("rev-a")};
        o.payloads = {
            bundle::PayloadInput{QStringLiteral("rootfs"), QStringLiteral("rootfs"), bin}};
        if (auto ok = bundle::createBundle(o, unsignedPath); !ok)
            return fail(ok.error());
        auto key = m_pki->pki.openSignerKey(signerName, m_pki->pinProvider());
        if (!key)
            return fail(key.error());
        auto cert = m_pki->pki.signerCertificate(signerName);
        if (!cert)
            return fail(cert.error());
        auto chain = m_pki->pki.signerChain(signerName);
        if (!chain)
            return fail(chain.error());
        if (auto ok = bundle::signBundle(unsignedPath, **key, *cert, *chain); !ok)
            return fail(ok.error());
        return unsignedPath;
    }

private Q_SLOTS:
    void initTestCase() {
        setUpFleets();
        // bob signs releases and carol operates; both are revoked and the CRL is published
        // where setup looks for it, before the agent is set up.
        for (const auto& [kind, name] :
             {std::pair{crypto::IssueKind::ReleaseSigner, QStringLiteral("bob")},
              std::pair{crypto::IssueKind::Operator, QStringLiteral("carol")},
              std::pair{crypto::IssueKind::Operator, QStringLiteral("dave")}}) {
            crypto::IssueOptions o;
            o.kind = kind;
            o.name = name;
            o.pinProvider = m_pki->pinProvider();
            VERIFY_OK(m_pki->pki.issue(o));
        }
        auto bob = bundleSignedBy(QStringLiteral("bob"), QStringLiteral("1.1.0"));
        VERIFY_OK(bob);
        m_bobBundle = *bob;
        VERIFY_OK(
            m_pki->pki.revoke(QStringLiteral("bob"), crypto::RevocationReason::KeyCompromise));
        VERIFY_OK(m_pki->pki.revoke(QStringLiteral("carol"), crypto::RevocationReason::Superseded));
        auto crls = m_pki->pki.makeCrls(30, m_pki->pinProvider());
        VERIFY_OK(crls);
        VERIFY_OK(writeFileAtomically(QDir(m_pki->pkiDir).filePath(QStringLiteral("crl.pem")),
                                      crls->pem));
        m_agent = newAgent();
        QVERIFY(m_agent);
    }
    void cleanupTestCase() { m_agent.reset(); }

    void setupInstallsTheCrl() {
        auto conf = readFileBounded(m_agent->configPath(), 64 * 1024);
        VERIFY_OK(conf);
        QVERIFY2(conf->contains("crl = trust/crl-1.pem"), conf->constData());
        QVERIFY(
            QFileInfo::exists(QDir(m_agent->dir()).filePath(QStringLiteral("trust/crl-1.pem"))));
    }

    void refusesBundleOfRevokedSigner() {
        const auto before = deviceFiles(m_agent->dir());
        auto client = clientFor(*m_agent);
        QVERIFY(client);
        auto id = AgentClient::transferIdFor(m_bobBundle);
        VERIFY_OK(id);
        VERIFY_OK(client->upload(m_bobBundle, *id, 256 * 1024, {}));
        auto installed = client->install(*id, {});
        QVERIFY(!installed);
        QCOMPARE(installed.error().code, QStringLiteral("crypto.signer-revoked"));
        QCOMPARE(deviceFiles(m_agent->dir()), before);
        auto info = client->info();
        VERIFY_OK(info);
        QCOMPARE(info->activeVersion(), QStringLiteral("1.0.0"));
    }

    void acceptsCurrentSigner() {
        auto good = bundleSignedBy(QStringLiteral("release"), QStringLiteral("1.2.0"));
        VERIFY_OK(good);
        auto client = clientFor(*m_agent);
        QVERIFY(client);
        auto id = AgentClient::transferIdFor(*good);
        VERIFY_OK(id);
        VERIFY_OK(client->upload(*good, *id, 256 * 1024, {}));
        VERIFY_OK(client->install(*id, {}));
    }

    // Revocation gates installs, not boots: firmware a device committed before its signer was
    // revoked keeps booting once the device learns of the revocation (revoking a superseded key
    // must not brick a fleet at its next reboot).
    void committedFirmwareOfRevokedSignerStillBoots() {
        const QString crlLine = QStringLiteral("crl = trust/crl-1.pem");
        const QString placeholder = QStringLiteral("# the CRL arrives after the install");
        auto agent = newAgent({}, {{crlLine, placeholder}});
        QVERIFY(agent);
        {
            auto client = clientFor(*agent);
            QVERIFY(client);
            auto pushed = client->push(m_bobBundle, agentclient::PushOptions{}, {});
            VERIFY_OK(pushed);
            QCOMPARE(pushed->activeVersion(), QStringLiteral("1.1.0"));
            QCOMPARE(pushed->trial, false);
        }
        agent->kill();
        QFile conf(agent->configPath());
        QVERIFY(conf.open(QIODevice::ReadWrite));
        QString text = QString::fromUtf8(conf.readAll());
        QVERIFY(text.contains(placeholder));
        text.replace(placeholder, crlLine);
        conf.resize(0);
        conf.seek(0);
        conf.write(text.toUtf8());
        conf.close();
        VERIFY_OK(agent->start());

        auto client = clientFor(*agent);
        QVERIFY(client);
        auto info = client->info();
        VERIFY_OK(info);
        QCOMPARE(info->activeVersion(), QStringLiteral("1.1.0"));
        QVERIFY(info->healthOk);
        QVERIFY2(info->lastErrorCode.isEmpty(), qPrintable(info->lastErrorCode));
        // ...while the same bundle is still refused as a new install.
        auto id = AgentClient::transferIdFor(m_bobBundle);
        VERIFY_OK(id);
        VERIFY_OK(client->upload(m_bobBundle, *id, 256 * 1024, {}));
        auto again = client->install(*id, {});
        QVERIFY(!again);
        QCOMPARE(again.error().code, QStringLiteral("crypto.signer-revoked"));
    }

    void refusesRevokedOperator_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("code");
        QTest::newRow("revoked") << "carol"
                                 << "agent.operator-revoked";
        QTest::newRow("current") << "dave" << QString();
    }
    void refusesRevokedOperator() {
        QFETCH(QString, name);
        QFETCH(QString, code);
        auto issued = m_pki->pki.find(name);
        VERIFY_OK(issued);
        auto identity = agentclient::TlsIdentity::fromFiles(
            QDir(m_pki->pkiDir).filePath(QStringLiteral("root-ca.pem")), issued->certificatePath,
            issued->keyReference);
        VERIFY_OK(identity);
        auto client = AgentClient::create(m_agent->target(), *identity);
        VERIFY_OK(client);
        auto info = (*client)->info();
        if (code.isEmpty()) {
            VERIFY_OK(info);
        } else {
            QVERIFY(!info);
            QCOMPARE(info.error().code, code);
        }
    }

private:
    QString m_bobBundle;
    std::unique_ptr<AgentProcess> m_agent;
};

QTEST_GUILESS_MAIN(TestAgentRevocation)
#include "tst_agentrevocation.moc"
