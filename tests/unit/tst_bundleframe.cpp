// The container's signature area: signing (and two-person signing) writes only the header and
// the spare signature copy, never reads or moves the payloads, keeps the old signature until the
// new one is durable, falls back to one rewrite when the area is full, and still reads format 1.
#include "TestPki.h"
#include "VerifyOk.h"

#include "bundle/Bundle.h"
#include "bundle/BundleBuilder.h"
#include "bundle/BundleVerifier.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <QtEndian>

#include <sys/stat.h>

using namespace otafleet;
using namespace otafleet::bundle;
using otafleet::test::TestPki;

namespace {

constexpr qint64 kPayloadSize = 8 * 1024 * 1024;

QByteArray readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

bool writeAll(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

ino_t inodeOf(const QString& path) {
    struct stat st {};
    return ::stat(QFile::encodeName(path).constData(), &st) == 0 ? st.st_ino : 0;
}

// Bytes this process has read through read(2) and friends so far (/proc/self/io "rchar").
qint64 bytesReadSoFar() {
    for (const QByteArray& line : readAll(QStringLiteral("/proc/self/io")).split('\n')) {
        if (line.startsWith("rchar:"))
            return line.mid(6).trimmed().toLongLong();
    }
    return -1;
}

void setU32(QByteArray& bytes, qsizetype offset, quint32 value) {
    qToBigEndian<quint32>(value, bytes.data() + offset);
}

}  // namespace

class TestBundleFrame : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::optional<TestPki> m_pki;
    std::optional<TestPki> m_otherPki;  // a second signer (its root is trusted as well)
    QString m_payload;

    QString path(const QString& name) const { return m_dir.filePath(name); }

    Result<QString> created(const QString& name, qint64 signatureArea = kDefaultSignatureArea) {
        CreateOptions o;
        o.version = SemVer(2, 0, 0);
        o.hardware = {QStringLiteral("rev-a")};
        o.signatureArea = signatureArea;
        o.payloads = {PayloadInput{QStringLiteral("rootfs"), QStringLiteral("rootfs"), m_payload}};
        const QString file = path(name);
        if (auto ok = createBundle(o, file); !ok)
            return fail(ok.error());
        return file;
    }

    static Status sign(const QString& bundle, const TestPki& pki) {
        auto key = pki.pki.openReleaseKey(pki.pinProvider());
        auto cert = pki.pki.releaseSignerCertificate();
        auto chain = pki.pki.releaseSignerChain();
        if (!key || !cert || !chain)
            return fail(!key ? key.error() : !cert ? cert.error() : chain.error());
        return signBundle(bundle, **key, *cert, *chain);
    }

    VerifyPolicy twoRoots(int threshold) const {
        VerifyPolicy p;
        p.trust = *m_pki->pki.releaseTrust();
        p.trust.anchors.append(m_otherPki->pki.releaseTrust()->anchors);
        p.threshold = threshold;
        return p;
    }

    // The bytes from the payloads' start to the end of the file.
    static QByteArray payloadRegion(const QString& file) {
        const auto reader = BundleReader::open(file);
        return reader ? readAll(file).mid(reader->payloadOffset(0)) : QByteArray();
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        auto pki = TestPki::create(path(QStringLiteral("fleet")), false);
        VERIFY_OK(pki);
        m_pki = std::move(*pki);
        auto other = TestPki::create(path(QStringLiteral("other")), false);
        VERIFY_OK(other);
        m_otherPki = std::move(*other);
        m_payload = path(QStringLiteral("rootfs.img"));
        QByteArray bytes(kPayloadSize, '\0');
        for (qsizetype i = 0; i < bytes.size(); ++i)
            bytes[i] = char((i * 7919) >> 3);
        QVERIFY(writeAll(m_payload, bytes));
    }

    // Both signatures land in place: same file, payloads untouched and not even read, and the
    // previous signature stays in the spare copy until the header switches.
    void signsInPlaceWithoutReadingPayloads() {
        auto file = created(QStringLiteral("in-place.otab"));
        VERIFY_OK(file);
        const ino_t inode = inodeOf(*file);
        const QByteArray payloads = payloadRegion(*file);
        QCOMPARE(payloads.size(), kPayloadSize);

        const qint64 before = bytesReadSoFar();
        QVERIFY(before >= 0);
        VERIFY_OK(sign(*file, *m_pki));
        const qint64 firstRead = bytesReadSoFar() - before;
        const auto first = BundleReader::open(*file);
        VERIFY_OK(first);
        const QByteArray oneSignerSignature = first->signature();
        const qint64 again = bytesReadSoFar();
        VERIFY_OK(sign(*file, *m_otherPki));
        const qint64 secondRead = bytesReadSoFar() - again;
        // Keys, certificates and the bundle's metadata: kilobytes, not the 8 MiB payload.
        QVERIFY2(firstRead < kPayloadSize / 8, qPrintable(QString::number(firstRead)));
        QVERIFY2(secondRead < kPayloadSize / 8, qPrintable(QString::number(secondRead)));

        QCOMPARE(inodeOf(*file), inode);
        QCOMPARE(payloadRegion(*file), payloads);
        const auto reader = BundleReader::open(*file);
        VERIFY_OK(reader);
        QCOMPARE(reader->layout().version, kContainerVersion);
        QCOMPARE(reader->layout().activeCopy, 0);  // unsigned (0) -> copy 1 -> copy 0
        const auto verified = BundleVerifier::verifyFile(*file, twoRoots(2));
        VERIFY_OK(verified);
        QCOMPARE(verified->signers.size(), 2);

        // The spare copy (1) still holds the one-signer signature: had the process died before
        // the header write, the old header would point at it, and that bundle verifies.
        const FrameLayout& layout = reader->layout();
        QByteArray frozen = readAll(*file);
        QCOMPARE(frozen.mid(layout.signatureOffset(1), oneSignerSignature.size()),
                 oneSignerSignature);
        FrameLayout crashed = layout;
        crashed.activeCopy = 1;
        crashed.signatureSize = oneSignerSignature.size();
        frozen.replace(0, kHeaderSize, crashed.encodeHeader());
        const QString crashedFile = path(QStringLiteral("crashed.otab"));
        QVERIFY(writeAll(crashedFile, frozen));
        const auto oneSigner = BundleVerifier::verifyFile(crashedFile, twoRoots(1));
        VERIFY_OK(oneSigner);
        QCOMPARE(oneSigner->signers.size(), 1);
    }

    // A signature that does not fit the area: one rewrite into a larger area, payloads intact.
    void fullAreaRewritesOnce() {
        auto file = created(QStringLiteral("small-area.otab"), 256);
        VERIFY_OK(file);
        const QByteArray payloads = payloadRegion(*file);
        const ino_t inode = inodeOf(*file);
        VERIFY_OK(sign(*file, *m_pki));
        QVERIFY(inodeOf(*file) != inode);  // a new file, renamed over the old one
        const auto reader = BundleReader::open(*file);
        VERIFY_OK(reader);
        QVERIFY(reader->layout().signatureArea >= kDefaultSignatureArea);
        QCOMPARE(payloadRegion(*file), payloads);
        VERIFY_OK(BundleVerifier::verifyFile(*file, twoRoots(1)));
    }

    // Format 1 (24-byte header, one signature) is still read, and signing it upgrades it.
    void readsAndUpgradesFormatOne() {
        auto file = created(QStringLiteral("modern.otab"));
        VERIFY_OK(file);
        VERIFY_OK(sign(*file, *m_pki));
        const auto modern = BundleReader::open(*file);
        VERIFY_OK(modern);
        QByteArray legacy(kLegacyHeaderSize, '\0');
        legacy.replace(0, kMagic.size(), kMagic.toByteArray());
        setU32(legacy, 8, kLegacyContainerVersion);
        setU32(legacy, 12, quint32(modern->manifestBytes().size()));
        setU32(legacy, 16, quint32(modern->signature().size()));
        legacy += modern->manifestBytes() + modern->signature() + payloadRegion(*file);
        const QString legacyFile = path(QStringLiteral("legacy.otab"));
        QVERIFY(writeAll(legacyFile, legacy));
        const auto old = BundleReader::open(legacyFile);
        VERIFY_OK(old);
        QCOMPARE(old->layout().version, kLegacyContainerVersion);
        QCOMPARE(old->signature(), modern->signature());
        VERIFY_OK(BundleVerifier::verifyFile(legacyFile, twoRoots(1)));

        VERIFY_OK(sign(legacyFile, *m_otherPki));
        const auto upgraded = BundleReader::open(legacyFile);
        VERIFY_OK(upgraded);
        QCOMPARE(upgraded->layout().version, kContainerVersion);
        QCOMPARE(BundleVerifier::verifyFile(legacyFile, twoRoots(2))->signers.size(), 2);
    }

    void refusesBadHeaders_data() {
        QTest::addColumn<int>("offset");
        QTest::addColumn<quint32>("value");
        QTest::addColumn<QString>("code");
        QTest::newRow("format 3") << 8 << 3U << QStringLiteral("bundle.unsupported-format");
        QTest::newRow("signature larger than its area")
            << 16 << quint32(kDefaultSignatureArea + 1)
            << QStringLiteral("bundle.signature-too-large");
        QTest::newRow("area beyond the limit")
            << 20 << 0x7fffffffU << QStringLiteral("bundle.signature-too-large");
        QTest::newRow("third signature copy")
            << 24 << 2U << QStringLiteral("bundle.unsupported-format");
        QTest::newRow("reserved word set")
            << 28 << 1U << QStringLiteral("bundle.unsupported-format");
        QTest::newRow("area larger than the file")
            << 20 << quint32(kDefaultSignatureArea * 8) << QStringLiteral("bundle.truncated");
    }
    void refusesBadHeaders() {
        QFETCH(int, offset);
        QFETCH(quint32, value);
        QFETCH(QString, code);
        static const QString signedFile = [this] {
            auto file = created(QStringLiteral("headers.otab"));
            return file && sign(*file, *m_pki) ? *file : QString();
        }();
        QVERIFY(!signedFile.isEmpty());
        QByteArray bytes = readAll(signedFile);
        setU32(bytes, offset, value);
        const auto reader = BundleReader::fromBytes(bytes);
        QVERIFY(!reader);
        QCOMPARE(reader.error().code, code);
        const QString file = path(QStringLiteral("bad-header.otab"));
        QVERIFY(writeAll(file, bytes));
        const auto opened = BundleReader::open(file);
        QVERIFY(!opened);
        QCOMPARE(opened.error().code, code);
    }
};

QTEST_GUILESS_MAIN(TestBundleFrame)
#include "tst_bundleframe.moc"
