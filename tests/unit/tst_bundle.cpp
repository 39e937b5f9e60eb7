// Bundles end to end on real files and a real PKI: create, sign, verify, and the threat table of
// DESIGN.md section 5, each threat refused with its own error code.

#include "TestPki.h"
#include "bundle/Bundle.h"
#include "bundle/BundleBuilder.h"
#include "bundle/BundleVerifier.h"
#include "crypto/Sha256.h"

#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;
using namespace otafleet::bundle;
using otafleet::test::TestPki;

namespace {

// Relative to the real clock: the test PKI's certificates start to be valid when it is made.
const QDateTime kNow = QDateTime::fromSecsSinceEpoch(QDateTime::currentSecsSinceEpoch(), Qt::UTC);
const QDateTime kCreated = kNow.addDays(-1);
constexpr quint64 kSecurityVersion = 5;

QByteArray readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

bool writeAll(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

// Deterministic, not compressible, and larger than one 1 MiB copy block.
QByteArray payloadBytes(qsizetype size, char seed) {
    QByteArray bytes(size, '\0');
    quint32 x = 2463534242U ^ static_cast<quint32>(seed);
    for (qsizetype i = 0; i < size; ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes[i] = static_cast<char>(x);
    }
    return bytes;
}

class CollectingSink final : public PayloadSink {
public:
    Status write(QByteArrayView data) override {
        bytes.append(data);
        return {};
    }
    QByteArray bytes;
};

}  // namespace

class TestBundle : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void createSignVerify();
    void streamPayloadDeliversExactBytes();
    void streamPayloadNoticesShrunkFile();
    void createRefusesBadInput_data();
    void createRefusesBadInput();
    void threats_data();
    void threats();
    void opensslAcceptsSignature();
    void secondSignerMeetsThreshold();
    void signsWithSoftHsmToken();
    void committedFuzzSeedStillParses();

private:
    [[nodiscard]] QString path(const QString& name) const { return m_dir.filePath(name); }
    CreateOptions options(const QString& rootfs, const QString& app) const;
    Status sign(const QString& bundle, const TestPki& pki) const;
    VerifyPolicy policy() const;
    QString variant(const QString& name, const std::function<void(QByteArray&)>& edit) const;

    QTemporaryDir m_dir;
    std::optional<TestPki> m_pki;
    std::optional<TestPki> m_otherPki;  // a second fleet whose root this fleet does not trust
    QString m_signed;                   // created and signed in initTestCase
    QString m_rootfs;
    QString m_app;
};

void TestBundle::initTestCase() {
    QVERIFY(m_dir.isValid());
    m_rootfs = path(QStringLiteral("rootfs.img"));
    m_app = path(QStringLiteral("app.bin"));
    QVERIFY(writeAll(m_rootfs, payloadBytes(2 * 1024 * 1024 + 12345, 'r')));
    QVERIFY(writeAll(m_app, payloadBytes(777, 'a')));
    auto pki = TestPki::create(path(QStringLiteral("fleet")), false);
    QVERIFY2(pki.has_value(), qPrintable(pki ? QString() : pki.error().toString()));
    m_pki = std::move(*pki);
    auto other = TestPki::create(path(QStringLiteral("other-fleet")), false);
    QVERIFY2(other.has_value(), qPrintable(other ? QString() : other.error().toString()));
    m_otherPki = std::move(*other);

    m_signed = path(QStringLiteral("signed.otab"));
    const auto created = createBundle(options(m_rootfs, m_app), m_signed);
    QVERIFY2(created.has_value(), qPrintable(created ? QString() : created.error().toString()));
    const auto signedOk = sign(m_signed, *m_pki);
    QVERIFY2(signedOk.has_value(), qPrintable(signedOk ? QString() : signedOk.error().toString()));
}

CreateOptions TestBundle::options(const QString& rootfs, const QString& app) const {
    CreateOptions o;
    o.version = SemVer(1, 4, 2);
    o.securityVersion = kSecurityVersion;
    o.hardware = {QStringLiteral("rev-a"), QStringLiteral("rev-b")};
    o.created = kCreated;
    o.expires = kCreated.addDays(60);
    o.releaseNotes = QStringLiteral("Fixes the watchdog.");
    o.payloads = {PayloadInput{QStringLiteral("rootfs"), QStringLiteral("rootfs"), rootfs},
                  PayloadInput{QStringLiteral("app"), QStringLiteral("app"), app}};
    return o;
}

Status TestBundle::sign(const QString& bundle, const TestPki& pki) const {
    auto key = pki.pki.openReleaseKey(pki.pinProvider());
    auto cert = pki.pki.releaseSignerCertificate();
    auto chain = pki.pki.releaseSignerChain();
    if (!key || !cert || !chain) {
        return fail(!key ? key.error() : !cert ? cert.error() : chain.error());
    }
    return signBundle(bundle, **key, *cert, *chain);
}

VerifyPolicy TestBundle::policy() const {
    VerifyPolicy p;
    p.trust = *m_pki->pki.releaseTrust();
    p.hardware = QStringLiteral("rev-b");
    p.minSecurityVersion = kSecurityVersion;
    p.now = kNow;
    p.agentVersion = SemVer(0, 1, 0);
    return p;
}

// A copy of the signed bundle with its bytes edited.
QString TestBundle::variant(const QString& name,
                            const std::function<void(QByteArray&)>& edit) const {
    QByteArray bytes = readAll(m_signed);
    edit(bytes);
    const QString out = path(name + QStringLiteral(".otab"));
    return writeAll(out, bytes) ? out : QString();
}

void TestBundle::createSignVerify() {
    QList<qint64> seen;
    const auto verified =
        BundleVerifier::verifyFile(m_signed, policy(), [&](qint64 done, qint64 total) {
            seen.append(done);
            QCOMPARE(total, qint64{2 * 1024 * 1024 + 12345 + 777});
        });
    QVERIFY2(verified.has_value(), qPrintable(verified ? QString() : verified.error().toString()));
    QCOMPARE(verified->signers.size(), 1);
    QCOMPARE(verified->manifest.version, SemVer(1, 4, 2));
    QCOMPARE(verified->manifest.payloads.size(), 2);
    QCOMPARE(verified->manifest.payloads.at(0).sha256, crypto::Sha256::hash(readAll(m_rootfs)));
    QCOMPARE(seen.last(), qint64{2 * 1024 * 1024 + 12345 + 777});
    QVERIFY(std::is_sorted(seen.begin(), seen.end()));

    const auto reader = BundleReader::open(m_signed);
    QVERIFY(reader.has_value());
    QCOMPARE(reader->fileSize(), QFileInfo(m_signed).size());
    QCOMPARE(reader->payloadOffset(2), reader->fileSize());
    QCOMPARE(reader->manifestBytes(), reader->manifest().serialize());
    // The container reads the same from memory as from the file.
    const auto fromMemory = BundleReader::fromBytes(readAll(m_signed));
    QVERIFY(fromMemory.has_value());
    QCOMPARE(fromMemory->signature(), reader->signature());
}

void TestBundle::streamPayloadDeliversExactBytes() {
    const auto reader = BundleReader::open(m_signed);
    QVERIFY(reader.has_value());
    CollectingSink rootfs;
    CollectingSink app;
    QVERIFY(BundleVerifier::streamPayload(*reader, 0, rootfs).has_value());
    QVERIFY(BundleVerifier::streamPayload(*reader, 1, app).has_value());
    QCOMPARE(rootfs.bytes, readAll(m_rootfs));
    QCOMPARE(app.bytes, readAll(m_app));
}

void TestBundle::streamPayloadNoticesShrunkFile() {
    // The file passed the frame check, then lost its tail before the payload was streamed.
    const QString file = path(QStringLiteral("shrinking.otab"));
    QVERIFY(QFile::copy(m_signed, file));
    const auto reader = BundleReader::open(file);
    QVERIFY(reader.has_value());
    QVERIFY(QFile::resize(file, reader->payloadOffset(1) - 10));
    CollectingSink sink;
    const auto streamed = BundleVerifier::streamPayload(*reader, 0, sink);
    QVERIFY(!streamed.has_value());
    QCOMPARE(streamed.error().code, QStringLiteral("bundle.truncated"));
}

void TestBundle::createRefusesBadInput_data() {
    QTest::addColumn<int>("change");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("no payloads") << 0 << QStringLiteral("payloads");
    QTest::newRow("missing payload file") << 1 << QStringLiteral("does not exist");
    QTest::newRow("no hardware") << 2 << QStringLiteral("hardware");
    QTest::newRow("bad payload name") << 3 << QStringLiteral("must be 1 to 64");
    QTest::newRow("payload name twice") << 4 << QStringLiteral("twice");
    QTest::newRow("expires before created") << 5 << QStringLiteral("expiry");
    QTest::newRow("payload is a folder") << 6 << QStringLiteral("regular file");
}

void TestBundle::createRefusesBadInput() {
    QFETCH(int, change);
    QFETCH(QString, mentions);
    CreateOptions o = options(m_rootfs, m_app);
    switch (change) {
        case 0:
            o.payloads.clear();
            break;
        case 1:
            o.payloads[1].path = path(QStringLiteral("no-such-file"));
            break;
        case 2:
            o.hardware.clear();
            break;
        case 3:
            o.payloads[0].name = QStringLiteral("../rootfs");
            break;
        case 4:
            o.payloads[1].name = o.payloads[0].name;
            break;
        case 5:
            o.expires = kCreated.addSecs(-1);
            break;
        case 6:
            o.payloads[0].path = m_dir.path();
            break;
        default:
            QFAIL("unknown change");
    }
    const QString out = path(QStringLiteral("refused.otab"));
    const auto created = createBundle(o, out);
    QVERIFY(!created.has_value());
    QCOMPARE(created.error().code, QStringLiteral("bundle.invalid-input"));
    QVERIFY2(created.error().message.contains(mentions), qPrintable(created.error().message));
    QVERIFY(!QFile::exists(out));
}

void TestBundle::threats_data() {
    QTest::addColumn<QString>("threat");
    QTest::addColumn<QString>("code");
    const auto row = [](const char* threat, const char* code) {
        QTest::newRow(threat) << QString::fromLatin1(threat) << QString::fromLatin1(code);
    };
    row("none", "");
    row("signed by an untrusted key", "crypto.untrusted-signer");
    row("unsigned", "bundle.unsigned");
    row("payload bit flipped", "bundle.payload-corrupted");
    row("payload from another bundle", "bundle.payload-corrupted");
    row("cut inside the magic", "bundle.not-a-bundle");
    row("cut inside the header", "bundle.truncated");
    row("cut inside the manifest", "bundle.truncated");
    row("cut inside the signature", "bundle.truncated");
    row("cut inside a payload", "bundle.truncated");
    row("cut by one byte", "bundle.truncated");
    row("trailing bytes", "bundle.trailing-data");
    row("lower security version", "bundle.rollback");
    row("expired", "bundle.expired");
    row("other hardware", "bundle.wrong-hardware");
    row("older agent", "bundle.agent-too-old");
    row("manifest edited after signing", "crypto.signature-invalid");
}

void TestBundle::threats() {
    QFETCH(QString, threat);
    QFETCH(QString, code);
    const auto reader = BundleReader::open(m_signed);
    QVERIFY(reader.has_value());
    const qint64 manifestEnd = kHeaderSize + reader->manifestBytes().size();
    const auto cutAt = [&](qint64 size) {
        return variant(threat, [size](QByteArray& b) { b.truncate(size); });
    };
    VerifyPolicy p = policy();
    QString file = m_signed;

    if (threat == u"signed by an untrusted key") {
        file = path(QStringLiteral("untrusted.otab"));
        QVERIFY(createBundle(options(m_rootfs, m_app), file).has_value());
        QVERIFY(sign(file, *m_otherPki).has_value());
    } else if (threat == u"unsigned") {
        file = path(QStringLiteral("unsigned.otab"));
        QVERIFY(createBundle(options(m_rootfs, m_app), file).has_value());
    } else if (threat == u"payload bit flipped") {
        const qint64 at = reader->payloadOffset(0) + 1024 * 1024 + 3;
        file = variant(threat, [at](QByteArray& b) { b[at] = static_cast<char>(b[at] ^ 0x10); });
    } else if (threat == u"payload from another bundle") {
        // Same sizes, other content: the signed manifest of one release, the bytes of another.
        const QString otherApp = path(QStringLiteral("other-app.bin"));
        QVERIFY(writeAll(otherApp, payloadBytes(777, 'b')));
        const QString other = path(QStringLiteral("other.otab"));
        QVERIFY(createBundle(options(m_rootfs, otherApp), other).has_value());
        const QByteArray otherBytes = readAll(other);
        const qint64 at = reader->payloadOffset(1);
        file = variant(threat, [&](QByteArray& b) { b.replace(at, 777, otherBytes.right(777)); });
    } else if (threat == u"cut inside the magic") {
        file = cutAt(5);
    } else if (threat == u"cut inside the header") {
        file = cutAt(13);
    } else if (threat == u"cut inside the manifest") {
        file = cutAt(kHeaderSize + 10);
    } else if (threat == u"cut inside the signature") {
        file = cutAt(manifestEnd + reader->signature().size() / 2);
    } else if (threat == u"cut inside a payload") {
        file = cutAt(reader->payloadOffset(0) + 1024 * 1024 + 1);
    } else if (threat == u"cut by one byte") {
        file = cutAt(reader->fileSize() - 1);
    } else if (threat == u"trailing bytes") {
        file = variant(threat, [](QByteArray& b) { b.append("more", 4); });
    } else if (threat == u"lower security version") {
        p.minSecurityVersion = kSecurityVersion + 1;
    } else if (threat == u"expired") {
        p.now = kCreated.addDays(61);
    } else if (threat == u"other hardware") {
        p.hardware = QStringLiteral("rev-z");
    } else if (threat == u"older agent") {
        p.agentVersion = SemVer(0, 0, 9);
    } else if (threat == u"manifest edited after signing") {
        // Same length, so the frame stays valid and only the signature can notice.
        file = variant(threat, [&](QByteArray& b) {
            const qsizetype at = b.indexOf("\"security_version\":5", kHeaderSize);
            QVERIFY(at > 0 && at < manifestEnd);
            b[at + 19] = '9';
        });
    }
    QVERIFY(!file.isEmpty());

    const auto verified = BundleVerifier::verifyFile(file, p);
    if (code.isEmpty()) {
        QVERIFY2(verified.has_value(),
                 qPrintable(verified ? QString() : verified.error().toString()));
        return;
    }
    QVERIFY2(!verified.has_value(), "a bundle that must be refused was accepted");
    QCOMPARE(verified.error().code, code);
    QVERIFY(verified.error().message.size() > 40);  // a sentence, not a bare code
}

void TestBundle::opensslAcceptsSignature() {
    const QString openssl = QStandardPaths::findExecutable(QStringLiteral("openssl"));
    if (openssl.isEmpty()) {
        QSKIP("the openssl command is not installed");
    }
    const auto reader = BundleReader::open(m_signed);
    QVERIFY(reader.has_value());
    const QString manifest = path(QStringLiteral("manifest.json"));
    const QString tampered = path(QStringLiteral("tampered.json"));
    const QString signature = path(QStringLiteral("manifest.sig"));
    QVERIFY(writeAll(manifest, reader->manifestBytes()));
    QVERIFY(writeAll(tampered, QByteArray(reader->manifestBytes()).replace("rev-a", "rev-z")));
    QVERIFY(writeAll(signature, reader->signature()));
    const auto cmsVerify = [&](const QString& content) {
        QProcess p;
        p.start(openssl,
                {QStringLiteral("cms"), QStringLiteral("-verify"), QStringLiteral("-binary"),
                 QStringLiteral("-inform"), QStringLiteral("DER"), QStringLiteral("-in"), signature,
                 QStringLiteral("-content"), content, QStringLiteral("-CAfile"),
                 m_pki->pki.rootCaPath(), QStringLiteral("-purpose"), QStringLiteral("any"),
                 QStringLiteral("-out"), QStringLiteral("/dev/null")});
        if (!p.waitForFinished(30000)) {
            return -1;
        }
        if (p.exitCode() != 0) {
            qInfo().noquote() << "openssl:" << QString::fromLocal8Bit(p.readAllStandardError());
        }
        return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    };
    QCOMPARE(cmsVerify(manifest), 0);
    QVERIFY(cmsVerify(tampered) != 0);
}

void TestBundle::secondSignerMeetsThreshold() {
    // A second, distinct signer: the other fleet's release key. Trusting both roots stands in for
    // one PKI with two release signers (Pki has no API to issue a second signer yet).
    const QString file = path(QStringLiteral("two-signers.otab"));
    QVERIFY(QFile::copy(m_signed, file));
    VerifyPolicy p = policy();
    p.trust.anchors.append(m_otherPki->pki.releaseTrust()->anchors);
    p.threshold = 2;
    const auto once = BundleVerifier::verifyFile(file, p);
    QVERIFY(!once.has_value());
    QCOMPARE(once.error().code, QStringLiteral("crypto.threshold-not-met"));

    const auto added = sign(file, *m_otherPki);
    QVERIFY2(added.has_value(), qPrintable(added ? QString() : added.error().toString()));
    const auto twice = BundleVerifier::verifyFile(file, p);
    QVERIFY2(twice.has_value(), qPrintable(twice ? QString() : twice.error().toString()));
    QCOMPARE(twice->signers.size(), 2);
    // Re-signing kept the manifest and payloads byte for byte.
    const auto before = BundleReader::open(m_signed);
    const auto after = BundleReader::open(file);
    QVERIFY(before && after);
    QCOMPARE(after->manifestBytes(), before->manifestBytes());
    QCOMPARE(readAll(file).right(after->fileSize() - after->payloadOffset(0)),
             readAll(m_signed).right(before->fileSize() - before->payloadOffset(0)));
}

void TestBundle::signsWithSoftHsmToken() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    auto tokenPki = TestPki::create(dir.path(), true);
    QVERIFY2(tokenPki.has_value(), qPrintable(tokenPki ? QString() : tokenPki.error().toString()));
    const QString file = dir.filePath(QStringLiteral("token.otab"));
    QVERIFY(createBundle(options(m_rootfs, m_app), file).has_value());
    const auto signedOk = sign(file, *tokenPki);
    QVERIFY2(signedOk.has_value(), qPrintable(signedOk ? QString() : signedOk.error().toString()));
    VerifyPolicy p = policy();
    p.trust = *tokenPki->pki.releaseTrust();
    const auto verified = BundleVerifier::verifyFile(file, p);
    QVERIFY2(verified.has_value(), qPrintable(verified ? QString() : verified.error().toString()));
    // This fleet's root does not vouch for the token fleet's signer.
    const auto foreign = BundleVerifier::verifyFile(file, policy());
    QVERIFY(!foreign.has_value());
    QCOMPARE(foreign.error().code, QStringLiteral("crypto.untrusted-signer"));
}

// With OTAFLEET_REGENERATE_FUZZ_SEEDS=1 the seeds of fuzz_bundle_container and fuzz_cms are
// rewritten from this fleet (small payloads keep them fast to mutate); either way the committed
// container seed must still be a valid signed frame as the format evolves.
void TestBundle::committedFuzzSeedStillParses() {
    const QString corpus = QStringLiteral(OTAFLEET_SOURCE_DIR "/tests/fuzz/corpus/");
    const bool regenerate = qEnvironmentVariableIntValue("OTAFLEET_REGENERATE_FUZZ_SEEDS") == 1;
    if (regenerate) {
        const QString small = path(QStringLiteral("small.bin"));
        QVERIFY(writeAll(small, QByteArrayLiteral("0123456789abcdef")));
        CreateOptions o = options(small, small);
        o.payloads.removeLast();
        o.expires.reset();
        o.signatureArea = 4096;  // room for both seed signatures; small inputs fuzz faster
        const QString unsignedSeed = corpus + QStringLiteral("bundle_container/unsigned.otab");
        const QString signedSeed = corpus + QStringLiteral("bundle_container/signed.otab");
        QVERIFY(createBundle(o, unsignedSeed).has_value());
        QVERIFY(QFile::remove(signedSeed) || !QFile::exists(signedSeed));
        QVERIFY(QFile::copy(unsignedSeed, signedSeed));
        QVERIFY(sign(signedSeed, *m_pki).has_value());
        QVERIFY(writeAll(corpus + QStringLiteral("cms/one-signer.der"),
                         BundleReader::open(signedSeed)->signature()));
        const QString twice = path(QStringLiteral("seed-two-signers.otab"));
        QVERIFY(QFile::copy(signedSeed, twice));
        QVERIFY(sign(twice, *m_otherPki).has_value());
        QVERIFY(writeAll(corpus + QStringLiteral("cms/two-signers.der"),
                         BundleReader::open(twice)->signature()));
    }
    const QByteArray seed = readAll(corpus + QStringLiteral("bundle_container/signed.otab"));
    QVERIFY(!seed.isEmpty());
    const auto reader = BundleReader::fromBytes(seed);
    QVERIFY2(reader.has_value(), qPrintable(reader ? QString() : reader.error().toString()));
    QVERIFY(!reader->signature().isEmpty());
    const auto verified = BundleVerifier::verifyMetadata(*reader, policy());
    if (regenerate) {  // signed by this run's fleet: a real, verifiable bundle
        QVERIFY2(verified.has_value(),
                 qPrintable(verified ? QString() : verified.error().toString()));
        return;
    }
    QVERIFY(!verified.has_value());  // signed by the fleet of the run that made it
    QCOMPARE(verified.error().code, QStringLiteral("crypto.untrusted-signer"));
}

QTEST_GUILESS_MAIN(TestBundle)
#include "tst_bundle.moc"
