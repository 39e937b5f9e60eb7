// Key types x key storage: for ECDSA P-256/P-384, RSA-PSS and Ed25519, each with PEM key files
// and with keys in a SoftHSM token, `Pki::init` builds a hierarchy that chains to its root, the
// release key signs CMS that verifyDetached and an outside verifier accept: `openssl cms
// -verify`, or for Ed25519 (which OpenSSL 3.0's CMS cannot check) GnuTLS `certtool --p7-verify`.
#include "SoftHsmEnvironment.h"

#include "crypto/CertificateBuilder.h"
#include "crypto/Cms.h"
#include "crypto/KeyType.h"
#include "crypto/Pki.h"

#include <openssl/ec.h>
#include <openssl/evp.h>

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

// Runs `program` (openssl, certtool); returns its exit code (-1 when it did not run) and output.
std::pair<int, QString> run(const QString& program, const QStringList& arguments) {
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(program, arguments);
    if (!process.waitForFinished(30000)) {
        return {-1, program + QStringLiteral(" did not run or did not finish")};
    }
    return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
            QString::fromLocal8Bit(process.readAll())};
}

std::pair<int, QString> runOpenssl(const QStringList& arguments) {
    return run(QStringLiteral("openssl"), arguments);
}

// GnuTLS checks every SignerInfo's signature (RFC 8419 for Ed25519) and chains each signer to
// `rootCa`: the outside oracle for the signatures OpenSSL 3.0's CMS cannot read.
std::pair<int, QString> certtoolVerify(const QString& dir, const QByteArray& signature,
                                       const QString& rootCa,
                                       const QByteArray& content = kContent) {
    const QString contentPath = QDir(dir).filePath(QStringLiteral("manifest.json"));
    const QString signaturePath = QDir(dir).filePath(QStringLiteral("manifest.sig"));
    if (!writeFile(contentPath, content) || !writeFile(signaturePath, signature)) {
        return {-1, QStringLiteral("cannot write inputs")};
    }
    return run(QStringLiteral("certtool"),
               {QStringLiteral("--p7-verify"), QStringLiteral("--inder"),
                QStringLiteral("--infile"), signaturePath, QStringLiteral("--load-data"),
                contentPath, QStringLiteral("--load-ca-certificate"), rootCa});
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

using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

KeyPtr freshKeyOf(KeyType type) {
    return {type == KeyType::Ed25519 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                                     : EVP_EC_gen("P-256"),
            &EVP_PKEY_free};
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
    void tokenWithEd25519AndOtherKeys();
    void refusals_data();
    void refusals();
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
    QTest::addColumn<QString>("signatureAlgorithm");  // of the release certificate
    for (const bool token : {false, true}) {
        const char* storage = token ? "token" : "pem";
        QTest::addRow("p256 %s", storage)
            << KeyType::P256 << token << QStringLiteral("ecdsa-with-SHA256");
        QTest::addRow("p384 %s", storage)
            << KeyType::P384 << token << QStringLiteral("ecdsa-with-SHA384");
        QTest::addRow("rsa-pss %s", storage)
            << KeyType::RsaPss << token << QStringLiteral("rsassaPss");
        // Token rows: libp11 has no EdDSA, so certificates, CRLs and CMS are signed through
        // raw PKCS#11 CKM_EDDSA; CMS SignerInfos are RFC 8419, built by otafleet.
        QTest::addRow("ed25519 %s", storage)
            << KeyType::Ed25519 << token << QStringLiteral("ED25519");
    }
}

void TestKeyTypes::matrix() {
    QFETCH(KeyType, type);
    QFETCH(bool, token);
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
        const auto [cmsExit, cmsOutput] =
            type == KeyType::Ed25519 ? certtoolVerify(work.path(), der, pki->rootCaPath())
                                     : opensslCmsVerify(work.path(), der, pki->rootCaPath());
        QVERIFY2(cmsExit == 0, qPrintable(cmsOutput));
    }
    if (type == KeyType::Ed25519) {  // the oracle can fail: it refuses other content
        const auto [alteredExit, alteredOutput] =
            certtoolVerify(work.path(), *signature, pki->rootCaPath(), kContent + "x");
        QVERIFY2(alteredExit != 0, qPrintable(alteredOutput));
    }
}

// A P-256 PKI issues a P-384, an RSA-PSS and an Ed25519 release signer; each signs the same
// manifest next to the init-made P-256 signer (digests differ per SignerInfo) and all verify:
// OpenSSL's SignerInfos through CMS_verify, the Ed25519 one through otafleet's RFC 8419 check.
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
    QTemporaryDir work;
    for (const KeyType type : {KeyType::P384, KeyType::RsaPss, KeyType::Ed25519}) {
        if (type == KeyType::Ed25519) {  // OpenSSL 3.0 checks the signature up to here
            const auto [cmsExit, cmsOutput] =
                opensslCmsVerify(work.path(), *signature, pki->rootCaPath());
            QVERIFY2(cmsExit == 0, qPrintable(cmsOutput));
        }
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
                                         QDateTime::currentDateTimeUtc(), 4);
    QVERIFY2(verified, qPrintable(verified ? QString() : errorText(verified.error())));
    QCOMPARE(verified->size(), 4);
    const auto [exitCode, output] = certtoolVerify(work.path(), *signature, pki->rootCaPath());
    QVERIFY2(exitCode == 0, qPrintable(output));
}

// A P-256 token PKI takes an Ed25519 and an RSA-PSS release signer into the same token. libp11
// 0.4.12 cannot list the keys of a token holding an EdDSA key, so from then on every key of it
// (CA keys included) signs through raw PKCS#11: CKM_ECDSA, CKM_RSA_PKCS_PSS, CKM_EDDSA. OpenSSL
// checks the ECDSA and RSA-PSS SignerInfos and the CRL, GnuTLS all three SignerInfos.
void TestKeyTypes::tokenWithEd25519AndOtherKeys() {
    PkiInitOptions options;
    options.directory = m_temp.filePath(QStringLiteral("mixed-token"));
    options.pkcs11Module = m_softHsm->modulePath();
    options.tokenLabel = QStringLiteral("kt-%1").arg(++m_tokens);
    options.initToken = true;
    options.pinProvider = fixedSecret(kPin);
    options.soPinProvider = fixedSecret(kSoPin);
    QVERIFY(Pki::init(options));
    const auto pki = Pki::open(options.directory);
    QVERIFY(pki);
    for (const KeyType type : {KeyType::Ed25519, KeyType::RsaPss}) {
        IssueOptions issue;
        issue.kind = IssueKind::ReleaseSigner;
        issue.name = keyTypeName(type);
        issue.keyType = type;
        issue.pinProvider = fixedSecret(kPin);
        const auto issued = pki->issue(issue);  // signed by the release CA's raw P-256 key
        QVERIFY2(issued, qPrintable(issued ? QString() : errorText(issued.error())));
    }
    QTemporaryDir work;
    auto release = pki->openReleaseKey(fixedSecret(kPin));
    QVERIFY2(release, qPrintable(release ? QString() : errorText(release.error())));
    QVERIFY((*release)->isHardware());
    QVERIFY(!(*release)->openSslCanSign());  // libp11 cannot list this token any more
    auto signature = signDetached(kContent, **release, *pki->releaseSignerCertificate(),
                                  *pki->releaseSignerChain());
    QVERIFY2(signature, qPrintable(signature ? QString() : errorText(signature.error())));
    for (const KeyType type : {KeyType::RsaPss, KeyType::Ed25519}) {
        if (type == KeyType::Ed25519) {
            const auto [cmsExit, cmsOutput] =
                opensslCmsVerify(work.path(), *signature, pki->rootCaPath());
            QVERIFY2(cmsExit == 0, qPrintable(cmsOutput));
        }
        auto key = pki->openSignerKey(keyTypeName(type), fixedSecret(kPin));
        QVERIFY2(key, qPrintable(key ? QString() : errorText(key.error())));
        QCOMPARE(keyTypeOf((*key)->evpKey()), std::optional<KeyType>(type));
        auto added =
            addSignature(*signature, kContent, **key, *pki->signerCertificate(keyTypeName(type)),
                         *pki->signerChain(keyTypeName(type)));
        QVERIFY2(added, qPrintable(added ? QString() : errorText(added.error())));
        signature = *added;
    }
    const auto verified = verifyDetached(kContent, *signature, *pki->releaseTrust(),
                                         QDateTime::currentDateTimeUtc(), 3);
    QVERIFY2(verified, qPrintable(verified ? QString() : errorText(verified.error())));
    const auto [exitCode, output] = certtoolVerify(work.path(), *signature, pki->rootCaPath());
    QVERIFY2(exitCode == 0, qPrintable(output));

    const auto crls = pki->makeCrls(7, fixedSecret(kPin));
    QVERIFY2(crls, qPrintable(crls ? QString() : errorText(crls.error())));
    const QString crlPath = work.filePath(QStringLiteral("fleet.crl"));
    QVERIFY(writeFile(crlPath, crls->pem));
    const auto [crlExit, crlOutput] =
        runOpenssl({QStringLiteral("crl"), QStringLiteral("-noout"), QStringLiteral("-in"), crlPath,
                    QStringLiteral("-CAfile"),
                    QDir(options.directory).filePath(QStringLiteral("ca/release-ca.pem"))});
    QVERIFY2(crlExit == 0 && crlOutput.contains(QStringLiteral("verify OK")),
             qPrintable(crlOutput));
}

// Every refusal of verifyDetached, for an ECDSA and an Ed25519 signer side by side: the RFC 8419
// path checks the signature only; chain, code-signing usage, expiry, revocation and threshold
// are the shared checks, so both key types must be refused with the same code.
void TestKeyTypes::refusals_data() {
    QTest::addColumn<KeyType>("type");
    QTest::addColumn<QString>("refusal");
    QTest::addColumn<QString>("code");
    const std::vector<std::pair<const char*, const char*>> refusals = {
        {"altered-content", "crypto.signature-invalid"},
        {"altered-signature", "crypto.signature-invalid"},
        {"unknown-root", "crypto.untrusted-signer"},
        {"not-code-signing", "crypto.signer-not-code-signing"},
        {"expired", "crypto.signer-expired"},
        {"revoked", "crypto.signer-revoked"},
        {"threshold", "crypto.threshold-not-met"},
    };
    for (const KeyType type : {KeyType::P256, KeyType::Ed25519}) {
        for (const auto& [refusal, code] : refusals) {
            QTest::addRow("%s %s", qPrintable(keyTypeName(type)), refusal)
                << type << QString::fromLatin1(refusal) << QString::fromLatin1(code);
        }
    }
}

void TestKeyTypes::refusals() {
    QFETCH(KeyType, type);
    QFETCH(QString, refusal);
    QFETCH(QString, code);
    const QString dir = m_temp.filePath(QStringLiteral("refusals-") + keyTypeName(type));
    if (!QFile::exists(QDir(dir).filePath(QStringLiteral("pki.json")))) {
        PkiInitOptions options;
        options.directory = dir;
        options.keyType = type;
        QVERIFY(Pki::init(options));
    }
    const auto pki = Pki::open(dir);
    QVERIFY(pki);
    auto trust = pki->releaseTrust();
    QVERIFY(trust);
    QDateTime now = QDateTime::currentDateTimeUtc();
    QByteArray content = kContent;
    int threshold = 1;

    auto key = pki->openReleaseKey({});
    QVERIFY(key);
    Certificate certificate = pki->releaseSignerCertificate().value_or(Certificate());
    QList<Certificate> chain = pki->releaseSignerChain().value_or(QList<Certificate>());
    // A fresh key of the type with a self-signed certificate: an unknown root, or a signer
    // certificate from the release CA without the codeSigning usage.
    const KeyPtr freshKey = freshKeyOf(type);
    const auto freshSigner = SigningKey::fromEvpKey(freshKey.get(), QStringLiteral("fresh key"));
    if (refusal == QLatin1String("unknown-root")) {
        auto root = issueCertificate(
            {QStringLiteral("stranger root"), CertificateProfile::RootCa, freshKey.get(), {}, 30},
            Certificate(), *freshSigner);
        QVERIFY(root);
        trust->anchors = {*root};
    } else if (refusal == QLatin1String("not-code-signing")) {
        auto caKey =
            SigningKey::open(QDir(dir).filePath(QStringLiteral("keys/release-ca.key")), {});
        QVERIFY(caKey);
        auto leaf = issueCertificate(
            {QStringLiteral("tls client"), CertificateProfile::TlsClient, freshKey.get(), {}, 30},
            chain.constFirst(), **caKey);
        QVERIFY(leaf);
        certificate = *leaf;
        key = SigningKey::fromEvpKey(freshKey.get(), QStringLiteral("tls client key"));
    } else if (refusal == QLatin1String("revoked")) {
        IssueOptions issue;
        issue.kind = IssueKind::ReleaseSigner;
        issue.name = QStringLiteral("revoked");
        QVERIFY(pki->issue(issue));
        key = pki->openSignerKey(issue.name, {});
        QVERIFY(key);
        certificate = *pki->signerCertificate(issue.name);
        QVERIFY(pki->revoke(issue.name, RevocationReason::KeyCompromise, now));
        const auto crls = pki->makeCrls(7, {});
        QVERIFY(crls);
        const QString crlPath = QDir(dir).filePath(QStringLiteral("fleet.crl"));
        QVERIFY(writeFile(crlPath, crls->pem));
        QVERIFY(trust->addCrlFiles({crlPath}));
    } else if (refusal == QLatin1String("expired")) {
        now = now.addYears(40);
    } else if (refusal == QLatin1String("threshold")) {
        threshold = 2;
    }
    const auto signature = signDetached(kContent, **key, certificate, chain);
    QVERIFY2(signature, qPrintable(signature ? QString() : errorText(signature.error())));
    QByteArray der = *signature;
    // Sanity: the unaltered signature verifies where the refusal is about the signature.
    if (refusal.startsWith(QLatin1String("altered"))) {
        QVERIFY(verifyDetached(kContent, der, *trust, now, threshold));
    }
    if (refusal == QLatin1String("altered-content")) {
        content += "x";
    } else if (refusal == QLatin1String("altered-signature")) {
        der[der.size() - 1] = static_cast<char>(der.back() ^ 0x01);  // the signature's last byte
    }
    const auto verified = verifyDetached(content, der, *trust, now, threshold);
    QVERIFY(!verified);
    QCOMPARE(verified.error().code, code);
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
