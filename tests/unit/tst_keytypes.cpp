// Key types x key storage: for ECDSA P-256/P-384, RSA-PSS and Ed25519, each with PEM key files
// and with keys in a SoftHSM token, `Pki::init` builds a hierarchy that chains to its root, the
// release key signs CMS that verifyDetached and the real `openssl cms -verify` accept, and the
// combinations that cannot work fail with their own error code.
#include "SoftHsmEnvironment.h"

#include "crypto/Cms.h"
#include "crypto/KeyType.h"
#include "crypto/Pki.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace otafleet;
using namespace otafleet::crypto;

Q_DECLARE_METATYPE(otafleet::crypto::KeyType)

namespace {

const QByteArray kContent = QByteArrayLiteral("{\"format_version\":1,\"version\":\"4.5.6\"}\n");
constexpr const char* kPin = "1234";
constexpr const char* kSoPin = "5678";

PinProvider fixedSecret(const char* value) {
    return [value]() -> Result<SecretString> { return SecretString(QByteArray(value)); };
}

bool writeFile(const QString& path, const QByteArray& content) {
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(content) == content.size();
}

// Runs the openssl CLI; returns its exit code (-1 when it did not run) and merged output.
std::pair<int, QString> runOpenssl(const QStringList& arguments) {
    QProcess openssl;
    openssl.setProcessChannelMode(QProcess::MergedChannels);
    openssl.start(QStringLiteral("openssl"), arguments);
    if (!openssl.waitForFinished(30000)) {
        return {-1, QStringLiteral("openssl did not finish")};
    }
    return {openssl.exitStatus() == QProcess::NormalExit ? openssl.exitCode() : -1,
            QString::fromLocal8Bit(openssl.readAll())};
}

std::pair<int, QString> opensslCmsVerify(const QString& dir, const QByteArray& signature,
                                         const QString& rootCa) {
    const QString contentPath = QDir(dir).filePath(QStringLiteral("manifest.json"));
    const QString signaturePath = QDir(dir).filePath(QStringLiteral("manifest.sig"));
    if (!writeFile(contentPath, kContent) || !writeFile(signaturePath, signature)) {
        return {-1, QStringLiteral("cannot write inputs")};
    }
    return runOpenssl({QStringLiteral("cms"), QStringLiteral("-verify"), QStringLiteral("-binary"),
                       QStringLiteral("-inform"), QStringLiteral("DER"), QStringLiteral("-in"),
                       signaturePath, QStringLiteral("-content"), contentPath,
                       QStringLiteral("-CAfile"), rootCa, QStringLiteral("-purpose"),
                       QStringLiteral("any"), QStringLiteral("-out"), QStringLiteral("/dev/null")});
}

QString errorText(const Error& error) {
    return error.toString();
}

}  // namespace

class TestKeyTypes : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void matrix_data();
    void matrix();
    void issuedSignerOfAnotherType();
    void unknownKeyTypeRefused();

private:
    QTemporaryDir m_temp;
    std::unique_ptr<test::SoftHsmEnvironment> m_softHsm;
    int m_tokens = 0;
};

void TestKeyTypes::initTestCase() {
    QVERIFY(m_temp.isValid());
    m_softHsm = std::make_unique<test::SoftHsmEnvironment>(m_temp.filePath(QStringLiteral("hsm")));
}

void TestKeyTypes::matrix_data() {
    QTest::addColumn<KeyType>("type");
    QTest::addColumn<bool>("token");
    QTest::addColumn<QString>("initError");           // empty: init works
    QTest::addColumn<QString>("signError");           // empty: CMS signing works
    QTest::addColumn<QString>("signatureAlgorithm");  // of the release certificate
    for (const bool token : {false, true}) {
        const char* storage = token ? "token" : "pem";
        QTest::addRow("p256 %s", storage) << KeyType::P256 << token << QString() << QString()
                                          << QStringLiteral("ecdsa-with-SHA256");
        QTest::addRow("p384 %s", storage) << KeyType::P384 << token << QString() << QString()
                                          << QStringLiteral("ecdsa-with-SHA384");
        QTest::addRow("rsa-pss %s", storage)
            << KeyType::RsaPss << token << QString() << QString() << QStringLiteral("rsassaPss");
    }
    // OpenSSL 3.0's CMS has no Ed25519 (RFC 8419); its certificates work.
    QTest::newRow("ed25519 pem") << KeyType::Ed25519 << false << QString()
                                 << QStringLiteral("crypto.key-type-unsupported")
                                 << QStringLiteral("ED25519");
    // libp11 0.4.12 cannot sign with EdDSA token keys: refused before the token is touched.
    QTest::newRow("ed25519 token")
        << KeyType::Ed25519 << true << QStringLiteral("crypto.key-type-unsupported-by-token")
        << QString() << QString();
}

void TestKeyTypes::matrix() {
    QFETCH(KeyType, type);
    QFETCH(bool, token);
    QFETCH(QString, initError);
    QFETCH(QString, signError);
    QFETCH(QString, signatureAlgorithm);

    PkiInitOptions options;
    options.directory =
        m_temp.filePath(QStringLiteral("pki-%1-%2").arg(keyTypeName(type)).arg(token));
    options.keyType = type;
    options.commonNamePrefix = QStringLiteral("keytypes");
    if (token) {
        // One token per row, initialised into SoftHSM's next free slot. No key of an earlier
        // row is alive any more, so libp11 reloads the module and sees the new token.
        options.pkcs11Module = m_softHsm->modulePath();
        options.tokenLabel = QStringLiteral("kt-%1").arg(++m_tokens);
        options.initToken = true;
        options.pinProvider = fixedSecret(kPin);
        options.soPinProvider = fixedSecret(kSoPin);
    }
    const auto report = Pki::init(options);
    if (!initError.isEmpty()) {
        QVERIFY(!report);
        QCOMPARE(report.error().code, initError);
        QVERIFY(!QFile::exists(QDir(options.directory).filePath(QStringLiteral("pki.json"))));
        return;
    }
    QVERIFY2(report, qPrintable(report ? QString() : errorText(report.error())));
    QCOMPARE(report->keysInToken, token);

    const auto pki = Pki::open(options.directory);
    QVERIFY2(pki, qPrintable(pki ? QString() : errorText(pki.error())));
    QCOMPARE(pki->keyType(), type);
    QFile json(QDir(options.directory).filePath(QStringLiteral("pki.json")));
    QVERIFY(json.open(QIODevice::ReadOnly));
    QCOMPARE(QJsonDocument::fromJson(json.readAll()).object().value(u"key_type").toString(),
             keyTypeName(type));

    // Every certificate chains to the root, signed with the type's algorithm.
    const QString releasePem = QDir(options.directory).filePath(QStringLiteral("release.pem"));
    const auto [chainExit, chainOutput] =
        runOpenssl({QStringLiteral("verify"), QStringLiteral("-CAfile"), pki->rootCaPath(),
                    QStringLiteral("-untrusted"), releasePem, releasePem});
    QVERIFY2(chainExit == 0, qPrintable(chainOutput));
    const auto [textExit, text] =
        runOpenssl({QStringLiteral("x509"), QStringLiteral("-noout"), QStringLiteral("-text"),
                    QStringLiteral("-in"), releasePem});
    QCOMPARE(textExit, 0);
    QVERIFY2(text.contains(QStringLiteral("Signature Algorithm: %1").arg(signatureAlgorithm)),
             qPrintable(text));

    // The CA keys sign CRLs with the same algorithm; openssl checks the release CA's.
    const auto crls = pki->makeCrls(7, fixedSecret(kPin));
    QVERIFY2(crls, qPrintable(crls ? QString() : errorText(crls.error())));
    const QString crlPath = QDir(options.directory).filePath(QStringLiteral("fleet.crl"));
    const QString caPath = QDir(options.directory).filePath(QStringLiteral("ca/release-ca.pem"));
    QVERIFY(writeFile(crlPath, crls->pem));
    const auto [crlExit, crlOutput] =
        runOpenssl({QStringLiteral("crl"), QStringLiteral("-noout"), QStringLiteral("-in"), crlPath,
                    QStringLiteral("-CAfile"), caPath});
    QVERIFY2(crlExit == 0 && crlOutput.contains(QStringLiteral("verify OK")),
             qPrintable(crlOutput));

    auto key = pki->openReleaseKey(fixedSecret(kPin));
    QVERIFY2(key, qPrintable(key ? QString() : errorText(key.error())));
    QCOMPARE((*key)->isHardware(), token);
    QCOMPARE(keyTypeOf((*key)->evpKey()), std::optional<KeyType>(type));
    const auto certificate = pki->releaseSignerCertificate();
    const auto chain = pki->releaseSignerChain();
    QVERIFY(certificate && chain);
    const auto signature = signDetached(kContent, **key, *certificate, *chain);
    if (!signError.isEmpty()) {
        QVERIFY(!signature);
        QCOMPARE(signature.error().code, signError);
        return;
    }
    QVERIFY2(signature, qPrintable(signature ? QString() : errorText(signature.error())));
    const auto trust = pki->releaseTrust();
    QVERIFY(trust);
    const auto verified =
        verifyDetached(kContent, *signature, *trust, QDateTime::currentDateTimeUtc());
    QVERIFY2(verified, qPrintable(verified ? QString() : errorText(verified.error())));
    QCOMPARE(verified->size(), 1);
    const auto altered =
        verifyDetached(kContent + "x", *signature, *trust, QDateTime::currentDateTimeUtc());
    QVERIFY(!altered);
    QCOMPARE(altered.error().code, QStringLiteral("crypto.signature-invalid"));

    // The second-signature path (bundle sign on a signed bundle) builds its SignerInfo
    // differently: the same key adds one and both SignerInfos verify.
    const auto twice = addSignature(*signature, kContent, **key, *certificate, *chain);
    QVERIFY2(twice, qPrintable(twice ? QString() : errorText(twice.error())));
    QVERIFY(verifyDetached(kContent, *twice, *trust, QDateTime::currentDateTimeUtc()));

    QTemporaryDir work;
    for (const QByteArray& der : {*signature, *twice}) {
        const auto [cmsExit, cmsOutput] = opensslCmsVerify(work.path(), der, pki->rootCaPath());
        QVERIFY2(cmsExit == 0, qPrintable(cmsOutput));
    }
}

// A P-256 PKI issues an RSA-PSS and a P-384 release signer; both sign the same manifest next to
// the init-made P-256 signer (digests differ per SignerInfo) and all three verify.
void TestKeyTypes::issuedSignerOfAnotherType() {
    PkiInitOptions options;
    options.directory = m_temp.filePath(QStringLiteral("mixed"));
    QVERIFY(Pki::init(options));
    const auto pki = Pki::open(options.directory);
    QVERIFY(pki);
    auto release = pki->openReleaseKey({});
    QVERIFY(release);
    auto signature = signDetached(kContent, **release, *pki->releaseSignerCertificate(),
                                  *pki->releaseSignerChain());
    QVERIFY(signature);
    for (const KeyType type : {KeyType::P384, KeyType::RsaPss}) {
        IssueOptions issue;
        issue.kind = IssueKind::ReleaseSigner;
        issue.name = keyTypeName(type);
        issue.keyType = type;
        const auto issued = pki->issue(issue);
        QVERIFY2(issued, qPrintable(issued ? QString() : errorText(issued.error())));
        auto key = pki->openSignerKey(issue.name, {});
        QVERIFY2(key, qPrintable(key ? QString() : errorText(key.error())));
        QCOMPARE(keyTypeOf((*key)->evpKey()), std::optional<KeyType>(type));
        auto added = addSignature(*signature, kContent, **key, *pki->signerCertificate(issue.name),
                                  *pki->signerChain(issue.name));
        QVERIFY2(added, qPrintable(added ? QString() : errorText(added.error())));
        signature = *added;
    }
    const auto verified = verifyDetached(kContent, *signature, *pki->releaseTrust(),
                                         QDateTime::currentDateTimeUtc(), 3);
    QVERIFY2(verified, qPrintable(verified ? QString() : errorText(verified.error())));
    QCOMPARE(verified->size(), 3);
    QTemporaryDir work;
    const auto [cmsExit, cmsOutput] = opensslCmsVerify(work.path(), *signature, pki->rootCaPath());
    QVERIFY2(cmsExit == 0, qPrintable(cmsOutput));
}

void TestKeyTypes::unknownKeyTypeRefused() {
    QVERIFY(!parseKeyType(QStringLiteral("rsa")));
    const auto parsed = parseKeyTypeOrFail(QStringLiteral("p521"));
    QVERIFY(!parsed);
    QCOMPARE(parsed.error().code, QStringLiteral("crypto.key-type-unknown"));
    for (const QString& name : keyTypeNames()) {
        QCOMPARE(keyTypeName(parseKeyType(name).value()), name);
    }
}

QTEST_GUILESS_MAIN(TestKeyTypes)
#include "tst_keytypes.moc"
