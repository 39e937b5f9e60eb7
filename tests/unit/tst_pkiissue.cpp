// Pki leaf management through the library: the pki.json registry (relative paths, a moved PKI,
// the init-made leaves), CRL contents (one per CA, signed by it, reasons, nextUpdate), CSR
// parsing limits, entry states, named-signer refusals and the ask-once PIN helper.
#include "TestPki.h"

#include "crypto/CertificateRequest.h"
#include "crypto/Cms.h"
#include "crypto/Pki.h"
#include "crypto/PkiRegistry.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;
using namespace otafleet::crypto;
using otafleet::test::TestPki;

namespace {

QByteArray readAll(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

EvpPkeyPtr generate(const char* kind) {
    if (qstrcmp(kind, "rsa1024") == 0) {
        return EvpPkeyPtr(EVP_RSA_gen(1024), EVP_PKEY_free);
    }
    return EvpPkeyPtr(EVP_EC_gen("P-256"), EVP_PKEY_free);
}

// DER PKCS#10 request for `key`, self-signed.
QByteArray csrDer(EVP_PKEY* key) {
    X509_REQ* request = X509_REQ_new();
    X509_REQ_set_pubkey(request, key);
    X509_REQ_sign(request, key, EVP_sha256());
    unsigned char* der = nullptr;
    const int length = i2d_X509_REQ(request, &der);
    QByteArray result(reinterpret_cast<const char*>(der), length);
    OPENSSL_free(der);
    X509_REQ_free(request);
    return result;
}

struct ParsedCrl {
    QString issuer;
    QHash<QString, int> reasonBySerial;  // upper-case hex serial -> CRLReason
    bool signatureOk = false;
    qint64 validitySeconds = 0;
};

QList<ParsedCrl> parseCrls(const QByteArray& pem, const QString& pkiDir) {
    QList<ParsedCrl> result;
    BIO* bio = BIO_new_mem_buf(pem.constData(), static_cast<int>(pem.size()));
    while (X509_CRL* crl = PEM_read_bio_X509_CRL(bio, nullptr, nullptr, nullptr)) {
        ParsedCrl parsed;
        char* issuer = X509_NAME_oneline(X509_CRL_get_issuer(crl), nullptr, 0);
        parsed.issuer = QString::fromLatin1(issuer);
        OPENSSL_free(issuer);
        for (const char* ca : {"release-ca", "device-ca", "server-ca", "operator-ca"}) {
            auto cert = Certificate::loadPemFile(
                pkiDir + QStringLiteral("/ca/%1.pem").arg(QLatin1String(ca)));
            if (cert && X509_NAME_cmp(X509_get_subject_name(cert->constFirst().handle()),
                                      X509_CRL_get_issuer(crl)) == 0) {
                parsed.signatureOk =
                    X509_CRL_verify(crl, X509_get0_pubkey(cert->constFirst().handle())) == 1;
            }
        }
        int days = 0;
        int seconds = 0;
        ASN1_TIME_diff(&days, &seconds, X509_CRL_get0_lastUpdate(crl),
                       X509_CRL_get0_nextUpdate(crl));
        parsed.validitySeconds = qint64(days) * 86400 + seconds;
        STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl);
        for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
            X509_REVOKED* entry = sk_X509_REVOKED_value(revoked, i);
            BIGNUM* number = ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(entry), nullptr);
            char* hex = BN_bn2hex(number);
            auto* reason = static_cast<ASN1_ENUMERATED*>(
                X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, nullptr, nullptr));
            parsed.reasonBySerial.insert(QString::fromLatin1(hex),
                                         reason ? int(ASN1_ENUMERATED_get(reason)) : -1);
            ASN1_ENUMERATED_free(reason);
            OPENSSL_free(hex);
            BN_free(number);
        }
        X509_CRL_free(crl);
        result.append(parsed);
    }
    BIO_free(bio);
    return result;
}

}  // namespace

class TestPkiIssue : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void registryListsInitLeavesAndSurvivesMove();
    void crlPerCaWithReasons();
    void crlDaysBounds_data();
    void crlDaysBounds();
    void csrParsing_data();
    void csrParsing();
    void entryState();
    void signerRefusals();
    void releaseTrustRejectsNonCrl();
    void askOnceAsksOnce();
    void namesRoundTrip();

private:
    QTemporaryDir m_dir;
    std::optional<TestPki> m_pki;
};

void TestPkiIssue::initTestCase() {
    QVERIFY(m_dir.isValid());
    auto created = TestPki::create(m_dir.path(), false);
    QVERIFY2(created, qPrintable(created ? QString() : created.error().toString()));
    m_pki = std::move(*created);
}

void TestPkiIssue::registryListsInitLeavesAndSurvivesMove() {
    QTemporaryDir temp;
    auto created = TestPki::create(temp.path(), false);
    QVERIFY(created);
    auto list = created->pki.issued();
    QVERIFY(list);
    QCOMPARE(list->size(), 2);
    QCOMPARE(list->at(0).name, QStringLiteral("release"));
    QCOMPARE(list->at(0).kind, IssueKind::ReleaseSigner);
    QCOMPARE(list->at(1).name, QStringLiteral("operator"));

    IssueOptions options;
    options.kind = IssueKind::ReleaseSigner;
    options.name = QStringLiteral("mover");
    auto issued = created->pki.issue(options);
    QVERIFY2(issued, qPrintable(issued ? QString() : issued.error().toString()));
    const QByteArray json = readAll(created->pkiDir + QStringLiteral("/pki.json"));
    QVERIFY(json.contains("\"issued/mover.key\""));
    QVERIFY(!json.contains(temp.path().toUtf8()));  // relative: the directory can move

    const QString moved = temp.filePath(QStringLiteral("moved-pki"));
    QVERIFY(QDir().rename(created->pkiDir, moved));
    auto reopened = Pki::open(moved);
    QVERIFY(reopened);
    auto key = reopened->openSignerKey(QStringLiteral("mover"), {});
    QVERIFY2(key, qPrintable(key ? QString() : key.error().toString()));
    auto cert = reopened->signerCertificate(QStringLiteral("mover"));
    auto chain = reopened->signerChain(QStringLiteral("mover"));
    QVERIFY(cert && chain);
    const QByteArray content("manifest bytes");
    auto signature = signDetached(content, **key, *cert, *chain);
    QVERIFY(signature);
    auto trust = reopened->releaseTrust(QStringList{});
    QVERIFY(trust);
    QVERIFY(verifyDetached(content, *signature, *trust, QDateTime::currentDateTimeUtc()));
}

void TestPkiIssue::crlPerCaWithReasons() {
    QTemporaryDir temp;
    auto created = TestPki::create(temp.path(), false);
    QVERIFY(created);
    const Pki& pki = created->pki;

    auto empty = pki.makeCrls(30, {});
    QVERIFY(empty);
    QCOMPARE(empty->revokedCount, 0);
    auto emptyCrls = parseCrls(empty->pem, created->pkiDir);
    QCOMPARE(emptyCrls.size(), 1);  // the release CA's, with nothing in it
    QVERIFY(emptyCrls.constFirst().signatureOk);
    QVERIFY(emptyCrls.constFirst().reasonBySerial.isEmpty());

    IssueOptions device;
    device.kind = IssueKind::Device;
    device.name = QStringLiteral("dev-1");
    auto issuedDevice = pki.issue(device);
    QVERIFY(issuedDevice);
    QVERIFY(pki.issue({IssueKind::Device, QStringLiteral("dev-2"), {}, {}, 0, {}, {}}));
    QVERIFY(pki.revoke(QStringLiteral("dev-1"), RevocationReason::CessationOfOperation));
    auto release = pki.revoke(QStringLiteral("release"), RevocationReason::Superseded);
    QVERIFY(release);
    QCOMPARE(release->revocationReason, QStringLiteral("superseded"));

    auto crls = pki.makeCrls(7, {});
    QVERIFY2(crls, qPrintable(crls ? QString() : crls.error().toString()));
    QCOMPARE(crls->revokedCount, 2);
    const auto parsed = parseCrls(crls->pem, created->pkiDir);
    QCOMPARE(parsed.size(), 2);
    QCOMPARE(crls->issuers.size(), 2);
    for (const ParsedCrl& crl : parsed) {
        QVERIFY(crl.signatureOk);
        // nextUpdate is `days` from now; lastUpdate is backdated 5 minutes for clock skew.
        QCOMPARE(crl.validitySeconds, qint64(7) * 86400 + 300);
        QCOMPARE(crl.reasonBySerial.size(), 1);
    }
    const ParsedCrl& deviceCrl =
        parsed.at(0).issuer.contains(QStringLiteral("device")) ? parsed.at(0) : parsed.at(1);
    QCOMPARE(deviceCrl.reasonBySerial.value(issuedDevice->serial.toUpper(), -2),
             CRL_REASON_CESSATION_OF_OPERATION);
}

void TestPkiIssue::crlDaysBounds_data() {
    QTest::addColumn<int>("days");
    QTest::addColumn<bool>("accepted");
    QTest::newRow("zero") << 0 << false;
    QTest::newRow("one") << 1 << true;
    QTest::newRow("ten years") << 3650 << true;
    QTest::newRow("too long") << 3651 << false;
}

void TestPkiIssue::crlDaysBounds() {
    QFETCH(int, days);
    QFETCH(bool, accepted);
    const auto crls = m_pki->pki.makeCrls(days, {});
    QCOMPARE(bool(crls), accepted);
    if (!accepted) {
        QCOMPARE(crls.error().code, QStringLiteral("pki.crl-days"));
    }
}

void TestPkiIssue::csrParsing_data() {
    QTest::addColumn<QString>("input");
    QTest::addColumn<bool>("accepted");
    QTest::newRow("DER, P-256") << QStringLiteral("der") << true;
    QTest::newRow("PEM, P-256") << QStringLiteral("pem") << true;
    QTest::newRow("DER with trailing bytes") << QStringLiteral("trailing") << false;
    QTest::newRow("truncated DER") << QStringLiteral("truncated") << false;
    QTest::newRow("RSA 1024 is too weak") << QStringLiteral("rsa1024") << false;
    QTest::newRow("empty") << QStringLiteral("empty") << false;
    QTest::newRow("over the size bound") << QStringLiteral("huge") << false;
}

void TestPkiIssue::csrParsing() {
    QFETCH(QString, input);
    QFETCH(bool, accepted);
    const EvpPkeyPtr key = generate(input == QLatin1String("rsa1024") ? "rsa1024" : "p256");
    QByteArray der = csrDer(key.get());
    QByteArray data = der;
    if (input == QLatin1String("pem")) {
        data = "-----BEGIN CERTIFICATE REQUEST-----\n" + der.toBase64() +
               "\n-----END CERTIFICATE REQUEST-----\n";
    } else if (input == QLatin1String("trailing")) {
        data += "xx";
    } else if (input == QLatin1String("truncated")) {
        data.chop(10);
    } else if (input == QLatin1String("empty")) {
        data.clear();
    } else if (input == QLatin1String("huge")) {
        data = QByteArray(kMaxCsrSize + 1, '\x30');
    }
    const auto parsed = CertificateRequest::parse(data);
    QCOMPARE(bool(parsed), accepted);
    if (accepted) {
        QCOMPARE(EVP_PKEY_eq(parsed->publicKey.get(), key.get()), 1);
    } else {
        QCOMPARE(parsed.error().code, QStringLiteral("pki.csr-invalid"));
    }
}

void TestPkiIssue::entryState() {
    const QDateTime now = QDateTime::currentDateTimeUtc();
    IssuedCertificate entry;
    entry.notAfter = now.addDays(1);
    QCOMPARE(entry.state(now), QStringLiteral("valid"));
    entry.notAfter = now.addSecs(-1);
    QCOMPARE(entry.state(now), QStringLiteral("expired"));
    entry.revoked = true;
    QCOMPARE(entry.state(now), QStringLiteral("revoked"));  // revocation wins
    entry.keyReference = QStringLiteral("pkcs11:token=t;object=o");
    QVERIFY(entry.keyInToken());
    entry.keyReference = QStringLiteral("/tmp/x.key");
    QVERIFY(!entry.keyInToken());
}

void TestPkiIssue::signerRefusals() {
    const Pki& pki = m_pki->pki;
    QVERIFY(pki.issue({IssueKind::Operator, QStringLiteral("op-x"), {}, {}, 0, {}, {}}));
    auto notSigner = pki.openSignerKey(QStringLiteral("op-x"), {});
    QVERIFY(!notSigner);
    QCOMPARE(notSigner.error().code, QStringLiteral("pki.not-a-signer"));
    const EvpPkeyPtr key = generate("p256");
    IssueOptions fromCsr{
        IssueKind::ReleaseSigner, QStringLiteral("csr-signer"), {}, csrDer(key.get()), 0, {}, {}};
    QVERIFY(pki.issue(fromCsr));
    auto external = pki.openSignerKey(QStringLiteral("csr-signer"), {});
    QVERIFY(!external);
    QCOMPARE(external.error().code, QStringLiteral("crypto.key-not-found"));
    QVERIFY(pki.signerCertificate(QStringLiteral("csr-signer")));
    auto unknown = pki.signerChain(QStringLiteral("nobody"));
    QVERIFY(!unknown);
    QCOMPARE(unknown.error().code, QStringLiteral("pki.unknown-name"));
    auto validity = pki.issue({IssueKind::Server, QStringLiteral("short"), {}, {}, 10, {}, {}});
    QVERIFY(validity);
    QVERIFY(validity->notAfter < QDateTime::currentDateTimeUtc().addDays(11));
}

void TestPkiIssue::releaseTrustRejectsNonCrl() {
    const QString notCrl = m_pki->pkiDir + QStringLiteral("/root-ca.pem");
    auto trust = m_pki->pki.releaseTrust(QStringList{notCrl});
    QVERIFY(!trust);
    QCOMPARE(trust.error().code, QStringLiteral("crypto.crl-unreadable"));
    auto missing = m_pki->pki.releaseTrust(QStringList{m_pki->pkiDir + QStringLiteral("/none")});
    QVERIFY(!missing);
    QCOMPARE(missing.error().code, QStringLiteral("crypto.crl-unreadable"));
}

void TestPkiIssue::askOnceAsksOnce() {
    int calls = 0;
    const PinProvider once = registry::askOnce([&calls]() -> Result<SecretString> {
        ++calls;
        return SecretString(QByteArray("4321"));
    });
    for (int i = 0; i < 3; ++i) {
        auto pin = once();
        QVERIFY(pin);
        QCOMPARE(QByteArray(pin->c_str()), QByteArray("4321"));
    }
    QCOMPARE(calls, 1);
    const PinProvider none = registry::askOnce({});
    auto missing = none();
    QVERIFY(!missing);
    QCOMPARE(missing.error().code, QStringLiteral("crypto.pin-missing"));
}

void TestPkiIssue::namesRoundTrip() {
    for (IssueKind kind :
         {IssueKind::ReleaseSigner, IssueKind::Server, IssueKind::Operator, IssueKind::Device}) {
        QCOMPARE(parseIssueKind(issueKindName(kind)), std::optional<IssueKind>(kind));
    }
    for (RevocationReason reason : {RevocationReason::KeyCompromise, RevocationReason::Superseded,
                                    RevocationReason::CessationOfOperation}) {
        QCOMPARE(parseRevocationReason(revocationReasonName(reason)),
                 std::optional<RevocationReason>(reason));
    }
    QVERIFY(!parseIssueKind(QStringLiteral("root")));
    QVERIFY(!parseRevocationReason(QStringLiteral("unspecified")));
}

QTEST_GUILESS_MAIN(TestPkiIssue)
#include "tst_pkiissue.moc"
