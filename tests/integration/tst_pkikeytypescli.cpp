// `otafleetctl pki init --key-type` and `pki issue release-signer --key-type` through the real
// binary, for PEM and SoftHSM PKIs: then `bundle sign` with two signers of different key types
// and `bundle verify --threshold 2`, and the combinations that cannot work refused with codes.
#include "ProcessRun.h"
#include "SoftHsmEnvironment.h"

#include "bundle/BundleBuilder.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;

namespace {

constexpr int kProcessTimeoutMs = 60000;  // RSA 3072 key generation for six keys
constexpr const char* kPinEnv = "OTAFLEET_PKICLI_PIN";

using Run = test::ProcessRun;

Run otafleetctl(const QStringList& args) {
    return test::runProcess(QStringLiteral(OTAFLEET_BIN_DIR "/otafleetctl"), args,
                            kProcessTimeoutMs);
}

Run ctl(std::initializer_list<QAnyStringView> args) {
    return otafleetctl(test::argList(args));
}

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
    QTest::addColumn<QString>("initCode");  // empty: init works
    QTest::addColumn<QString>("signCode");  // empty: the init-made signer signs
    QTest::newRow("p384 pem, rsa-pss signer")
        << s("p384") << s("rsa-pss") << false << s("") << s("");
    QTest::newRow("rsa-pss pem, p256 signer")
        << s("rsa-pss") << s("p256") << false << s("") << s("");
    QTest::newRow("ed25519 pem, p384 signer")
        << s("ed25519") << s("p384") << false << s("") << s("crypto.key-type-unsupported");
    QTest::newRow("p384 token, rsa-pss signer")
        << s("p384") << s("rsa-pss") << true << s("") << s("");
    QTest::newRow("ed25519 token")
        << s("ed25519") << s("") << true << s("crypto.key-type-unsupported-by-token") << s("");
}

void TestPkiKeyTypesCli::keyTypes() {
    QFETCH(QString, initType);
    QFETCH(QString, issueType);
    QFETCH(bool, token);
    QFETCH(QString, initCode);
    QFETCH(QString, signCode);
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
    if (!initCode.isEmpty()) {
        QCOMPARE(made.exitCode, 1);
        QVERIFY2(made.err.contains(QStringLiteral("[%1]").arg(initCode).toUtf8()),
                 made.err.constData());
        return;
    }
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
    if (!signCode.isEmpty()) {
        QCOMPARE(first.exitCode, 1);
        QVERIFY2(first.err.contains(QStringLiteral("[%1]").arg(signCode).toUtf8()),
                 first.err.constData());
    } else {
        QVERIFY2(first.exitCode == 0, first.err.constData());
    }
    const Run second =
        ctl({"bundle", "sign", bundle, "--pki", pkiDir, "--signer", "other", "--pin-env", kPinEnv});
    QVERIFY2(second.exitCode == 0, second.err.constData());
    const QString threshold = signCode.isEmpty() ? s("2") : s("1");
    const Run verified =
        ctl({"bundle", "verify", bundle, "--pki", pkiDir, "--threshold", threshold});
    QVERIFY2(verified.exitCode == 0, verified.err.constData());
}

QTEST_GUILESS_MAIN(TestPkiKeyTypesCli)
#include "tst_pkikeytypescli.moc"
