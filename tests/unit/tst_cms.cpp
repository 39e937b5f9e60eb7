// CMS detached signatures: signing with PEM and SoftHSM keys, acceptance by the openssl CLI,
// two-person signing, and one failure row per verification error code.
#include "TestPki.h"

#include "crypto/CertificateBuilder.h"
#include "crypto/Cms.h"
#include "crypto/SigningKey.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <ctime>
#include <optional>

using namespace otafleet;
using namespace otafleet::crypto;
using otafleet::test::TestPki;

namespace {

const QByteArray kContent = QByteArrayLiteral("{\"format_version\":1,\"version\":\"1.2.3\"}\n");

enum class Failure {
    AlteredContent,
    AlteredSignature,
    EmptySignature,
    GarbageDer,
    Oversized,
    UntrustedSigner,
    NotCodeSigning,
    ExpiredSigner,
    NotYetValidSigner,
    RevokedSigner,
    ThresholdNotMet,
    SameSignerTwice,
};

// A signer of a PKI: key, leaf certificate and chain as bundle signing would use them.
struct Signer {
    std::unique_ptr<SigningKey> key;
    Certificate certificate;
    QList<Certificate> chain;
};

QString errorText(const Error& error) {
    return error.toString();
}

Signer releaseSigner(const TestPki& pki) {
    Signer signer;
    auto key = pki.pki.openReleaseKey(pki.pinProvider());
    if (key) {
        signer.key = std::move(*key);
    }
    signer.certificate = pki.pki.releaseSignerCertificate().value_or(Certificate());
    signer.chain = pki.pki.releaseSignerChain().value_or(QList<Certificate>());
    return signer;
}

Signer operatorSigner(const TestPki& pki) {
    Signer signer;
    auto key = SigningKey::open(pki.pki.operatorKeyPath(), {});
    if (key) {
        signer.key = std::move(*key);
    }
    auto chain =
        Certificate::loadPemFile(pki.pki.operatorCertPath()).value_or(QList<Certificate>());
    if (!chain.isEmpty()) {
        signer.certificate = chain.takeFirst();
    }
    signer.chain = chain;
    return signer;
}

// A second release manager of the same PKI: a fresh key and a code-signing certificate from the
// release CA (the file-key PKI keeps the CA key in keys/release-ca.key).
Signer secondReleaseManager(const TestPki& pki, const QString& keyPath) {
    Signer signer;
    EVP_PKEY* raw = EVP_EC_gen("P-256");
    BIO* bio = BIO_new_file(keyPath.toLocal8Bit().constData(), "w");
    PEM_write_bio_PrivateKey(bio, raw, nullptr, nullptr, 0, nullptr, nullptr);
    BIO_free(bio);
    auto caKey =
        SigningKey::open(QDir(pki.pkiDir).filePath(QStringLiteral("keys/release-ca.key")), {});
    auto chain = pki.pki.releaseSignerChain();
    if (caKey && chain) {
        auto cert = issueCertificate(
            {QStringLiteral("release manager 2"), CertificateProfile::CodeSigning, raw, {}, 30},
            chain->constFirst(), (*caKey)->evpKey());
        signer.certificate = cert.value_or(Certificate());
        signer.chain = *chain;
    }
    EVP_PKEY_free(raw);
    auto key = SigningKey::open(keyPath, {});
    if (key) {
        signer.key = std::move(*key);
    }
    return signer;
}

// A CRL from the release CA listing `revoked`.
QByteArray crlRevoking(const TestPki& pki, const Certificate& revoked) {
    auto caKey =
        SigningKey::open(QDir(pki.pkiDir).filePath(QStringLiteral("keys/release-ca.key")), {});
    auto chain = pki.pki.releaseSignerChain();
    if (!caKey || !chain) {
        return {};
    }
    X509_CRL* crl = X509_CRL_new();
    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(chain->constFirst().handle()));
    ASN1_TIME* lastUpdate = ASN1_TIME_set(nullptr, std::time(nullptr) - 60);
    ASN1_TIME* nextUpdate = ASN1_TIME_set(nullptr, std::time(nullptr) + 86400);
    X509_CRL_set1_lastUpdate(crl, lastUpdate);
    X509_CRL_set1_nextUpdate(crl, nextUpdate);
    X509_REVOKED* entry = X509_REVOKED_new();
    X509_REVOKED_set_serialNumber(
        entry, const_cast<ASN1_INTEGER*>(X509_get0_serialNumber(revoked.handle())));
    X509_REVOKED_set_revocationDate(entry, lastUpdate);
    X509_CRL_add0_revoked(crl, entry);
    X509_CRL_sort(crl);
    X509_CRL_sign(crl, (*caKey)->evpKey(), EVP_sha256());
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509_CRL(bio, crl);
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    QByteArray pem(data, length);
    BIO_free(bio);
    ASN1_TIME_free(lastUpdate);
    ASN1_TIME_free(nextUpdate);
    X509_CRL_free(crl);
    return pem;
}

bool writeFile(const QString& path, const QByteArray& content) {
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(content) == content.size();
}

// Runs `openssl cms -verify` on the detached signature; returns its exit code and output.
std::pair<int, QString> opensslVerify(const QString& dir, const QByteArray& content,
                                      const QByteArray& signature, const QString& rootCa) {
    const QString manifestPath = QDir(dir).filePath(QStringLiteral("manifest.json"));
    const QString signaturePath = QDir(dir).filePath(QStringLiteral("manifest.sig"));
    if (!writeFile(manifestPath, content) || !writeFile(signaturePath, signature)) {
        return {-1, QStringLiteral("cannot write inputs")};
    }
    QProcess openssl;
    openssl.setProcessChannelMode(QProcess::MergedChannels);
    openssl.start(QStringLiteral("openssl"),
                  {QStringLiteral("cms"), QStringLiteral("-verify"), QStringLiteral("-binary"),
                   QStringLiteral("-inform"), QStringLiteral("DER"), QStringLiteral("-in"),
                   signaturePath, QStringLiteral("-content"), manifestPath,
                   QStringLiteral("-CAfile"), rootCa, QStringLiteral("-purpose"),
                   QStringLiteral("any"), QStringLiteral("-out"), QStringLiteral("/dev/null")});
    if (!openssl.waitForFinished(30000)) {
        return {-1, QStringLiteral("openssl did not finish")};
    }
    return {openssl.exitStatus() == QProcess::NormalExit ? openssl.exitCode() : -1,
            QString::fromLocal8Bit(openssl.readAll())};
}

}  // namespace

class TestCms : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void signAndVerifyWithPemKey();
    void signAndVerifyWithTokenKey();
    void opensslCliAccepts_data();
    void opensslCliAccepts();
    void twoDistinctSignersMeetThreshold();
    void addSignatureChecksInput();
    void signRefusesForeignCertificate();
    void crlListingAnotherSignerPasses();
    void failures_data();
    void failures();

private:
    QByteArray sign(const Signer& signer, const QByteArray& content = kContent) const;

    QTemporaryDir m_temp;
    std::optional<TestPki> m_fleet;     // PEM keys: the PKI most cases verify against
    std::optional<TestPki> m_stranger;  // another PKI, trusted by nobody here
    std::optional<TestPki> m_token;     // keys in SoftHSM
    Signer m_release;
    Signer m_second;
};

QByteArray TestCms::sign(const Signer& signer, const QByteArray& content) const {
    if (!signer.key) {
        return {};
    }
    auto signature = signDetached(content, *signer.key, signer.certificate, signer.chain);
    if (!signature) {
        qWarning("%s", qPrintable(errorText(signature.error())));
    }
    return signature.value_or(QByteArray());
}

void TestCms::initTestCase() {
    QVERIFY(m_temp.isValid());
    auto fleet = TestPki::create(m_temp.filePath(QStringLiteral("fleet")), false);
    QVERIFY2(fleet, qPrintable(fleet ? QString() : errorText(fleet.error())));
    m_fleet = std::move(*fleet);
    auto stranger = TestPki::create(m_temp.filePath(QStringLiteral("stranger")), false);
    QVERIFY2(stranger, qPrintable(stranger ? QString() : errorText(stranger.error())));
    m_stranger = std::move(*stranger);
    auto token = TestPki::create(m_temp.filePath(QStringLiteral("token")), true);
    QVERIFY2(token, qPrintable(token ? QString() : errorText(token.error())));
    m_token = std::move(*token);
    m_release = releaseSigner(*m_fleet);
    QVERIFY(m_release.key);
    m_second = secondReleaseManager(*m_fleet, m_temp.filePath(QStringLiteral("second.key")));
    QVERIFY(m_second.key);
    QVERIFY(!m_second.certificate.isNull());
}

void TestCms::cleanupTestCase() {
    m_release = {};
    m_second = {};
}

void TestCms::signAndVerifyWithPemKey() {
    const QByteArray signature = sign(m_release);
    QVERIFY(!signature.isEmpty());
    QVERIFY(signature.size() < kMaxSignatureSize);
    QVERIFY(!m_release.key->isHardware());
    auto verified = verifyDetached(kContent, signature, *m_fleet->pki.releaseTrust(),
                                   QDateTime::currentDateTimeUtc());
    QVERIFY2(verified, qPrintable(verified ? QString() : errorText(verified.error())));
    QCOMPARE(verified->size(), 1);
    const VerifiedSigner& signer = verified->constFirst();
    QCOMPARE(signer.certificate.sha256Fingerprint(), m_release.certificate.sha256Fingerprint());
    QCOMPARE(signer.chain.size(), 2);  // release CA, root
    QVERIFY(signer.chain[0].commonName().endsWith(QStringLiteral("release CA")));
    QVERIFY(signer.chain[1].commonName().endsWith(QStringLiteral("root CA")));
}

void TestCms::signAndVerifyWithTokenKey() {
    const Signer signer = releaseSigner(*m_token);
    QVERIFY(signer.key);
    QVERIFY(signer.key->isHardware());
    const QByteArray signature = sign(signer);
    QVERIFY(!signature.isEmpty());
    auto verified = verifyDetached(kContent, signature, *m_token->pki.releaseTrust(),
                                   QDateTime::currentDateTimeUtc());
    QVERIFY2(verified, qPrintable(verified ? QString() : errorText(verified.error())));
    // ECDSA signatures are randomised: a second signature differs but verifies as well.
    const QByteArray again = sign(signer);
    QVERIFY(again != signature);
    QVERIFY(verifyDetached(kContent, again, *m_token->pki.releaseTrust(),
                           QDateTime::currentDateTimeUtc()));
    auto foreign = verifyDetached(kContent, signature, *m_fleet->pki.releaseTrust(),
                                  QDateTime::currentDateTimeUtc());
    QVERIFY(!foreign);
    QCOMPARE(foreign.error().code, QStringLiteral("crypto.untrusted-signer"));
}

void TestCms::opensslCliAccepts_data() {
    QTest::addColumn<QString>("signerKind");
    QTest::addColumn<bool>("alterContent");
    QTest::addColumn<bool>("accepted");
    QTest::newRow("pem key") << QStringLiteral("pem") << false << true;
    QTest::newRow("token key") << QStringLiteral("token") << false << true;
    QTest::newRow("two signers") << QStringLiteral("two") << false << true;
    QTest::newRow("altered content") << QStringLiteral("pem") << true << false;
}

void TestCms::opensslCliAccepts() {
    QFETCH(QString, signerKind);
    QFETCH(bool, alterContent);
    QFETCH(bool, accepted);
    QByteArray signature;
    QString rootCa = m_fleet->pki.rootCaPath();
    if (signerKind == u"token") {
        signature = sign(releaseSigner(*m_token));
        rootCa = m_token->pki.rootCaPath();
    } else {
        signature = sign(m_release);
    }
    if (signerKind == u"two") {
        auto both =
            addSignature(signature, kContent, *m_second.key, m_second.certificate, m_second.chain);
        QVERIFY(both);
        signature = *both;
    }
    QVERIFY(!signature.isEmpty());
    QTemporaryDir work;
    const auto [exitCode, output] = opensslVerify(
        work.path(), alterContent ? kContent + "tampered" : kContent, signature, rootCa);
    QVERIFY2((exitCode == 0) == accepted, qPrintable(output));
}

void TestCms::twoDistinctSignersMeetThreshold() {
    const QByteArray first = sign(m_release);
    auto trust = *m_fleet->pki.releaseTrust();
    const QDateTime now = QDateTime::currentDateTimeUtc();
    auto one = verifyDetached(kContent, first, trust, now, 2);
    QVERIFY(!one);
    QCOMPARE(one.error().code, QStringLiteral("crypto.threshold-not-met"));

    auto both = addSignature(first, kContent, *m_second.key, m_second.certificate, m_second.chain);
    QVERIFY2(both, qPrintable(both ? QString() : errorText(both.error())));
    auto verified = verifyDetached(kContent, *both, trust, now, 2);
    QVERIFY2(verified, qPrintable(verified ? QString() : errorText(verified.error())));
    QCOMPARE(verified->size(), 2);
    QVERIFY(verified->at(0).certificate.sha256Fingerprint() !=
            verified->at(1).certificate.sha256Fingerprint());
    auto three = verifyDetached(kContent, *both, trust, now, 3);
    QVERIFY(!three);
    QCOMPARE(three.error().code, QStringLiteral("crypto.threshold-not-met"));
}

void TestCms::addSignatureChecksInput() {
    const QByteArray first = sign(m_release);
    auto otherContent =
        addSignature(first, kContent + "x", *m_second.key, m_second.certificate, m_second.chain);
    QVERIFY(!otherContent);
    QCOMPARE(otherContent.error().code, QStringLiteral("crypto.signature-invalid"));
    auto garbage = addSignature(QByteArrayLiteral("\x30\x03\x02\x01\x01"), kContent, *m_second.key,
                                m_second.certificate, m_second.chain);
    QVERIFY(!garbage);
    QCOMPARE(garbage.error().code, QStringLiteral("crypto.signature-malformed"));
}

void TestCms::signRefusesForeignCertificate() {
    const Signer stranger = releaseSigner(*m_stranger);
    auto signature = signDetached(kContent, *m_release.key, stranger.certificate, stranger.chain);
    QVERIFY(!signature);
    QCOMPARE(signature.error().code, QStringLiteral("crypto.sign-failed"));
}

void TestCms::crlListingAnotherSignerPasses() {
    auto trust = *m_fleet->pki.releaseTrust();
    trust.crlsPem.append(crlRevoking(*m_fleet, m_second.certificate));
    QVERIFY(!trust.crlsPem.constFirst().isEmpty());
    auto verified =
        verifyDetached(kContent, sign(m_release), trust, QDateTime::currentDateTimeUtc());
    QVERIFY2(verified, qPrintable(verified ? QString() : errorText(verified.error())));
    auto revoked = verifyDetached(kContent, sign(m_second), trust, QDateTime::currentDateTimeUtc());
    QVERIFY(!revoked);
    QCOMPARE(revoked.error().code, QStringLiteral("crypto.signer-revoked"));
}

void TestCms::failures_data() {
    QTest::addColumn<int>("failure");
    QTest::addColumn<QString>("code");
    const auto row = [](const char* name, Failure failure, const char* code) {
        QTest::newRow(name) << static_cast<int>(failure) << QString::fromLatin1(code);
    };
    row("altered content", Failure::AlteredContent, "crypto.signature-invalid");
    row("altered signature", Failure::AlteredSignature, "crypto.signature-invalid");
    row("empty signature", Failure::EmptySignature, "crypto.signature-missing");
    row("garbage der", Failure::GarbageDer, "crypto.signature-malformed");
    row("oversized", Failure::Oversized, "crypto.signature-malformed");
    row("untrusted signer", Failure::UntrustedSigner, "crypto.untrusted-signer");
    row("no code signing eku", Failure::NotCodeSigning, "crypto.signer-not-code-signing");
    row("expired signer", Failure::ExpiredSigner, "crypto.signer-expired");
    row("signer not yet valid", Failure::NotYetValidSigner, "crypto.signer-expired");
    row("revoked signer", Failure::RevokedSigner, "crypto.signer-revoked");
    row("threshold not met", Failure::ThresholdNotMet, "crypto.threshold-not-met");
    row("same signer twice", Failure::SameSignerTwice, "crypto.threshold-not-met");
}

void TestCms::failures() {
    QFETCH(int, failure);
    QFETCH(QString, code);
    QByteArray content = kContent;
    QByteArray signature = sign(m_release);
    TrustStore trust = *m_fleet->pki.releaseTrust();
    QDateTime now = QDateTime::currentDateTimeUtc();
    int threshold = 1;

    switch (static_cast<Failure>(failure)) {
        case Failure::AlteredContent:
            content.replace("1.2.3", "9.9.9");
            break;
        case Failure::AlteredSignature:
            // The last bytes are the ECDSA value of the (only) SignerInfo.
            signature[signature.size() - 1] = static_cast<char>(signature.back() ^ 0x01);
            break;
        case Failure::EmptySignature:
            signature.clear();
            break;
        case Failure::GarbageDer:
            signature = QByteArrayLiteral("this is not DER at all");
            break;
        case Failure::Oversized:
            signature = QByteArray(kMaxSignatureSize + 1, '\x30');
            break;
        case Failure::UntrustedSigner:
            signature = sign(releaseSigner(*m_stranger));
            break;
        case Failure::NotCodeSigning:
            signature = sign(operatorSigner(*m_fleet));
            break;
        case Failure::ExpiredSigner:
            now = now.addYears(20);
            break;
        case Failure::NotYetValidSigner:
            now = now.addDays(-2);
            break;
        case Failure::RevokedSigner:
            trust.crlsPem.append(crlRevoking(*m_fleet, m_release.certificate));
            break;
        case Failure::ThresholdNotMet:
            threshold = 2;
            break;
        case Failure::SameSignerTwice: {
            auto twice = addSignature(signature, content, *m_release.key, m_release.certificate,
                                      m_release.chain);
            QVERIFY2(twice, qPrintable(twice ? QString() : errorText(twice.error())));
            auto once = verifyDetached(content, *twice, trust, now, 1);
            QVERIFY(once);
            QCOMPARE(once->size(), 1);
            signature = *twice;
            threshold = 2;
            break;
        }
    }
    if (static_cast<Failure>(failure) != Failure::EmptySignature) {
        QVERIFY(!signature.isEmpty());
    }
    auto result = verifyDetached(content, signature, trust, now, threshold);
    QVERIFY2(!result, "verification should have failed");
    QCOMPARE(result.error().code, code);
    QVERIFY(!result.error().message.isEmpty());
}

QTEST_GUILESS_MAIN(TestCms)
#include "tst_cms.moc"
