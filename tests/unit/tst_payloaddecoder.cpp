// zstd payloads from createBundle to the bytes a slot receives: compression while the bundle is
// made, and PayloadDecoder's bounds (target size, target hash, truncated or hostile frames).

#include "bundle/Bundle.h"
#include "bundle/BundleBuilder.h"
#include "bundle/BundleVerifier.h"
#include "bundle/PayloadDecoder.h"
#include "crypto/Sha256.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;
using namespace otafleet::bundle;

namespace {

class CollectingSink final : public PayloadSink {
public:
    Status write(QByteArrayView data) override {
        bytes.append(data);
        return {};
    }
    QByteArray bytes;
};

bool writeAll(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

}  // namespace

class TestPayloadDecoder : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void compressedPayloadDecodes();
    void refusesBadStreams_data();
    void refusesBadStreams();
    void refusesDelta();

private:
    QTemporaryDir m_dir;
    QByteArray m_original;
    std::optional<BundleReader> m_reader;  // zstd rootfs, raw app
    QByteArray m_stored;                   // the zstd payload's stored bytes
};

void TestPayloadDecoder::initTestCase() {
    QVERIFY(m_dir.isValid());
    // Compressible and larger than one copy block, so several zstd blocks are produced.
    for (int i = 0; m_original.size() < 1536 * 1024; ++i) {
        m_original += "firmware line " + QByteArray::number(i % 1000) + '\n';
    }
    const QString rootfs = m_dir.filePath(QStringLiteral("rootfs.img"));
    const QString app = m_dir.filePath(QStringLiteral("app.bin"));
    QVERIFY(writeAll(rootfs, m_original));
    QVERIFY(writeAll(app, QByteArrayLiteral("application")));
    CreateOptions o;
    o.version = SemVer(2, 0, 0);
    o.hardware = {QStringLiteral("rev-a")};
    o.payloads = {
        PayloadInput{QStringLiteral("rootfs"), QStringLiteral("rootfs"), rootfs, Encoding::Zstd},
        PayloadInput{QStringLiteral("app"), QStringLiteral("app"), app, Encoding::Raw}};
    const QString file = m_dir.filePath(QStringLiteral("compressed.otab"));
    const auto created = createBundle(o, file);
    QVERIFY2(created.has_value(), qPrintable(created ? QString() : created.error().toString()));
    auto reader = BundleReader::open(file);
    QVERIFY2(reader.has_value(), qPrintable(reader ? QString() : reader.error().toString()));
    m_reader = std::move(*reader);
    CollectingSink stored;
    QVERIFY(BundleVerifier::streamPayload(*m_reader, 0, stored).has_value());
    m_stored = stored.bytes;
}

void TestPayloadDecoder::compressedPayloadDecodes() {
    const PayloadEntry& e = m_reader->manifest().payloads.at(0);
    QCOMPARE(e.encoding, Encoding::Zstd);
    QCOMPARE(e.targetSize, quint64(m_original.size()));
    QCOMPARE(e.targetSha256, crypto::Sha256::hash(m_original));
    QCOMPARE(e.size, quint64(m_stored.size()));
    QVERIFY(e.size < e.targetSize / 10);

    for (int index : {0, 1}) {
        CollectingSink slot;
        auto decoder = PayloadDecoder::create(m_reader->manifest().payloads.at(index), slot);
        QVERIFY(decoder.has_value());
        QVERIFY(BundleVerifier::streamPayload(*m_reader, index, **decoder).has_value());
        const auto finished = (*decoder)->finish();
        QVERIFY2(finished.has_value(),
                 qPrintable(finished ? QString() : finished.error().toString()));
        QCOMPARE(slot.bytes, index == 0 ? m_original : QByteArrayLiteral("application"));
    }
    // The compression temp files beside the bundle are gone.
    QCOMPARE(QDir(m_dir.path()).entryList({QStringLiteral(".otab-*")}, QDir::Hidden | QDir::Files),
             QStringList());
}

void TestPayloadDecoder::refusesBadStreams_data() {
    QTest::addColumn<QString>("damage");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("declares a smaller target (expansion bomb)")
        << QStringLiteral("smaller-target") << QStringLiteral("more than");
    QTest::newRow("declares a larger target")
        << QStringLiteral("larger-target") << QStringLiteral("instead of");
    QTest::newRow("other target hash") << QStringLiteral("other-hash") << QStringLiteral("SHA-256");
    QTest::newRow("stream cut in half") << QStringLiteral("cut") << QStringLiteral("ends early");
    QTest::newRow("not zstd at all") << QStringLiteral("garbage") << QStringLiteral("Unknown");
    QTest::newRow("bytes after the frame")
        << QStringLiteral("appended") << QStringLiteral("after the end");
}

void TestPayloadDecoder::refusesBadStreams() {
    QFETCH(QString, damage);
    QFETCH(QString, mentions);
    PayloadEntry e = m_reader->manifest().payloads.at(0);
    QByteArray stored = m_stored;
    if (damage == u"smaller-target") {
        e.targetSize -= 1;
    } else if (damage == u"larger-target") {
        e.targetSize += 1;
    } else if (damage == u"other-hash") {
        e.targetSha256 = crypto::Sha256::hash("something else");
    } else if (damage == u"cut") {
        stored.truncate(stored.size() / 2);
    } else if (damage == u"garbage") {
        stored = QByteArray(4096, 'x');
    } else if (damage == u"appended") {
        stored += stored;
    }
    CollectingSink slot;
    auto decoder = PayloadDecoder::create(e, slot);
    QVERIFY(decoder.has_value());
    Status result = (*decoder)->write(stored);
    if (result) {
        result = (*decoder)->finish();
    }
    QVERIFY(!result.has_value());
    QCOMPARE(result.error().code, QStringLiteral("bundle.payload-corrupted"));
    QVERIFY2(result.error().message.contains(mentions), qPrintable(result.error().message));
    QVERIFY(slot.bytes.size() <= qsizetype(e.targetSize));
}

void TestPayloadDecoder::refusesDelta() {
    PayloadEntry e = m_reader->manifest().payloads.at(0);
    e.encoding = Encoding::ZstdPatch;
    CollectingSink slot;
    const auto decoder = PayloadDecoder::create(e, slot);
    QVERIFY(!decoder.has_value());
    QCOMPARE(decoder.error().code, QStringLiteral("bundle.unsupported-encoding"));
}

QTEST_GUILESS_MAIN(TestPayloadDecoder)
#include "tst_payloaddecoder.moc"
