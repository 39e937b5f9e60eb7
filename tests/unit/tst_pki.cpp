// Pki: init in PEM and token mode, the on-disk contract (files, modes, pki.json), open(),
// server identities, refusal to overwrite, and PIN handling against a real SoftHSM token.
#include "TestPki.h"

#include "crypto/Cms.h"
#include "crypto/Pkcs11Uri.h"
#include "crypto/Pki.h"
#include "crypto/SigningKey.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
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

QJsonObject readJson(const QString& path) {
    return QJsonDocument::fromJson(readAll(path)).object();
}

std::function<Result<SecretString>()> pinOf(const char* pin) {
    return [pin]() -> Result<SecretString> { return SecretString(QByteArray(pin)); };
}

// Verifies `chain` (leaf first) against `rootPath` with OpenSSL directly, for `purpose`.
int verifyWithOpenSsl(const QList<Certificate>& chain, const QString& rootPath, int purpose) {
    auto roots = Certificate::loadPemFile(rootPath);
    if (!roots || chain.isEmpty()) {
        return -1;
    }
    X509_STORE* store = X509_STORE_new();
    X509_STORE_add_cert(store, roots->constFirst().handle());
    STACK_OF(X509)* untrusted = sk_X509_new_null();
    for (qsizetype i = 1; i < chain.size(); ++i) {
        sk_X509_push(untrusted, chain[i].handle());
    }
    X509_STORE_CTX* context = X509_STORE_CTX_new();
    X509_STORE_CTX_init(context, store, chain.constFirst().handle(), untrusted);
    X509_STORE_CTX_set_purpose(context, purpose);
    const int ok = X509_verify_cert(context);
    const int error = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(context);
    X509_STORE_CTX_free(context);
    sk_X509_free(untrusted);
    X509_STORE_free(store);
    return error;
}

QFileDevice::Permissions ownerReadWrite() {
    return QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadUser |
           QFileDevice::WriteUser;
}

}  // namespace

class TestPkiSuite : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initPemMode();
    void initTokenMode();
    void openMissingOrBroken();
    void certificateAccessors();
    void issueServerIdentity_data();
    void issueServerIdentity();
    void issueDeviceIdentity();
    void refusesToOverwrite();
    void wrongPinIsRefused();
    void keyReferenceErrors_data();
    void keyReferenceErrors();
};

void TestPkiSuite::initPemMode() {
    QTemporaryDir temp;
    QVERIFY(temp.isValid());
    auto created = TestPki::create(temp.path(), false);
    QVERIFY2(created, qPrintable(created ? QString() : created.error().toString()));
    const QDir dir(created->pkiDir);
    QVERIFY(!created->pki.keysInToken());

    for (const char* file :
         {"root-ca.pem", "ca/release-ca.pem", "ca/device-ca.pem", "ca/server-ca.pem",
          "ca/operator-ca.pem", "release.pem", "operator.pem", "operator.key", "pki.json"}) {
        QVERIFY2(QFileInfo::exists(dir.filePath(QString::fromLatin1(file))), file);
    }
    for (const char* key :
         {"root-ca", "release-ca", "device-ca", "server-ca", "operator-ca", "release"}) {
        const QString path = dir.filePath(QStringLiteral("keys/%1.key").arg(QLatin1String(key)));
        QVERIFY2(QFileInfo::exists(path), key);
        QCOMPARE(QFile::permissions(path) & ~ownerReadWrite(), QFileDevice::Permissions());
    }
    QCOMPARE(QFile::permissions(created->pki.operatorKeyPath()) & ~ownerReadWrite(),
             QFileDevice::Permissions());

    const QJsonObject json = readJson(dir.filePath(QStringLiteral("pki.json")));
    QCOMPARE(json.value(QStringLiteral("key_storage")).toString(), QStringLiteral("pem"));
    QCOMPARE(json.value(QStringLiteral("keys")).toObject().value(QStringLiteral("release")),
             QJsonValue(QStringLiteral("keys/release.key")));
    QCOMPARE(created->pki.releaseKeyReference(), dir.filePath(QStringLiteral("keys/release.key")));

    // release.pem is the code signer plus its CA and chains to the root for code signing.
    auto signer = created->pki.releaseSignerCertificate();
    auto chain = created->pki.releaseSignerChain();
    QVERIFY(signer && chain);
    QCOMPARE(chain->size(), 1);
    QVERIFY(chain->constFirst().commonName().contains(QStringLiteral("release CA")));
    QList<Certificate> full{*signer};
    full.append(*chain);
    QCOMPARE(verifyWithOpenSsl(full, created->pki.rootCaPath(), X509_PURPOSE_ANY), X509_V_OK);
    QVERIFY(X509_get_extended_key_usage(signer->handle()) & XKU_CODE_SIGN);

    // The operator identity is a TLS client certificate chaining to the root.
    auto operatorChain = Certificate::loadPemFile(created->pki.operatorCertPath());
    QVERIFY(operatorChain);
    QCOMPARE(operatorChain->size(), 2);
    QCOMPARE(verifyWithOpenSsl(*operatorChain, created->pki.rootCaPath(), X509_PURPOSE_SSL_CLIENT),
             X509_V_OK);
    auto trustPem = created->pki.operatorTrustPem();
    QVERIFY(trustPem);
    QCOMPARE(trustPem->count("BEGIN CERTIFICATE"), 2);
}

void TestPkiSuite::initTokenMode() {
    QTemporaryDir temp;
    QVERIFY(temp.isValid());
    auto created = TestPki::create(temp.path(), true);
    QVERIFY2(created, qPrintable(created ? QString() : created.error().toString()));
    const QDir dir(created->pkiDir);
    QVERIFY(created->pki.keysInToken());
    QVERIFY(!QFileInfo::exists(dir.filePath(QStringLiteral("keys"))));
    QCOMPARE(qgetenv(TestPki::kPinEnv), QByteArray(TestPki::kPin));

    const QJsonObject json = readJson(dir.filePath(QStringLiteral("pki.json")));
    QCOMPARE(json.value(QStringLiteral("key_storage")).toString(), QStringLiteral("pkcs11"));
    QCOMPARE(json.value(QStringLiteral("pkcs11_module")).toString(),
             QStringLiteral("/usr/lib/softhsm/libsofthsm2.so"));
    QCOMPARE(json.value(QStringLiteral("token_label")).toString(),
             QString::fromLatin1(TestPki::kTokenLabel));
    const QJsonObject keys = json.value(QStringLiteral("keys")).toObject();
    QCOMPARE(keys.size(), 6);
    for (const QJsonValue& value : keys) {
        const QString uri = value.toString();
        QVERIFY2(uri.startsWith(QStringLiteral("pkcs11:token=otafleet-test;object=")),
                 qPrintable(uri));
        QVERIFY2(!uri.contains(QStringLiteral("pin")), qPrintable(uri));
        QVERIFY(Pkcs11Uri::parse(uri));
    }
    QVERIFY(!readAll(dir.filePath(QStringLiteral("pki.json"))).contains(TestPki::kPin));

    // The token holds six signing-only keys that can never leave it (checked with OpenSC's
    // independent PKCS#11 client).
    QProcess tool;
    tool.setProcessChannelMode(QProcess::MergedChannels);
    tool.start(
        QStringLiteral("pkcs11-tool"),
        {QStringLiteral("--module"), created->pki.pkcs11Module(), QStringLiteral("--token-label"),
         QString::fromLatin1(TestPki::kTokenLabel), QStringLiteral("--login"),
         QStringLiteral("--pin"), QString::fromLatin1(TestPki::kPin),
         QStringLiteral("--list-objects"), QStringLiteral("--type"), QStringLiteral("privkey")});
    QVERIFY(tool.waitForFinished(30000));
    const QString listing = QString::fromLocal8Bit(tool.readAll());
    QCOMPARE(tool.exitCode(), 0);
    QCOMPARE(listing.count(QStringLiteral("Private Key Object; EC")), 6);
    QCOMPARE(listing.count(QStringLiteral("never extractable")), 6);
    QCOMPARE(listing.count(QRegularExpression(QStringLiteral("Usage: +sign\\n"))), 6);

    auto key = created->pki.openReleaseKey(created->pinProvider());
    QVERIFY2(key, qPrintable(key ? QString() : key.error().toString()));
    QVERIFY((*key)->isHardware());
    QVERIFY((*key)->description().contains(QStringLiteral("object=release")));

    // The token key signs, and what it signs verifies against the PKI's root.
    const QByteArray content("token-signed manifest");
    auto signature = signDetached(content, **key, *created->pki.releaseSignerCertificate(),
                                  *created->pki.releaseSignerChain());
    QVERIFY2(signature, qPrintable(signature ? QString() : signature.error().toString()));
    auto verified = verifyDetached(content, *signature, *created->pki.releaseTrust(),
                                   QDateTime::currentDateTimeUtc());
    QVERIFY2(verified, qPrintable(verified ? QString() : verified.error().toString()));
}

void TestPkiSuite::certificateAccessors() {
    QTemporaryDir temp;
    PkiInitOptions options;
    options.directory = temp.filePath(QStringLiteral("pki"));
    options.commonNamePrefix = QStringLiteral("Acme Ünits");
    options.validityDays = 100;
    QVERIFY(Pki::init(options));
    auto pki = Pki::open(options.directory);
    QVERIFY(pki);
    auto signer = pki->releaseSignerCertificate();
    QVERIFY(signer);
    QCOMPARE(signer->commonName(), QStringLiteral("Acme Ünits release signer"));
    QCOMPARE(signer->subject(), QStringLiteral("CN=Acme Ünits release signer"));
    QCOMPARE(signer->issuer(), QStringLiteral("CN=Acme Ünits release CA"));
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QVERIFY(signer->notBefore() <= now);
    QVERIFY(signer->notAfter() > now.addDays(99));
    QVERIFY(signer->notAfter() <= now.addDays(101));
    QCOMPARE(signer->sha256Fingerprint().size(), 64);
    QCOMPARE(signer->subjectKeyId().size(), 40);
    QVERIFY(!signer->serialHex().isEmpty());

    auto fromDer = Certificate::fromDer(signer->toDer());
    QVERIFY(fromDer);
    QCOMPARE(fromDer->sha256Fingerprint(), signer->sha256Fingerprint());
    auto fromPem = Certificate::fromPem(signer->toPem());
    QVERIFY(fromPem);
    QCOMPARE(fromPem->serialHex(), signer->serialHex());
    auto garbage = Certificate::fromDer(QByteArrayLiteral("\x30\x82\x01"));
    QVERIFY(!garbage);
    QCOMPARE(garbage.error().code, QStringLiteral("crypto.certificate-unreadable"));
    QVERIFY(Certificate().isNull());
    QVERIFY(Certificate().toPem().isEmpty());
}

void TestPkiSuite::openMissingOrBroken() {
    QTemporaryDir temp;
    auto missing = Pki::open(temp.filePath(QStringLiteral("nothing")));
    QVERIFY(!missing);
    QCOMPARE(missing.error().code, QStringLiteral("pki.not-found"));

    QFile json(temp.filePath(QStringLiteral("pki.json")));
    QVERIFY(json.open(QIODevice::WriteOnly));
    json.write("{ not json");
    json.close();
    auto broken = Pki::open(temp.path());
    QVERIFY(!broken);
    QCOMPARE(broken.error().code, QStringLiteral("pki.invalid"));
    QVERIFY(broken.error().message.contains(temp.path()));
}

void TestPkiSuite::issueServerIdentity_data() {
    QTest::addColumn<bool>("token");
    QTest::newRow("pem") << false;
    QTest::newRow("token") << true;
}

void TestPkiSuite::issueServerIdentity() {
    QFETCH(bool, token);
    QTemporaryDir temp;
    auto created = TestPki::create(temp.path(), token);
    QVERIFY2(created, qPrintable(created ? QString() : created.error().toString()));
    auto identity = created->pki.issueServerIdentity(
        QStringLiteral("agent-1"),
        {QStringLiteral("127.0.0.1"), QStringLiteral("agent-1.local"), QStringLiteral("::1")},
        created->pinProvider());
    QVERIFY2(identity, qPrintable(identity ? QString() : identity.error().toString()));

    auto chain = Certificate::loadPemFile(temp.filePath(QStringLiteral("pki/root-ca.pem")));
    QVERIFY(chain);
    auto bio = BIO_new_mem_buf(identity->certificateChainPem.constData(),
                               static_cast<int>(identity->certificateChainPem.size()));
    QList<Certificate> served;
    while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
        served.append(Certificate(cert));
    }
    BIO_free(bio);
    QCOMPARE(served.size(), 2);
    QCOMPARE(served[0].commonName(), QStringLiteral("agent-1"));
    QVERIFY(served[1].commonName().contains(QStringLiteral("server CA")));
    QCOMPARE(verifyWithOpenSsl(served, created->pki.rootCaPath(), X509_PURPOSE_SSL_SERVER),
             X509_V_OK);

    X509* leaf = served[0].handle();
    QCOMPARE(X509_check_ip_asc(leaf, "127.0.0.1", 0), 1);
    QCOMPARE(X509_check_ip_asc(leaf, "::1", 0), 1);
    QCOMPARE(X509_check_host(leaf, "agent-1.local", 0, 0, nullptr), 1);
    QCOMPARE(X509_check_host(leaf, "127.0.0.1", 0, 0, nullptr), 0);  // an IP is no DNS name
    QCOMPARE(X509_check_ip_asc(leaf, "127.0.0.2", 0), 0);

    // The private key belongs to the leaf.
    auto keyBio = BIO_new_mem_buf(identity->privateKeyPem.constData(),
                                  static_cast<int>(identity->privateKeyPem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(keyBio, nullptr, nullptr, nullptr);
    BIO_free(keyBio);
    QVERIFY(key);
    QCOMPARE(X509_check_private_key(leaf, key), 1);
    EVP_PKEY_free(key);
}

void TestPkiSuite::issueDeviceIdentity() {
    QTemporaryDir temp;
    auto created = TestPki::create(temp.path(), false);
    QVERIFY(created);
    auto identity =
        created->pki.issueDeviceIdentity(QStringLiteral("dev-0042"), created->pinProvider());
    QVERIFY2(identity, qPrintable(identity ? QString() : identity.error().toString()));
    auto bio = BIO_new_mem_buf(identity->certificateChainPem.constData(),
                               static_cast<int>(identity->certificateChainPem.size()));
    QList<Certificate> chain;
    while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
        chain.append(Certificate(cert));
    }
    BIO_free(bio);
    QCOMPARE(chain.size(), 2);
    QCOMPARE(chain[0].commonName(), QStringLiteral("dev-0042"));
    QVERIFY(chain[1].commonName().endsWith(QStringLiteral("device CA")));
    QCOMPARE(verifyWithOpenSsl(chain, created->pki.rootCaPath(), X509_PURPOSE_SSL_CLIENT),
             X509_V_OK);
    QVERIFY(verifyWithOpenSsl(chain, created->pki.rootCaPath(), X509_PURPOSE_SSL_SERVER) !=
            X509_V_OK);
}

void TestPkiSuite::refusesToOverwrite() {
    QTemporaryDir temp;
    auto created = TestPki::create(temp.path(), false);
    QVERIFY(created);
    const QByteArray rootBefore = readAll(created->pki.rootCaPath());
    QVERIFY(!rootBefore.isEmpty());
    PkiInitOptions options;
    options.directory = created->pkiDir;
    auto again = Pki::init(options);
    QVERIFY(!again);
    QCOMPARE(again.error().code, QStringLiteral("pki.exists"));
    QCOMPARE(readAll(created->pki.rootCaPath()), rootBefore);
}

void TestPkiSuite::wrongPinIsRefused() {
    QTemporaryDir temp;
    auto created = TestPki::create(temp.path(), true);
    QVERIFY2(created, qPrintable(created ? QString() : created.error().toString()));
    auto key = created->pki.openReleaseKey(pinOf("0000"));
    QVERIFY(!key);
    QCOMPARE(key.error().code, QStringLiteral("crypto.pin-incorrect"));
    QVERIFY(!key.error().message.contains(QStringLiteral("0000")));

    auto server =
        created->pki.issueServerIdentity(QStringLiteral("x"), {QStringLiteral("x")}, pinOf("9999"));
    QVERIFY(!server);
    QCOMPARE(server.error().code, QStringLiteral("crypto.pin-incorrect"));

    auto noPin = created->pki.openReleaseKey({});
    QVERIFY(!noPin);
    QCOMPARE(noPin.error().code, QStringLiteral("crypto.pin-missing"));

    // A wrong SO PIN does not wipe an existing token.
    PkiInitOptions options;
    options.directory = temp.filePath(QStringLiteral("second"));
    options.pkcs11Module = created->pki.pkcs11Module();
    options.tokenLabel = QString::fromLatin1(TestPki::kTokenLabel);
    options.initToken = true;
    options.pinProvider = pinOf(TestPki::kPin);
    options.soPinProvider = pinOf("0000");
    auto reinit = Pki::init(options);
    QVERIFY(!reinit);
    QCOMPARE(reinit.error().code, QStringLiteral("crypto.pin-incorrect"));
    QVERIFY(created->pki.openReleaseKey(created->pinProvider()));
}

void TestPkiSuite::keyReferenceErrors_data() {
    QTest::addColumn<QString>("reference");
    QTest::addColumn<QString>("code");
    QTest::newRow("pin in uri") << QStringLiteral(
                                       "pkcs11:token=otafleet-test;object=release"
                                       "?pin-value=1234")
                                << QStringLiteral("crypto.pin-in-uri");
    QTest::newRow("no object") << QStringLiteral("pkcs11:token=otafleet-test")
                               << QStringLiteral("crypto.key-reference-invalid");
    QTest::newRow("unknown token") << QStringLiteral("pkcs11:token=nope;object=release")
                                   << QStringLiteral("crypto.token-not-found");
    QTest::newRow("unknown key") << QStringLiteral("pkcs11:token=otafleet-test;object=nope")
                                 << QStringLiteral("crypto.key-not-found");
    QTest::newRow("missing file") << QStringLiteral("/nonexistent/release.key")
                                  << QStringLiteral("crypto.key-not-found");
    QTest::newRow("not a key") << QStringLiteral("pki.json")
                               << QStringLiteral("crypto.key-unreadable");
    QTest::newRow("bad module") << QStringLiteral(
                                       "pkcs11:token=otafleet-test;object=release"
                                       "?module-path=/nonexistent/p11.so")
                                << QStringLiteral("crypto.pkcs11-module");
}

void TestPkiSuite::keyReferenceErrors() {
    QFETCH(QString, reference);
    QFETCH(QString, code);
    QTemporaryDir temp;
    auto created = TestPki::create(temp.path(), true);
    QVERIFY2(created, qPrintable(created ? QString() : created.error().toString()));
    if (reference == u"pki.json") {
        reference = QDir(created->pkiDir).filePath(reference);
    }
    KeyOpenOptions options;
    options.pinProvider = created->pinProvider();
    if (!reference.contains(QStringLiteral("module-path"))) {
        options.pkcs11Module = created->pki.pkcs11Module();
    }
    auto key = SigningKey::open(reference, options);
    QVERIFY(!key);
    QCOMPARE(key.error().code, code);
}

QTEST_GUILESS_MAIN(TestPkiSuite)
#include "tst_pki.moc"
