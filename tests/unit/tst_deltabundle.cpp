// Delta bundles in process: `bundle delta` output applied against its base gives the target
// byte for byte; a wrong base, a damaged patch or a wrong target hash is refused with its code.

#include "bundle/Bundle.h"
#include "bundle/BundleBuilder.h"
#include "bundle/BundleVerifier.h"
#include "bundle/Delta.h"
#include "bundle/PayloadDecoder.h"
#include "crypto/Sha256.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;
using namespace otafleet::bundle;

namespace {

QByteArray readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

bool writeAll(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

QByteArray noise(qsizetype size, quint32 seed) {
    QByteArray bytes(size, '\0');
    quint32 x = 2463534242U ^ seed;
    for (qsizetype i = 0; i < size; ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes[i] = static_cast<char>(x);
    }
    return bytes;
}

// The next release of an image: a few bytes patched, a block inserted, a block moved; the
// base is incompressible, so only matches against it make the patch small.
QByteArray nextRelease(const QByteArray& base) {
    QByteArray next = base;
    next.replace(300000, 64, QByteArray(64, '\x90'));
    next.insert(700000, noise(4000, 7));
    const QByteArray moved = next.mid(100000, 50000);
    next.remove(100000, 50000);
    next.append(moved);
    return next;
}

class CollectingSink final : public PayloadSink {
public:
    Status write(QByteArrayView data) override {
        bytes.append(data);
        return {};
    }
    QByteArray bytes;
};

// Applies payload 0 of `delta` against `base` the way the agent does: stream, decode, finish.
Result<QByteArray> apply(const QString& delta, const QByteArray& base,
                         const std::function<void(PayloadEntry&)>& edit = {}) {
    auto reader = BundleReader::open(delta);
    if (!reader) {
        return fail(reader.error());
    }
    PayloadEntry entry = reader->manifest().payloads.at(0);
    if (edit) {
        edit(entry);
    }
    CollectingSink sink;
    auto decoder = PayloadDecoder::create(entry, sink, base);
    if (!decoder) {
        return fail(decoder.error());
    }
    if (auto ok = BundleVerifier::streamPayload(*reader, 0, **decoder); !ok) {
        return fail(ok.error());
    }
    if (auto ok = (*decoder)->finish(); !ok) {
        return fail(ok.error());
    }
    return sink.bytes;
}

}  // namespace

class TestDeltaBundle : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void roundTrip_data();
    void roundTrip();
    void refusedApplications_data();
    void refusedApplications();
    void refusesMismatchedInputs();
    void needsBaseToDecode();
    void verifiesAgainstBaseBundle();

private:
    [[nodiscard]] QString path(const QString& name) const { return m_dir.filePath(name); }
    Status makeBundle(const QString& out, const QList<std::pair<QString, QByteArray>>& payloads,
                      Encoding encoding, int minor) const;

    QTemporaryDir m_dir;
    QByteArray m_base;
    QByteArray m_target;
    QString m_delta;  // old.otab -> new.otab, made in initTestCase
};

Status TestDeltaBundle::makeBundle(const QString& out,
                                   const QList<std::pair<QString, QByteArray>>& payloads,
                                   Encoding encoding, int minor) const {
    CreateOptions o;
    o.version = SemVer(1, minor, 0);
    o.securityVersion = 3;
    o.hardware = {QStringLiteral("rev-a")};
    for (const auto& [name, bytes] : payloads) {
        const QString file = out + QLatin1Char('.') + name;
        if (!writeAll(file, bytes)) {
            return fail(QStringLiteral("test.io"), file);
        }
        o.payloads.append(PayloadInput{name, QStringLiteral("rootfs"), file, encoding});
    }
    return createBundle(o, out);
}

void TestDeltaBundle::initTestCase() {
    QVERIFY(m_dir.isValid());
    m_base = noise(1024 * 1024 + 4321, 1);
    m_target = nextRelease(m_base);
    QVERIFY(makeBundle(path(QStringLiteral("old.otab")), {{QStringLiteral("rootfs"), m_base}},
                       Encoding::Raw, 1));
    QVERIFY(makeBundle(path(QStringLiteral("new.otab")), {{QStringLiteral("rootfs"), m_target}},
                       Encoding::Raw, 2));
    m_delta = path(QStringLiteral("delta.otab"));
    DeltaOptions options;
    options.level = 3;
    const auto made = createDelta(path(QStringLiteral("old.otab")),
                                  path(QStringLiteral("new.otab")), m_delta, options);
    QVERIFY2(made.has_value(), qPrintable(made ? QString() : made.error().toString()));
}

void TestDeltaBundle::roundTrip_data() {
    QTest::addColumn<Encoding>("oldEncoding");
    QTest::addColumn<Encoding>("newEncoding");
    QTest::newRow("raw to raw") << Encoding::Raw << Encoding::Raw;
    QTest::newRow("zstd to zstd") << Encoding::Zstd << Encoding::Zstd;
    QTest::newRow("raw to zstd") << Encoding::Raw << Encoding::Zstd;
}

void TestDeltaBundle::roundTrip() {
    QFETCH(Encoding, oldEncoding);
    QFETCH(Encoding, newEncoding);
    const QString tag = QString::fromLatin1(QTest::currentDataTag()).replace(u' ', u'-');
    const QString oldPath = path(tag + QStringLiteral("-old.otab"));
    const QString newPath = path(tag + QStringLiteral("-new.otab"));
    const QByteArray app = noise(777, 9);
    QVERIFY(makeBundle(oldPath, {{QStringLiteral("rootfs"), m_base}, {QStringLiteral("app"), app}},
                       oldEncoding, 1));
    QVERIFY(makeBundle(newPath,
                       {{QStringLiteral("rootfs"), m_target}, {QStringLiteral("app"), app + "!"}},
                       newEncoding, 2));
    const QString deltaPath = path(tag + QStringLiteral("-delta.otab"));
    QList<qint64> seen;
    DeltaOptions options;
    options.level = 3;
    const auto made = createDelta(oldPath, newPath, deltaPath, options,
                                  [&](qint64 done, qint64) { seen.append(done); });
    QVERIFY2(made.has_value(), qPrintable(made ? QString() : made.error().toString()));
    QCOMPARE(made->size(), 2);
    QCOMPARE(seen.last(), qint64(m_target.size() + app.size() + 1));

    const auto reader = BundleReader::open(deltaPath);
    QVERIFY(reader.has_value());
    QVERIFY(reader->signature().isEmpty());  // nothing of NEW's signature state is carried
    const Manifest& m = reader->manifest();
    QCOMPARE(m.version, SemVer(1, 2, 0));
    const PayloadEntry& rootfs = m.payloads.at(0);
    QCOMPARE(rootfs.encoding, Encoding::ZstdPatch);
    QCOMPARE(rootfs.baseSha256, crypto::Sha256::hash(m_base));
    QCOMPARE(rootfs.targetSha256, crypto::Sha256::hash(m_target));
    QCOMPARE(rootfs.targetSize, quint64(m_target.size()));
    // Long matching finds the moved and shifted blocks: the patch is a small fraction.
    QVERIFY2(rootfs.size < quint64(m_target.size() / 50), qPrintable(QString::number(rootfs.size)));
    QCOMPARE(made->at(0).patchSize, rootfs.size);

    const auto applied = apply(deltaPath, m_base);
    QVERIFY2(applied.has_value(), qPrintable(applied ? QString() : applied.error().toString()));
    QCOMPARE(crypto::Sha256::hash(*applied), crypto::Sha256::hash(m_target));
}

void TestDeltaBundle::refusedApplications_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("expectedCode");
    QTest::newRow("wrong base") << QStringLiteral("wrong-base")
                                << QStringLiteral("bundle.payload-corrupted");
    QTest::newRow("bit flip in the patch")
        << QStringLiteral("bit-flip") << QStringLiteral("bundle.payload-corrupted");
    QTest::newRow("wrong target hash")
        << QStringLiteral("target-hash") << QStringLiteral("bundle.payload-corrupted");
    QTest::newRow("shorter target")
        << QStringLiteral("target-size") << QStringLiteral("bundle.payload-corrupted");
}

void TestDeltaBundle::refusedApplications() {
    QFETCH(QString, name);
    QFETCH(QString, expectedCode);
    QString delta = m_delta;
    QByteArray base = m_base;
    std::function<void(PayloadEntry&)> edit;
    if (name == u"wrong-base") {
        base[500000] = static_cast<char>(base.at(500000) ^ 1);
    } else if (name == u"bit-flip") {
        QByteArray bytes = readAll(m_delta);
        bytes[bytes.size() - 40] = static_cast<char>(bytes.at(bytes.size() - 40) ^ 0x10);
        delta = path(QStringLiteral("flipped.otab"));
        QVERIFY(writeAll(delta, bytes));
    } else if (name == u"target-hash") {
        edit = [](PayloadEntry& e) { e.targetSha256[0] = static_cast<char>(~e.targetSha256[0]); };
    } else if (name == u"target-size") {
        edit = [](PayloadEntry& e) { e.targetSize -= 1; };
    }
    const auto applied = apply(delta, base, edit);
    QVERIFY(!applied.has_value());
    QCOMPARE(applied.error().code, expectedCode);
}

void TestDeltaBundle::refusesMismatchedInputs() {
    const QString other = path(QStringLiteral("other-names.otab"));
    QVERIFY(makeBundle(other, {{QStringLiteral("kernel"), m_target}}, Encoding::Raw, 2));
    const QString out = path(QStringLiteral("refused.otab"));
    auto made = createDelta(path(QStringLiteral("old.otab")), other, out);
    QVERIFY(!made);
    QCOMPARE(made.error().code, QStringLiteral("bundle.delta-mismatch"));
    made = createDelta(m_delta, path(QStringLiteral("new.otab")), out);
    QVERIFY(!made);
    QCOMPARE(made.error().code, QStringLiteral("bundle.delta-of-delta"));
    made = createDelta(path(QStringLiteral("old.otab")), path(QStringLiteral("missing.otab")), out);
    QVERIFY(!made);
    QCOMPARE(made.error().code, QStringLiteral("io.read-failed"));
    QVERIFY(!QFile::exists(out));
}

void TestDeltaBundle::needsBaseToDecode() {
    const auto reader = BundleReader::open(m_delta);
    QVERIFY(reader.has_value());
    CollectingSink sink;
    const auto decoder = PayloadDecoder::create(reader->manifest().payloads.at(0), sink);
    QVERIFY(!decoder);
    QCOMPARE(decoder.error().code, QStringLiteral("bundle.unsupported-encoding"));
    // Without its base the patch cannot reproduce the target.
    QVERIFY(!apply(m_delta, QByteArray()));
}

void TestDeltaBundle::verifiesAgainstBaseBundle() {
    const auto reader = BundleReader::open(m_delta);
    QVERIFY(reader.has_value());
    const auto ok = verifyDeltaAgainstBase(*reader, path(QStringLiteral("old.otab")));
    QVERIFY2(ok.has_value(), qPrintable(ok ? QString() : ok.error().toString()));
    const auto wrong = verifyDeltaAgainstBase(*reader, path(QStringLiteral("new.otab")));
    QVERIFY(!wrong);
    QCOMPARE(wrong.error().code, QStringLiteral("bundle.delta-base-mismatch"));
    const auto full = BundleReader::open(path(QStringLiteral("new.otab")));
    QVERIFY(full.has_value());
    const auto notDelta = verifyDeltaAgainstBase(*full, path(QStringLiteral("old.otab")));
    QVERIFY(!notDelta);
    QCOMPARE(notDelta.error().code, QStringLiteral("bundle.invalid-input"));
}

QTEST_GUILESS_MAIN(TestDeltaBundle)
#include "tst_deltabundle.moc"
