// The release-security attack suite (issue 3, "Must hold"): one row per attack on a bundle, each
// refused with its own error code by a real otafleet-agent over mutual TLS, the device's slots and
// boot state byte-identical afterwards. The agent takes the fleet's CRL (setup installs
// PKI/crl.pem). The two threshold rows go to a second device that requires two distinct release
// signers (signers_required = 2), and to `otafleetctl bundle verify --threshold 2` as well.
#include "AgentTestBase.h"
#include "attack_bundles.h"

#include "bundle/Delta.h"

#include <QJsonDocument>
#include <QJsonObject>

using namespace agenttest;
using attack::Parts;

namespace {

constexpr qint64 kPayloadSize = 64 * 1024;

// Where each of the 20 truncations cuts, from the frame's landmarks (m: manifest size, s:
// signature area size, both copies; p: payload size); the expected code follows from where the cut
// falls.
QList<std::pair<QString, qint64>> truncationPoints(qint64 m, qint64 s, qint64 p) {
    const qint64 h = bundle::kHeaderSize;
    return {{QStringLiteral("1 byte"), 1},
            {QStringLiteral("4 bytes"), 4},
            {QStringLiteral("7 bytes (part of the magic)"), 7},
            {QStringLiteral("magic only"), 8},
            {QStringLiteral("16 bytes"), 16},
            {QStringLiteral("header minus 1"), h - 1},
            {QStringLiteral("header only"), h},
            {QStringLiteral("half the manifest"), h + m / 2},
            {QStringLiteral("manifest minus 1"), h + m - 1},
            {QStringLiteral("no signature"), h + m},
            {QStringLiteral("half the signature"), h + m + s / 2},
            {QStringLiteral("signature minus 1"), h + m + s - 1},
            {QStringLiteral("no payload"), h + m + s},
            {QStringLiteral("1 payload byte"), h + m + s + 1},
            {QStringLiteral("quarter payload"), h + m + s + p / 4},
            {QStringLiteral("half payload"), h + m + s + p / 2},
            {QStringLiteral("three quarters payload"), h + m + s + 3 * p / 4},
            {QStringLiteral("one block short"), h + m + s + p - 4096},
            {QStringLiteral("2 bytes short"), h + m + s + p - 2},
            {QStringLiteral("1 byte short"), h + m + s + p - 1}};
}

}  // namespace

class TestAttackSuite : public AgentTestBase {
    Q_OBJECT

    std::unique_ptr<AgentProcess> m_agent;  // one device for every row but the threshold rows
    std::unique_ptr<AgentClient> m_client;
    std::unique_ptr<AgentProcess> m_twoPersonAgent;  // [trust] signers_required = 2
    std::unique_ptr<AgentClient> m_twoPersonClient;
    QMap<QString, QString> m_bundles;  // row name -> hostile bundle
    QSet<QString> m_thresholdRows;     // rows that one trusted signature would pass
    QString m_good;                    // a valid signed bundle the others derive from
    Parts m_goodParts;
    std::optional<attack::Signer> m_release;

    QString path(const QString& name) const {
        return m_tmp.filePath(QStringLiteral("attack-%1.otab").arg(name));
    }

    // An unsigned bundle with a deterministic payload (seed makes two bundles differ).
    Result<QString> create(const QString& name, const BundleSpec& spec, int seed = 0,
                           bundle::Encoding encoding = bundle::Encoding::Raw) {
        QByteArray data(spec.payloadSize, Qt::Uninitialized);
        for (qsizetype i = 0; i < data.size(); ++i)
            data[i] = char((i * 131 + seed) ^ (i >> 9));
        const QString payload = m_tmp.filePath(name + QStringLiteral(".bin"));
        if (!attack::writeFile(payload, data))
            return fail(QStringLiteral("test.io"), payload);
        bundle::CreateOptions o;
        o.version = *SemVer::parse(spec.version);
        o.securityVersion = spec.securityVersion;
        o.hardware = {spec.hardware};
        if (spec.expired) {
            o.created = QDateTime::currentDateTimeUtc().addSecs(-120);
            o.expires = QDateTime::currentDateTimeUtc().addSecs(-60);
        }
        o.payloads = {bundle::PayloadInput{QStringLiteral("rootfs"), QStringLiteral("rootfs"),
                                           payload, encoding}};
        if (auto ok = bundle::createBundle(o, path(name)); !ok)
            return fail(ok.error());
        return path(name);
    }

    Result<QString> signedWith(const QString& name, const BundleSpec& spec,
                               const attack::Signer& signer, int seed = 0) {
        auto made = create(name, spec, seed);
        if (!made)
            return made;
        if (auto ok = bundle::signBundle(*made, *signer.key, signer.certificate, signer.chain); !ok)
            return fail(ok.error());
        return made;
    }

    // A frame around `manifest` with a real release signature over exactly those bytes and the
    // good bundle's payload: whatever is refused, it is not for a missing signature.
    Status framed(const QString& name, const QByteArray& manifest) {
        auto signature = attack::signBytes(manifest, *m_release);
        if (!signature)
            return fail(signature.error());
        const Parts parts{manifest, *signature, m_goodParts.payload};
        if (!attack::writeFile(path(name), attack::frame(parts)))
            return fail(QStringLiteral("test.io"), path(name));
        m_bundles.insert(name, path(name));
        return {};
    }

    QString otafleetctl(const QStringList& args, int* exitCode) {
        QProcess p;
        p.start(QStringLiteral(OTAFLEET_BIN_DIR "/otafleetctl"), args);
        if (!p.waitForFinished(60000))
            return QStringLiteral("timeout");
        *exitCode = p.exitCode();
        const auto out = QJsonDocument::fromJson(p.readAllStandardOutput()).object();
        return out.value(QStringLiteral("error"))
            .toObject()
            .value(QStringLiteral("code"))
            .toString();
    }

    bool pki(const QStringList& args) {
        int exit = -1;
        otafleetctl(QStringList{QStringLiteral("pki")} + args +
                        QStringList{QStringLiteral("--pki"), m_pki->pkiDir},
                    &exit);
        return exit == 0;
    }

private Q_SLOTS:
    void initTestCase() {
        setUpFleets();
        auto release = attack::releaseSigner(*m_pki);
        VERIFY_OK(release);
        m_release = std::move(*release);
        auto stranger = attack::releaseSigner(*m_otherPki);
        VERIFY_OK(stranger);
        auto operatorKey = attack::operatorSigner(*m_pki);
        VERIFY_OK(operatorKey);
        auto expired = attack::expiredSigner(*m_pki, m_tmp.filePath(QStringLiteral("old.key")));
        VERIFY_OK(expired);
        // Certificate times have one-second resolution: be sure "now" is past notAfter.
        const QDateTime notAfter = expired->certificate.notAfter();
        QTRY_VERIFY_WITH_TIMEOUT(QDateTime::currentDateTimeUtc() > notAfter.addSecs(1), 5000);

        BundleSpec spec;
        spec.payloadSize = kPayloadSize;
        auto good = signedWith(QStringLiteral("good"), spec, *m_release);
        VERIFY_OK(good);
        m_good = *good;
        auto parts = attack::split(m_good);
        VERIFY_OK(parts);
        m_goodParts = *parts;
        const auto add = [this](const QString& name, const Result<QString>& made) {
            if (made)
                m_bundles.insert(name, *made);
            return made.has_value();
        };

        // Signatures.
        QVERIFY(add(QStringLiteral("unsigned"), create(QStringLiteral("unsigned"), spec)));
        QVERIFY(add(QStringLiteral("unknown key"),
                    signedWith(QStringLiteral("unknown"), spec, *stranger)));
        QVERIFY(add(QStringLiteral("no code-signing usage"),
                    signedWith(QStringLiteral("operator"), spec, *operatorKey)));
        QVERIFY(add(QStringLiteral("expired signer"),
                    signedWith(QStringLiteral("expired"), spec, *expired)));
        // Revoked: issued, signed with, revoked and published through otafleetctl; the CRL goes to
        // PKI/crl.pem, which `otafleet-agent setup` installs into the device's trust.
        QVERIFY(pki({QStringLiteral("issue"), QStringLiteral("release-signer"),
                     QStringLiteral("--name"), QStringLiteral("bob")}));
        auto bob = create(QStringLiteral("revoked"), spec);
        VERIFY_OK(bob);
        int exit = -1;
        otafleetctl(
            {QStringLiteral("bundle"), QStringLiteral("sign"), *bob, QStringLiteral("--pki"),
             m_pki->pkiDir, QStringLiteral("--signer"), QStringLiteral("bob")},
            &exit);
        QCOMPARE(exit, 0);
        QVERIFY(pki({QStringLiteral("revoke"), QStringLiteral("--name"), QStringLiteral("bob")}));
        const QString crl = QDir(m_pki->pkiDir).filePath(QStringLiteral("crl.pem"));
        QVERIFY(pki({QStringLiteral("crl"), QStringLiteral("-o"), crl}));
        m_bundles.insert(QStringLiteral("revoked signer"), *bob);
        m_bundles.insert(QStringLiteral("second signer missing"), m_good);
        m_thresholdRows.insert(QStringLiteral("second signer missing"));
        // Two SignerInfos by the one release key in one signature.
        auto twice = attack::signTwiceBySameKey(m_goodParts.manifest, *m_release);
        VERIFY_OK(twice);
        QVERIFY(
            attack::writeFile(path(QStringLiteral("twice")),
                              attack::frame({m_goodParts.manifest, *twice, m_goodParts.payload})));
        m_bundles.insert(QStringLiteral("same signer twice"), path(QStringLiteral("twice")));
        m_thresholdRows.insert(QStringLiteral("same signer twice"));

        // Container and payload.
        const QByteArray goodBytes = attack::frame(m_goodParts);
        Parts edited = m_goodParts;
        QVERIFY(edited.manifest.contains("\"version\":\"1.1.0\""));
        edited.manifest.replace("\"version\":\"1.1.0\"", "\"version\":\"1.1.1\"");
        QVERIFY(attack::writeFile(path(QStringLiteral("edited")), attack::frame(edited)));
        m_bundles.insert(QStringLiteral("manifest edited after signing"),
                         path(QStringLiteral("edited")));
        QByteArray flipped = goodBytes;
        flipped[flipped.size() - 1000] = char(flipped[flipped.size() - 1000] ^ 0x10);
        QVERIFY(attack::writeFile(path(QStringLiteral("flipped")), flipped));
        m_bundles.insert(QStringLiteral("payload bit flip"), path(QStringLiteral("flipped")));
        auto other = signedWith(QStringLiteral("other"), spec, *m_release, 7);
        VERIFY_OK(other);
        auto otherParts = attack::split(*other);
        VERIFY_OK(otherParts);
        QVERIFY(otherParts->payload != m_goodParts.payload);
        QVERIFY(attack::writeFile(
            path(QStringLiteral("mix")),
            attack::frame({m_goodParts.manifest, m_goodParts.signature, otherParts->payload})));
        m_bundles.insert(QStringLiteral("payload from another bundle"),
                         path(QStringLiteral("mix")));
        QVERIFY(
            attack::writeFile(path(QStringLiteral("trailing")), goodBytes + QByteArray(4096, 'A')));
        m_bundles.insert(QStringLiteral("trailing extra bytes"), path(QStringLiteral("trailing")));
        // The manifest (signed) promises 1 MiB more payload than the file carries.
        const QByteArray real = QByteArray::number(kPayloadSize);
        const QByteArray more = QByteArray::number(kPayloadSize + 1024 * 1024);
        QByteArray larger = m_goodParts.manifest;
        QVERIFY(larger.contains("\"size\":" + real));
        larger.replace("\"size\":" + real, "\"size\":" + more);
        larger.replace("\"target_size\":" + real, "\"target_size\":" + more);
        VERIFY_OK(framed(QStringLiteral("declared size larger than real"), larger));

        // Policy: metadata signed by the fleet's own release key.
        BundleSpec rollback = spec;
        rollback.securityVersion = 0;
        QVERIFY(add(QStringLiteral("lower security version"),
                    signedWith(QStringLiteral("rollback"), rollback, *m_release)));
        BundleSpec frozen = spec;
        frozen.expired = true;
        QVERIFY(add(QStringLiteral("expired manifest"),
                    signedWith(QStringLiteral("frozen"), frozen, *m_release)));
        BundleSpec hardware = spec;
        hardware.hardware = QStringLiteral("rev-b");
        QVERIFY(add(QStringLiteral("wrong hardware"),
                    signedWith(QStringLiteral("hardware"), hardware, *m_release)));
        // A delta 1.0.5 -> 1.1.0 while the device runs its factory 1.0.0.
        BundleSpec base = spec;
        base.version = QStringLiteral("1.0.5");
        auto from = signedWith(QStringLiteral("base"), base, *m_release, 3);
        VERIFY_OK(from);
        auto to = signedWith(QStringLiteral("target"), spec, *m_release, 4);
        VERIFY_OK(to);
        bundle::DeltaOptions deltaOptions;
        deltaOptions.level = 3;
        VERIFY_OK(bundle::createDelta(*from, *to, path(QStringLiteral("delta")), deltaOptions));
        VERIFY_OK(bundle::signBundle(path(QStringLiteral("delta")), *m_release->key,
                                     m_release->certificate, m_release->chain));
        m_bundles.insert(QStringLiteral("delta against the wrong base"),
                         path(QStringLiteral("delta")));

        // Hostile manifests in a correctly framed, correctly signed container.
        VERIFY_OK(framed(QStringLiteral("malformed JSON"), m_goodParts.manifest.chopped(1)));
        QByteArray deep = m_goodParts.manifest;
        deep.insert(1, "\"release_notes\":" + QByteArray(64, '[') + QByteArray(64, ']') + ',');
        VERIFY_OK(framed(QStringLiteral("deep nesting"), deep));
        QByteArray huge = m_goodParts.manifest;
        QVERIFY(huge.contains("\"security_version\":1"));
        huge.replace("\"security_version\":1", "\"security_version\":184467440737095516160");
        VERIFY_OK(framed(QStringLiteral("huge numbers"), huge));
        QByteArray oversized = m_goodParts.manifest;
        oversized.append(QByteArray(bundle::Manifest::kMaxSize + 1 - oversized.size(), ' '));
        VERIFY_OK(framed(QStringLiteral("oversized manifest"), oversized));

        // The device is set up last: `otafleet-agent setup` installs PKI/crl.pem when it exists.
        m_agent = newAgent();
        QVERIFY(m_agent);
        m_client = clientFor(*m_agent);
        QVERIFY(m_client);
        m_twoPersonAgent = newAgent(
            {}, {{QStringLiteral("[trust]\n"), QStringLiteral("[trust]\nsigners_required = 2\n")}});
        QVERIFY(m_twoPersonAgent);
        m_twoPersonClient = clientFor(*m_twoPersonAgent);
        QVERIFY(m_twoPersonClient);
    }

    void refusesAttack_data() {
        QTest::addColumn<QString>("bundle");
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("messagePart");  // tells rows with one code apart
        const auto row = [this](const char* name, const char* code, const char* part = "") {
            QTest::newRow(name) << m_bundles.value(QString::fromLatin1(name))
                                << QString::fromLatin1(code) << QString::fromLatin1(part);
        };
        row("unsigned", "bundle.unsigned");
        row("unknown key", "crypto.untrusted-signer");
        row("revoked signer", "crypto.signer-revoked");
        row("no code-signing usage", "crypto.signer-not-code-signing");
        row("expired signer", "crypto.signer-expired");
        row("second signer missing", "crypto.threshold-not-met");
        row("same signer twice", "crypto.threshold-not-met");
        row("manifest edited after signing", "crypto.signature-invalid");
        row("payload bit flip", "bundle.payload-corrupted");
        row("payload from another bundle", "bundle.payload-corrupted");
        row("trailing extra bytes", "bundle.trailing-data");
        row("declared size larger than real", "bundle.truncated");
        row("lower security version", "bundle.rollback");
        row("expired manifest", "bundle.expired");
        row("wrong hardware", "bundle.wrong-hardware");
        row("delta against the wrong base", "bundle.delta-base-mismatch");
        row("malformed JSON", "bundle.manifest-malformed");
        row("deep nesting", "bundle.manifest-malformed", "nests");
        row("huge numbers", "bundle.manifest-malformed", "2^53");
        row("oversized manifest", "bundle.manifest-too-large");

        const QByteArray good = attack::frame(m_goodParts);
        // The signature area spans two copies of the signature's size (attack::frame).
        const auto points = truncationPoints(m_goodParts.manifest.size(),
                                             2 * m_goodParts.signature.size(), kPayloadSize);
        for (const auto& [what, size] : points) {
            const QString file = path(QStringLiteral("cut-%1").arg(size));
            if (!attack::writeFile(file, good.first(size)))
                qFatal("cannot write %s", qPrintable(file));
            const char* code =
                size < bundle::kMagic.size() ? "bundle.not-a-bundle" : "bundle.truncated";
            QTest::newRow(qPrintable(QStringLiteral("truncated at %1: %2").arg(size).arg(what)))
                << file << QString::fromLatin1(code) << QString();
        }
    }

    void refusesAttack() {
        QFETCH(QString, bundle);
        QFETCH(QString, code);
        QFETCH(QString, messagePart);
        QVERIFY2(QFileInfo::exists(bundle), "bundle not prepared");
        const QString tag = QString::fromLatin1(QTest::currentDataTag());

        const bool thresholdRow = m_thresholdRows.contains(tag);
        if (thresholdRow) {
            // One trusted signature: `bundle verify` passes it, so the refusals below are the
            // threshold's and nothing else's.
            const QStringList verify{QStringLiteral("bundle"),
                                     QStringLiteral("verify"),
                                     bundle,
                                     QStringLiteral("--pki"),
                                     m_pki->pkiDir,
                                     QStringLiteral("--json")};
            int exit = -1;
            QCOMPARE(otafleetctl(verify, &exit), QString());
            QCOMPARE(exit, 0);
            const QString got = otafleetctl(
                verify + QStringList{QStringLiteral("--threshold"), QStringLiteral("2")}, &exit);
            QCOMPARE(got, code);
            QVERIFY(exit != 0);
        }
        AgentProcess& agent = thresholdRow ? *m_twoPersonAgent : *m_agent;
        AgentClient& client = thresholdRow ? *m_twoPersonClient : *m_client;

        const auto before = deviceFiles(agent.dir());
        QVERIFY(!before.isEmpty());
        // A transfer id of our own: AgentClient::transferIdFor reads the header and would refuse
        // the broken ones on this side; the agent must refuse them itself.
        QFile file(bundle);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QString id = QString::fromLatin1(crypto::Sha256::hash(file.readAll()).toHex());
        file.close();
        Status result = client.upload(bundle, id, 256 * 1024, {});
        if (result)
            result = client.install(id, {});
        QVERIFY2(!result, "the agent accepted a hostile bundle");
        QVERIFY2(result.error().code == code, qPrintable(result.error().toString()));
        QVERIFY2(result.error().message.contains(messagePart),
                 qPrintable(result.error().toString()));
        QCOMPARE(deviceFiles(agent.dir()), before);
        auto info = client.info();
        VERIFY_OK(info);
        QCOMPARE(info->lastErrorCode, code);
        QCOMPARE(info->activeVersion(), QStringLiteral("1.0.0"));
        QVERIFY2(agent.isRunning(), agent.output().constData());
    }

    // The suite proves something only if the same agent takes the bundle the attacks derive from.
    void acceptsTheUntamperedBundle() {
        auto pushed = m_client->push(m_good, PushOptions{}, {});
        VERIFY_OK(pushed);
        QCOMPARE(pushed->activeVersion(), QStringLiteral("1.1.0"));
    }

    // Two-person release signing on the device: the second signature, by a distinct signer of
    // the same fleet ('bundle sign --signer'), is what makes the threshold device take it.
    void twoPersonDeviceTakesTwoDistinctSigners() {
        QVERIFY(pki({QStringLiteral("issue"), QStringLiteral("release-signer"),
                     QStringLiteral("--name"), QStringLiteral("carol")}));
        const QString twoSigned = path(QStringLiteral("two-signers"));
        QVERIFY(QFile::copy(m_good, twoSigned));
        int exit = -1;
        otafleetctl(
            {QStringLiteral("bundle"), QStringLiteral("sign"), twoSigned, QStringLiteral("--pki"),
             m_pki->pkiDir, QStringLiteral("--signer"), QStringLiteral("carol")},
            &exit);
        QCOMPARE(exit, 0);
        auto pushed = m_twoPersonClient->push(twoSigned, PushOptions{}, {});
        VERIFY_OK(pushed);
        QCOMPARE(pushed->activeVersion(), QStringLiteral("1.1.0"));
    }

    void cleanupTestCase() {
        m_twoPersonClient.reset();
        m_twoPersonAgent.reset();
        m_client.reset();
        m_agent.reset();
    }
};

QTEST_GUILESS_MAIN(TestAttackSuite)
#include "tst_attacksuite.moc"
