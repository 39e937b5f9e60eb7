// otafleetctl pki issue / revoke / crl / export-public / list, driven through the real binary:
// what each kind of leaf looks like, CSRs, refusals with their codes, revocation reaching
// verifyDetached through a CRL, two-person signing with named signers, and a release signer
// generated inside a SoftHSM token.
#include "CliRun.h"
#include "SoftHsmEnvironment.h"

#include "bundle/BundleBuilder.h"
#include "bundle/BundleVerifier.h"
#include "crypto/Certificate.h"
#include "crypto/Pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;
using namespace otafleet::crypto;

namespace {

constexpr const char* kPinEnv = "OTAFLEET_PKICLI_PIN";

using Run = test::ProcessRun;
using test::ctl;
using test::otafleetctl;

using test::readAll;

bool writeAll(const QString& path, const QByteArray& data) {
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate) && file.write(data) == data.size();
}

QJsonObject issuedEntry(const QString& pkiDir, const QString& name) {
    const QJsonObject json =
        QJsonDocument::fromJson(readAll(pkiDir + QStringLiteral("/pki.json"))).object();
    for (const QJsonValue& value : json.value(QStringLiteral("issued")).toArray()) {
        if (value.toObject().value(QStringLiteral("name")).toString() == name) {
            return value.toObject();
        }
    }
    return {};
}

QString s(const char* text) {
    return QString::fromLatin1(text);
}

QStringList strings(std::initializer_list<const char*> texts) {
    QStringList list;
    for (const char* text : texts) {
        list.append(QString::fromLatin1(text));
    }
    return list;
}

using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

// A PKCS#10 request for a fresh P-256 key; `forgeSignature` signs it with a different key so
// its self-signature does not match. Returns PEM, and the request's public key as DER.
QByteArray makeCsr(bool forgeSignature, QByteArray* publicKeyDer) {
    EvpPkeyPtr key(EVP_EC_gen("P-256"), EVP_PKEY_free);
    EvpPkeyPtr other(EVP_EC_gen("P-256"), EVP_PKEY_free);
    X509_REQ* request = X509_REQ_new();
    X509_REQ_set_version(request, 0);
    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(request), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("factory-device"), -1, -1, 0);
    X509_REQ_set_pubkey(request, key.get());
    X509_REQ_sign(request, forgeSignature ? other.get() : key.get(), EVP_sha256());
    unsigned char* der = nullptr;
    const int length = i2d_PUBKEY(key.get(), &der);
    if (publicKeyDer != nullptr) {
        *publicKeyDer = QByteArray(reinterpret_cast<const char*>(der), length);
    }
    OPENSSL_free(der);
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509_REQ(bio, request);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    QByteArray pem(data, static_cast<qsizetype>(size));
    BIO_free(bio);
    X509_REQ_free(request);
    return pem;
}

QByteArray publicKeyDerOf(const Certificate& cert) {
    unsigned char* der = nullptr;
    const int length = i2d_PUBKEY(X509_get0_pubkey(cert.handle()), &der);
    QByteArray result(reinterpret_cast<const char*>(der), length);
    OPENSSL_free(der);
    return result;
}

}  // namespace

class TestPkiCli : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void helpForEveryCommand_data();
    void helpForEveryCommand();
    void issueKinds_data();
    void issueKinds();
    void refusals_data();
    void refusals();
    void csr_data();
    void csr();
    void listAndExportPublic();
    void twoPersonSigning_data();
    void twoPersonSigning();
    void revokedSignerRefusedWithCrl();
    void tokenReleaseSigner();

private:
    [[nodiscard]] QString path(const QString& relative) const { return m_dir.filePath(relative); }
    [[nodiscard]] QString makeBundle(const QString& name) const;
    [[nodiscard]] Status signAs(const QString& bundle, const Pki& pki, const QString& signer) const;

    QTemporaryDir m_dir;
    QString m_pki;
};

void TestPkiCli::initTestCase() {
    QVERIFY(m_dir.isValid());
    QVERIFY(QFileInfo::exists(QStringLiteral(OTAFLEET_BIN_DIR "/otafleetctl")));
    qputenv(kPinEnv, "1234");
    m_pki = path(QStringLiteral("pki"));
    const Run run = ctl({"pki", "init", "--dir", m_pki});
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QVERIFY(writeAll(path(QStringLiteral("payload.bin")), QByteArray(4096, 'x')));
}

QString TestPkiCli::makeBundle(const QString& name) const {
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

Status TestPkiCli::signAs(const QString& bundle, const Pki& pki, const QString& signer) const {
    auto key = pki.openSignerKey(
        signer, [] { return SecretString::fromEnvironment(QString::fromLatin1(kPinEnv)); });
    if (!key) {
        return fail(key.error());
    }
    auto cert = pki.signerCertificate(signer);
    auto chain = pki.signerChain(signer);
    if (!cert || !chain) {
        return fail(!cert ? cert.error() : chain.error());
    }
    return bundle::signBundle(bundle, **key, *cert, *chain);
}

void TestPkiCli::helpForEveryCommand_data() {
    QTest::addColumn<QString>("verb");
    for (const char* verb : {"issue", "revoke", "crl", "export-public", "list"}) {
        QTest::newRow(verb) << QString::fromLatin1(verb);
    }
}

void TestPkiCli::helpForEveryCommand() {
    QFETCH(QString, verb);
    const Run run = ctl({"pki", verb, "--help"});
    QCOMPARE(run.exitCode, 0);
    QVERIFY(run.out.contains(QStringLiteral("Usage: otafleetctl pki %1").arg(verb).toUtf8()));
    QVERIFY(run.out.contains("--pki"));
}

void TestPkiCli::issueKinds_data() {
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("name");
    QTest::addColumn<QStringList>("extra");
    QTest::addColumn<QString>("caFile");
    QTest::addColumn<quint32>("usage");
    QTest::addColumn<int>("altNames");
    QTest::newRow("release-signer") << s("release-signer") << s("signer-1") << QStringList{}
                                    << s("ca/release-ca.pem") << quint32(XKU_CODE_SIGN) << 0;
    QTest::newRow("server") << s("server") << s("server-1")
                            << QStringList{QStringLiteral("--san"),
                                           QStringLiteral("fleet.example,127.0.0.1")}
                            << s("ca/server-ca.pem") << quint32(XKU_SSL_SERVER) << 2;
    QTest::newRow("operator") << s("operator") << s("alice") << QStringList{}
                              << s("ca/operator-ca.pem") << quint32(XKU_SSL_CLIENT) << 0;
    QTest::newRow("device") << s("device") << s("dev-000042") << QStringList{}
                            << s("ca/device-ca.pem") << quint32(XKU_SSL_CLIENT) << 0;
}

void TestPkiCli::issueKinds() {
    QFETCH(QString, kind);
    QFETCH(QString, name);
    QFETCH(QStringList, extra);
    QFETCH(QString, caFile);
    QFETCH(quint32, usage);
    QFETCH(int, altNames);

    const Run run = otafleetctl(
        QStringList{QStringLiteral("pki"), QStringLiteral("issue"), kind, QStringLiteral("--pki"),
                    m_pki, QStringLiteral("--name"), name, QStringLiteral("--json")} +
        extra);
    QVERIFY2(run.exitCode == 0, run.err.constData());
    const QJsonObject reported = QJsonDocument::fromJson(run.out).object();
    QCOMPARE(reported.value(QStringLiteral("name")).toString(), name);
    QCOMPARE(reported.value(QStringLiteral("kind")).toString(), kind);
    QCOMPARE(reported.value(QStringLiteral("state")).toString(), QStringLiteral("valid"));
    QCOMPARE(reported.value(QStringLiteral("key_location")).toString(), QStringLiteral("file"));

    const QString certPath = m_pki + QStringLiteral("/issued/%1.pem").arg(name);
    auto chain = Certificate::loadPemFile(certPath);
    QVERIFY(chain);
    QCOMPARE(chain->size(), 2);  // leaf + issuing CA
    auto ca = Certificate::loadPemFile(m_pki + QLatin1Char('/') + caFile);
    QVERIFY(ca);
    const Certificate& leaf = chain->constFirst();
    QCOMPARE(leaf.commonName(), name);
    QCOMPARE(leaf.issuer(), ca->constFirst().subject());
    QCOMPARE(chain->at(1).subject(), ca->constFirst().subject());
    QCOMPARE(X509_get_extended_key_usage(leaf.handle()), usage);
    auto* names = static_cast<GENERAL_NAMES*>(
        X509_get_ext_d2i(leaf.handle(), NID_subject_alt_name, nullptr, nullptr));
    QCOMPARE(names == nullptr ? 0 : sk_GENERAL_NAME_num(names), altNames);
    GENERAL_NAMES_free(names);

    const QString keyPath = m_pki + QStringLiteral("/issued/%1.key").arg(name);
    QCOMPARE(QFileInfo(keyPath).permissions() & (QFile::ReadGroup | QFile::ReadOther),
             QFileDevice::Permissions());
    const QJsonObject recorded = issuedEntry(m_pki, name);
    QCOMPARE(recorded.value(QStringLiteral("kind")).toString(), kind);
    QCOMPARE(recorded.value(QStringLiteral("serial")).toString(), leaf.serialHex());
    QCOMPARE(recorded.value(QStringLiteral("subject")).toString(), leaf.subject());
    QCOMPARE(recorded.value(QStringLiteral("key")).toString(),
             QStringLiteral("issued/%1.key").arg(name));
    QCOMPARE(recorded.value(QStringLiteral("revoked")).toBool(), false);
    QVERIFY(!recorded.value(QStringLiteral("not_after")).toString().isEmpty());
}

void TestPkiCli::refusals_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("code");
    const char* pki = "@PKI@";
    QTest::newRow("name of the init-made signer")
        << strings({"issue", "release-signer", "--pki", pki, "--name", "release"}) << 1
        << s("pki.name-exists");
    QTest::newRow("name of a CA key")
        << strings({"issue", "device", "--pki", pki, "--name", "root-ca"}) << 1
        << s("pki.name-exists");
    QTest::newRow("path in the name")
        << strings({"issue", "device", "--pki", pki, "--name", "../evil"}) << 1
        << s("pki.name-invalid");
    QTest::newRow("san on a device")
        << strings({"issue", "device", "--pki", pki, "--name", "d-san", "--san", "x.example"}) << 1
        << s("pki.san-not-allowed");
    QTest::newRow("unknown kind") << strings({"issue", "wizard", "--pki", pki, "--name", "w"}) << 2
                                  << s("cli.usage");
    QTest::newRow("issue without name")
        << strings({"issue", "device", "--pki", pki}) << 2 << s("cli.usage");
    QTest::newRow("revoke unknown")
        << strings({"revoke", "--pki", pki, "--name", "nobody"}) << 1 << s("pki.unknown-name");
    QTest::newRow("revoke bad reason")
        << strings({"revoke", "--pki", pki, "--name", "release", "--reason", "boredom"}) << 2
        << s("cli.usage");
    QTest::newRow("export unknown")
        << strings({"export-public", "--pki", pki, "--name", "nobody", "-o", "@DIR@/x.pem"}) << 1
        << s("pki.unknown-name");
    QTest::newRow("crl days out of range")
        << strings({"crl", "--pki", pki, "-o", "@DIR@/x.crl", "--days", "0"}) << 2
        << s("cli.usage");
    QTest::newRow("no pki") << strings({"list", "--pki", "@DIR@/absent"}) << 1
                            << s("pki.not-found");
    QTest::newRow("unknown key type")
        << strings({"issue", "release-signer", "--pki", pki, "--name", "kt", "--key-type", "p521"})
        << 2 << s("cli.usage");
    QTest::newRow("key type of a TLS leaf")
        << strings({"issue", "operator", "--pki", pki, "--name", "kt", "--key-type", "p384"}) << 2
        << s("cli.usage");
    QTest::newRow("init with unknown key type")
        << strings({"init", "--dir", "@DIR@/kt-unknown", "--key-type", "dsa"}) << 2
        << s("cli.usage");
}

void TestPkiCli::refusals() {
    QFETCH(QStringList, args);
    QFETCH(int, exitCode);
    QFETCH(QString, code);
    args.replaceInStrings(QStringLiteral("@PKI@"), m_pki);
    args.replaceInStrings(QStringLiteral("@DIR@"), m_dir.path());
    const Run run = otafleetctl(QStringList{QStringLiteral("pki")} + args);
    QCOMPARE(run.exitCode, exitCode);
    QVERIFY2(run.err.contains(QStringLiteral("[%1]").arg(code).toUtf8()), run.err.constData());
}

void TestPkiCli::csr_data() {
    QTest::addColumn<QString>("input");  // good, forged, garbage, huge
    QTest::addColumn<QString>("code");   // empty: success
    QTest::newRow("valid request") << s("good") << s("");
    QTest::newRow("forged self-signature") << s("forged") << s("pki.csr-invalid");
    QTest::newRow("not a request") << s("garbage") << s("pki.csr-invalid");
    QTest::newRow("oversized") << s("huge") << s("io.too-large");
}

void TestPkiCli::csr() {
    QFETCH(QString, input);
    QFETCH(QString, code);
    QByteArray publicKey;
    QByteArray data;
    if (input == QLatin1String("good") || input == QLatin1String("forged")) {
        data = makeCsr(input == QLatin1String("forged"), &publicKey);
    } else if (input == QLatin1String("garbage")) {
        data = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
    } else {
        data = QByteArray(kMaxCsrSize + 1, 'A');
    }
    const QString csrPath = path(QStringLiteral("%1.csr").arg(input));
    QVERIFY(writeAll(csrPath, data));
    const QString name = QStringLiteral("csr-%1").arg(input);
    const Run run =
        ctl({"pki", "issue", "device", "--pki", m_pki, "--name", name, "--csr", csrPath, "--json"});
    if (!code.isEmpty()) {
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains(QStringLiteral("[%1]").arg(code).toUtf8()), run.err.constData());
        QVERIFY(issuedEntry(m_pki, name).isEmpty());
        QVERIFY(!QFileInfo::exists(m_pki + QStringLiteral("/issued/%1.pem").arg(name)));
        return;
    }
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QCOMPARE(QJsonDocument::fromJson(run.out).object().value(QStringLiteral("key_location")),
             QJsonValue(QStringLiteral("external")));
    auto chain = Certificate::loadPemFile(m_pki + QStringLiteral("/issued/%1.pem").arg(name));
    QVERIFY(chain);
    QCOMPARE(publicKeyDerOf(chain->constFirst()), publicKey);
    QCOMPARE(chain->constFirst().commonName(), name);  // the CA names devices, not the CSR
    QVERIFY(!QFileInfo::exists(m_pki + QStringLiteral("/issued/%1.key").arg(name)));
}

void TestPkiCli::listAndExportPublic() {
    const Run list = ctl({"pki", "list", "--pki", m_pki, "--json"});
    QVERIFY2(list.exitCode == 0, list.err.constData());
    const QJsonArray entries = QJsonDocument::fromJson(list.out).array();
    QHash<QString, QJsonObject> byName;
    for (const QJsonValue& value : entries) {
        byName.insert(value.toObject().value(QStringLiteral("name")).toString(), value.toObject());
    }
    QVERIFY(byName.contains(QStringLiteral("release")));
    QVERIFY(byName.contains(QStringLiteral("operator")));
    const QJsonObject release = byName.value(QStringLiteral("release"));
    QCOMPARE(release.value(QStringLiteral("kind")).toString(), QStringLiteral("release-signer"));
    QCOMPARE(release.value(QStringLiteral("state")).toString(), QStringLiteral("valid"));
    QCOMPARE(release.value(QStringLiteral("key_location")).toString(), QStringLiteral("file"));
    for (const QJsonObject& entry : byName) {
        for (const char* field : {"name", "kind", "subject", "serial", "not_after", "state"}) {
            QVERIFY2(!entry.value(QLatin1String(field)).toString().isEmpty(), field);
        }
    }

    const Run table = ctl({"pki", "list", "--pki", m_pki});
    QCOMPARE(table.exitCode, 0);
    QVERIFY(table.out.contains("NAME"));
    QVERIFY(table.out.contains(release.value(QStringLiteral("serial")).toString().toUtf8()));

    const QString pubPath = path(QStringLiteral("release-pub.pem"));
    const Run exported =
        ctl({"pki", "export-public", "--pki", m_pki, "--name", "release", "-o", pubPath});
    QVERIFY2(exported.exitCode == 0, exported.err.constData());
    const QByteArray pem = readAll(pubPath);
    BIO* bio = BIO_new_mem_buf(pem.constData(), static_cast<int>(pem.size()));
    EvpPkeyPtr key(PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr), EVP_PKEY_free);
    BIO_free(bio);
    QVERIFY(key);
    auto cert = Certificate::loadPemFile(m_pki + QStringLiteral("/release.pem"));
    QVERIFY(cert);
    QCOMPARE(EVP_PKEY_eq(key.get(), X509_get0_pubkey(cert->constFirst().handle())), 1);
}

void TestPkiCli::twoPersonSigning_data() {
    QTest::addColumn<QStringList>("signers");
    QTest::addColumn<int>("threshold");
    QTest::addColumn<QString>("code");  // empty: verifies
    QTest::newRow("one signer, threshold 1") << strings({"release"}) << 1 << s("");
    QTest::newRow("two signers, threshold 2") << strings({"release", "second"}) << 2 << s("");
    QTest::newRow("same signer twice")
        << strings({"release", "release"}) << 2 << s("crypto.threshold-not-met");
    QTest::newRow("one signer, threshold 2")
        << strings({"second"}) << 2 << s("crypto.threshold-not-met");
}

void TestPkiCli::twoPersonSigning() {
    QFETCH(QStringList, signers);
    QFETCH(int, threshold);
    QFETCH(QString, code);
    auto pki = Pki::open(m_pki);
    QVERIFY(pki);
    if (!pki->find(QStringLiteral("second"))) {
        const Run run = ctl({"pki", "issue", "release-signer", "--pki", m_pki, "--name", "second"});
        QVERIFY2(run.exitCode == 0, run.err.constData());
    }
    const QString bundle = makeBundle(QStringLiteral("two-person-%1.otab")
                                          .arg(QString::fromLatin1(QTest::currentDataTag())
                                                   .replace(QLatin1Char(' '), QLatin1Char('-'))));
    QVERIFY(!bundle.isEmpty());
    for (const QString& signer : signers) {
        const Status signedOk = signAs(bundle, *pki, signer);
        QVERIFY2(signedOk, qPrintable(signedOk ? QString() : signedOk.error().toString()));
    }
    bundle::VerifyPolicy policy;
    auto trust = pki->releaseTrust(QStringList{});
    QVERIFY(trust);
    policy.trust = *trust;
    policy.threshold = threshold;
    const auto verified = bundle::BundleVerifier::verifyFile(bundle, policy);
    if (code.isEmpty()) {
        QVERIFY2(verified, qPrintable(verified ? QString() : verified.error().toString()));
        QCOMPARE(verified->signers.size(), threshold);
    } else {
        QVERIFY(!verified);
        QCOMPARE(verified.error().code, code);
    }
}

void TestPkiCli::revokedSignerRefusedWithCrl() {
    const Run issued = ctl({"pki", "issue", "release-signer", "--pki", m_pki, "--name", "bob"});
    QVERIFY2(issued.exitCode == 0, issued.err.constData());
    auto pki = Pki::open(m_pki);
    QVERIFY(pki);
    const QString bundle = makeBundle(QStringLiteral("bob.otab"));
    QVERIFY(!bundle.isEmpty());
    QVERIFY(signAs(bundle, *pki, QStringLiteral("bob")));

    const Run revoked =
        ctl({"pki", "revoke", "--pki", m_pki, "--name", "bob", "--reason", "keyCompromise"});
    QVERIFY2(revoked.exitCode == 0, revoked.err.constData());
    const QJsonObject entry = issuedEntry(m_pki, QStringLiteral("bob"));
    QCOMPARE(entry.value(QStringLiteral("revoked")).toBool(), true);
    QCOMPARE(entry.value(QStringLiteral("reason")).toString(), QStringLiteral("keyCompromise"));
    QVERIFY(!entry.value(QStringLiteral("revoked_at")).toString().isEmpty());
    const Run again = ctl({"pki", "revoke", "--pki", m_pki, "--name", "bob"});
    QCOMPARE(again.exitCode, 1);
    QVERIFY(again.err.contains("[pki.already-revoked]"));

    const QString crlPath = path(QStringLiteral("fleet.crl"));
    const Run crl = ctl({"pki", "crl", "--pki", m_pki, "-o", crlPath, "--days", "7", "--json"});
    QVERIFY2(crl.exitCode == 0, crl.err.constData());
    QCOMPARE(QJsonDocument::fromJson(crl.out).object().value(QStringLiteral("revoked")).toInt(), 1);
    QCOMPARE(readAll(crlPath).count("-----BEGIN X509 CRL-----"), 1);  // only the release CA

    bundle::VerifyPolicy policy;
    auto withoutCrl = pki->releaseTrust(QStringList{});
    QVERIFY(withoutCrl);
    policy.trust = *withoutCrl;
    QVERIFY(bundle::BundleVerifier::verifyFile(bundle, policy));
    const Run cliVerify = ctl({"bundle", "verify", bundle, "--pki", m_pki});
    QVERIFY2(cliVerify.exitCode == 0, cliVerify.err.constData());

    auto withCrl = pki->releaseTrust(QStringList{crlPath});
    QVERIFY(withCrl);
    policy.trust = *withCrl;
    const auto refused = bundle::BundleVerifier::verifyFile(bundle, policy);
    QVERIFY(!refused);
    QCOMPARE(refused.error().code, QStringLiteral("crypto.signer-revoked"));
    // Other signers stay good under the same CRL.
    const QString releaseBundle = makeBundle(QStringLiteral("release-after-crl.otab"));
    QVERIFY(signAs(releaseBundle, *pki, QStringLiteral("release")));
    QVERIFY(bundle::BundleVerifier::verifyFile(releaseBundle, policy));
    // And the PKI no longer hands out the revoked signer.
    const auto key = pki->openSignerKey(QStringLiteral("bob"), {});
    QVERIFY(!key);
    QCOMPARE(key.error().code, QStringLiteral("pki.signer-revoked"));
}

void TestPkiCli::tokenReleaseSigner() {
    const test::SoftHsmEnvironment softHsm(path(QStringLiteral("softhsm")));
    qputenv("OTAFLEET_PKICLI_SO_PIN", "5678");
    const QString pkiDir = path(QStringLiteral("token-pki"));
    const Run init = ctl({"pki", "init", "--dir", pkiDir, "--pkcs11-module", softHsm.modulePath(),
                          "--token-label", "pkicli", "--init-token", "--pin-env", kPinEnv,
                          "--so-pin-env", "OTAFLEET_PKICLI_SO_PIN"});
    QVERIFY2(init.exitCode == 0, init.err.constData());
    const Run issued = ctl({"pki", "issue", "release-signer", "--pki", pkiDir, "--name",
                            "hsm-signer", "--pin-env", kPinEnv, "--json"});
    QVERIFY2(issued.exitCode == 0, issued.err.constData());
    QCOMPARE(QJsonDocument::fromJson(issued.out).object().value(QStringLiteral("key_location")),
             QJsonValue(QStringLiteral("token")));
    const QJsonObject entry = issuedEntry(pkiDir, QStringLiteral("hsm-signer"));
    const QString key = entry.value(QStringLiteral("key")).toString();
    QVERIFY2(key.startsWith(QStringLiteral("pkcs11:")), qPrintable(key));
    QVERIFY(key.contains(QStringLiteral("object=hsm-signer")));
    QVERIFY(!key.contains(QStringLiteral("pin")));
    QVERIFY(!QFileInfo::exists(pkiDir + QStringLiteral("/issued/hsm-signer.key")));
    QVERIFY(!readAll(pkiDir + QStringLiteral("/pki.json")).contains("1234"));
    QVERIFY(writeAll(path(QStringLiteral("token.csr")), makeCsr(false, nullptr)));
    const Run csr = ctl({"pki", "issue", "release-signer", "--pki", pkiDir, "--name", "outside",
                         "--csr", path(QStringLiteral("token.csr")), "--pin-env", kPinEnv});
    QCOMPARE(csr.exitCode, 1);
    QVERIFY2(csr.err.contains("[pki.csr-not-allowed]"), csr.err.constData());

    // The token key signs; revoking it and publishing a CRL signed by the token's release CA
    // key makes verification refuse it.
    auto pki = Pki::open(pkiDir);
    QVERIFY(pki);
    const QString bundle = makeBundle(QStringLiteral("hsm.otab"));
    const Status signedOk = signAs(bundle, *pki, QStringLiteral("hsm-signer"));
    QVERIFY2(signedOk, qPrintable(signedOk ? QString() : signedOk.error().toString()));
    bundle::VerifyPolicy policy;
    policy.trust = *pki->releaseTrust(QStringList{});
    const auto verified = bundle::BundleVerifier::verifyFile(bundle, policy);
    QVERIFY(verified);
    QCOMPARE(verified->signers.constFirst().certificate.commonName(), QStringLiteral("hsm-signer"));

    QCOMPARE(ctl({"pki", "revoke", "--pki", pkiDir, "--name", "hsm-signer"}).exitCode, 0);
    const QString crlPath = path(QStringLiteral("token.crl"));
    const Run crl = ctl({"pki", "crl", "--pki", pkiDir, "-o", crlPath, "--pin-env", kPinEnv});
    QVERIFY2(crl.exitCode == 0, crl.err.constData());
    policy.trust = *pki->releaseTrust(QStringList{crlPath});
    const auto refused = bundle::BundleVerifier::verifyFile(bundle, policy);
    QVERIFY(!refused);
    QCOMPARE(refused.error().code, QStringLiteral("crypto.signer-revoked"));
}

QTEST_GUILESS_MAIN(TestPkiCli)
#include "tst_pkicli.moc"
