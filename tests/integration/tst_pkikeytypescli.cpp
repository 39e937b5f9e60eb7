// `otafleetctl pki init --key-type` and `pki issue release-signer --key-type` through the real
// binary, for PEM and SoftHSM PKIs: then `bundle sign` with two signers of different key types
// and `bundle verify --threshold 2`. Ed25519 signatures also go to a real agent, and altered
// ones are refused like any other.
#include "AgentProcess.h"
#include "CliRun.h"
#include "SoftHsmEnvironment.h"

#include "bundle/BundleBuilder.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;

namespace {

constexpr const char* kPinEnv = "OTAFLEET_PKICLI_PIN";

using Run = test::ProcessRun;
using test::ctl;
using test::otafleetctl;

using test::readAll;

QString s(const char* text) {
    return QString::fromLatin1(text);
}

}  // namespace

class TestPkiKeyTypesCli : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void keyTypes_data();
    void keyTypes();

private:
    [[nodiscard]] QString path(const QString& relative) const { return m_dir.filePath(relative); }
    [[nodiscard]] QString makeBundle(const QString& name) const;
    void checkEd25519Refusals(const QString& pkiDir, const QString& tag, bool agent);

    QTemporaryDir m_dir;
};

void TestPkiKeyTypesCli::initTestCase() {
    QVERIFY(m_dir.isValid());
    qputenv(kPinEnv, "1234");
    qputenv("OTAFLEET_PKICLI_SO_PIN", "5678");
    QFile payload(path(QStringLiteral("payload.bin")));
    QVERIFY(payload.open(QIODevice::WriteOnly));
    QCOMPARE(payload.write(QByteArray(4096, 'x')), 4096);
}

QString TestPkiKeyTypesCli::makeBundle(const QString& name) const {
    bundle::CreateOptions options;
    options.version = SemVer{1, 2, 3};
    options.securityVersion = 1;
    options.hardware = {QStringLiteral("rev-a")};
    options.payloads = {bundle::PayloadInput{QStringLiteral("rootfs"), QStringLiteral("rootfs"),
                                             path(QStringLiteral("payload.bin"))}};
    const QString out = path(name);
    const Status created = bundle::createBundle(options, out);
    return created ? out : QString();
}

// `pki init --key-type` and `pki issue release-signer --key-type` through the binary, then two
// signatures of different types with `bundle sign` that `bundle verify --threshold 2` accepts.
// Token rows share one SoftHSM directory, one token each; only child processes load the module.
void TestPkiKeyTypesCli::keyTypes_data() {
    QTest::addColumn<QString>("initType");
    QTest::addColumn<QString>("issueType");
    QTest::addColumn<bool>("token");
    QTest::addColumn<bool>("agent");  // an Ed25519-signed bundle goes to a real agent
    QTest::newRow("p384 pem, rsa-pss signer") << s("p384") << s("rsa-pss") << false << false;
    QTest::newRow("rsa-pss pem, p256 signer") << s("rsa-pss") << s("p256") << false << false;
    QTest::newRow("ed25519 pem, p256 signer") << s("ed25519") << s("p256") << false << false;
    QTest::newRow("p384 token, rsa-pss signer") << s("p384") << s("rsa-pss") << true << false;
    // Keys generated, and certificates, CRLs and CMS signed, through raw PKCS#11 CKM_EDDSA.
    QTest::newRow("ed25519 token, ed25519 signer") << s("ed25519") << s("ed25519") << true << true;
    // libp11 0.4.12 cannot list a token's keys once it holds an EdDSA key: from then on the
    // P-256 CA and release keys sign through raw PKCS#11 (CKM_ECDSA) too.
    QTest::newRow("p256 token, ed25519 signer") << s("p256") << s("ed25519") << true << false;
}

void TestPkiKeyTypesCli::keyTypes() {
    QFETCH(QString, initType);
    QFETCH(QString, issueType);
    QFETCH(bool, token);
    QFETCH(bool, agent);
    const QString tag =
        QString::fromLatin1(QTest::currentDataTag()).replace(u' ', u'-').remove(u',');
    const QString pkiDir = path(QStringLiteral("kt-") + tag);
    QStringList init = {s("pki"),        s("init"), s("--dir"), pkiDir,
                        s("--key-type"), initType,  s("--json")};
    if (token) {
        const test::SoftHsmEnvironment softHsm(path(QStringLiteral("softhsm")));
        init += {s("--pkcs11-module"), softHsm.modulePath(), s("--token-label"),
                 tag.left(32),         s("--init-token"),    s("--pin-env"),
                 s(kPinEnv),           s("--so-pin-env"),    s("OTAFLEET_PKICLI_SO_PIN")};
    }
    const Run made = otafleetctl(init);
    QVERIFY2(made.exitCode == 0, made.err.constData());
    QCOMPARE(QJsonDocument::fromJson(made.out).object().value(u"key_type").toString(), initType);
    const QJsonObject json =
        QJsonDocument::fromJson(readAll(pkiDir + QStringLiteral("/pki.json"))).object();
    QCOMPARE(json.value(u"key_type").toString(), initType);

    const Run issued = ctl({"pki", "issue", "release-signer", "--pki", pkiDir, "--name", "other",
                            "--key-type", issueType, "--pin-env", kPinEnv, "--json"});
    QVERIFY2(issued.exitCode == 0, issued.err.constData());
    QCOMPARE(QJsonDocument::fromJson(issued.out).object().value(u"key_location").toString(),
             token ? s("token") : s("file"));

    const QString bundle = makeBundle(QStringLiteral("kt-%1.otab").arg(tag));
    QVERIFY(!bundle.isEmpty());
    const Run first = ctl({"bundle", "sign", bundle, "--pki", pkiDir, "--pin-env", kPinEnv});
    QVERIFY2(first.exitCode == 0, first.err.constData());
    const Run second =
        ctl({"bundle", "sign", bundle, "--pki", pkiDir, "--signer", "other", "--pin-env", kPinEnv});
    QVERIFY2(second.exitCode == 0, second.err.constData());
    const Run verified = ctl({"bundle", "verify", bundle, "--pki", pkiDir, "--threshold", "2"});
    QVERIFY2(verified.exitCode == 0, verified.err.constData());
    if (initType == s("ed25519")) {
        checkEd25519Refusals(pkiDir, tag, agent);
    }
    if (token && initType == s("p256")) {
        // The P-256 release key of a token that also holds an Ed25519 key signs MCUboot images
        // through raw PKCS#11 as well, and the image verifies against its public key.
        const QString firmware = path(QStringLiteral("mcu-%1.bin").arg(tag));
        QFile fw(firmware);
        QVERIFY(fw.open(QIODevice::WriteOnly));
        fw.write(QByteArray(4096, 'm'));
        fw.close();
        const QString image = firmware + QStringLiteral(".signed");
        const Run mcu = ctl({"mcuboot", "sign", "--pki", pkiDir, "--signer", "release", "--pin-env",
                             kPinEnv, "--version", "1.2.3", "--header-size", "512", "--slot-size",
                             "131072", "--pad-header", firmware, "-o", image});
        QVERIFY2(mcu.exitCode == 0, mcu.err.constData());
        const QString pub = path(QStringLiteral("release-%1.pub.pem").arg(tag));
        const Run exported =
            ctl({"pki", "export-public", "--pki", pkiDir, "--name", "release", "-o", pub});
        QVERIFY2(exported.exitCode == 0, exported.err.constData());
        const Run checked = ctl({"mcuboot", "verify", "--key", pub, image});
        QVERIFY2(checked.exitCode == 0, checked.err.constData());
    }
    if (token) {  // the token's CA keys still sign: a CRL, whatever else the token holds
        const Run crl = ctl({"pki", "crl", "--pki", pkiDir, "--pin-env", kPinEnv, "-o",
                             path(QStringLiteral("crl-%1.pem").arg(tag))});
        QVERIFY2(crl.exitCode == 0, crl.err.constData());
    }
}

namespace {

// `bundle` with its bytes `from` replaced by `to` (same length), written to `out`.
bool alteredCopy(const QString& bundle, const QByteArray& from, const QByteArray& to,
                 const QString& out) {
    QByteArray bytes = readAll(bundle);
    if (from.isEmpty() || bytes.count(from) != 1 || from.size() != to.size()) {
        return false;
    }
    bytes.replace(from, to);
    QFile file(out);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

}  // namespace

// A bundle signed by the PKI's Ed25519 release signer alone: accepted (and installed by a real
// agent when `agent`), and refused with crypto.signature-invalid, by `bundle verify` and the
// agent alike, once its manifest or its signature is altered.
void TestPkiKeyTypesCli::checkEd25519Refusals(const QString& pkiDir, const QString& tag,
                                              bool agent) {
    const QString bundle = makeBundle(QStringLiteral("solo-%1.otab").arg(tag));
    QVERIFY(!bundle.isEmpty());
    const Run sign = ctl({"bundle", "sign", bundle, "--pki", pkiDir, "--pin-env", kPinEnv});
    QVERIFY2(sign.exitCode == 0, sign.err.constData());
    const QString signaturePath = path(QStringLiteral("solo-%1.sig").arg(tag));
    const Run inspect = ctl({"bundle", "inspect", bundle, "--extract-signature", signaturePath});
    QVERIFY2(inspect.exitCode == 0, inspect.err.constData());
    // The SignerInfo ends with the 64-byte Ed25519 signature: flip its last bit.
    const QByteArray signatureEnd = readAll(signaturePath).right(16);
    QByteArray flipped = signatureEnd;
    flipped[flipped.size() - 1] = static_cast<char>(flipped.back() ^ 0x01);
    const QString badManifest = path(QStringLiteral("manifest-%1.otab").arg(tag));
    const QString badSignature = path(QStringLiteral("signature-%1.otab").arg(tag));
    QVERIFY(alteredCopy(bundle, "\"version\":\"1.2.3\"", "\"version\":\"1.2.4\"", badManifest));
    QVERIFY(alteredCopy(bundle, signatureEnd, flipped, badSignature));

    const Run good = ctl({"bundle", "verify", bundle, "--pki", pkiDir});
    QVERIFY2(good.exitCode == 0, good.err.constData());
    for (const QString& bad : {badManifest, badSignature}) {
        const Run refused = ctl({"bundle", "verify", bad, "--pki", pkiDir});
        QCOMPARE(refused.exitCode, 1);
        QVERIFY2(refused.err.contains("[crypto.signature-invalid]"), refused.err.constData());
    }
    if (!agent) {
        return;
    }
    // `setup` signs the factory image with the same Ed25519 token key; the agent checks every
    // bundle with the same verifier.
    auto device = test::AgentProcess::setUp(
        QStringLiteral(OTAFLEET_BIN_DIR), path(QStringLiteral("agent-") + tag), pkiDir,
        QStringLiteral("ed-1"), QStringLiteral("rev-a"), QString::fromLatin1(kPinEnv));
    QVERIFY2(device, device ? "" : qPrintable(device.error().toString()));
    const auto started = (*device)->start();
    QVERIFY2(started, started ? "" : qPrintable(started.error().toString()));
    const QStringList target{s("--target"), (*device)->target(), s("--pki"), pkiDir};
    for (const QString& bad : {badManifest, badSignature}) {
        const Run refused = otafleetctl(QStringList{s("device"), s("push"), bad} + target);
        QCOMPARE(refused.exitCode, 1);
        QVERIFY2(refused.err.contains("[crypto.signature-invalid]"), refused.err.constData());
    }
    const Run pushed =
        otafleetctl(QStringList{s("device"), s("push"), bundle, s("--json")} + target);
    QVERIFY2(pushed.exitCode == 0, (pushed.err + (*device)->output()).constData());
    QCOMPARE(QJsonDocument::fromJson(pushed.out).object().value(u"trial").toBool(true), false);
}

QTEST_GUILESS_MAIN(TestPkiKeyTypesCli)
#include "tst_pkikeytypescli.moc"
