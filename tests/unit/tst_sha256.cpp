// Sha256: known answers (FIPS 180-2 vectors), streaming equals one-shot, and file hashing with
// progress.
#include "crypto/Sha256.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using otafleet::crypto::Sha256;

class TestSha256 : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void knownAnswers_data();
    void knownAnswers();
    void streamingMatchesOneShot();
    void hashFileReportsProgress();
    void hashFileMissing();
};

void TestSha256::knownAnswers_data() {
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("digest");
    QTest::newRow("empty") << QByteArray()
                           << QStringLiteral(
                                  "e3b0c44298fc1c149afbf4c8996fb924"
                                  "27ae41e4649b934ca495991b7852b855");
    QTest::newRow("abc") << QByteArray("abc")
                         << QStringLiteral(
                                "ba7816bf8f01cfea414140de5dae2223"
                                "b00361a396177a9cb410ff61f20015ad");
    QTest::newRow("two blocks")
        << QByteArray("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
        << QStringLiteral("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

void TestSha256::knownAnswers() {
    QFETCH(QByteArray, input);
    QFETCH(QString, digest);
    QCOMPARE(Sha256::hex(input), digest);
    QCOMPARE(Sha256::hash(input).size(), Sha256::kSize);
}

void TestSha256::streamingMatchesOneShot() {
    const QByteArray data(100000, 'z');
    Sha256 hasher;
    for (qsizetype offset = 0; offset < data.size(); offset += 777) {
        hasher.update(
            QByteArrayView(data).sliced(offset, std::min<qsizetype>(777, data.size() - offset)));
    }
    QCOMPARE(hasher.finish(), Sha256::hash(data));
    // finish() resets: the object hashes afresh.
    hasher.update("abc");
    QCOMPARE(hasher.finish(), Sha256::hash("abc"));
}

void TestSha256::hashFileReportsProgress() {
    QTemporaryDir temp;
    const QString path = temp.filePath(QStringLiteral("payload.bin"));
    QByteArray data(2 * 1024 * 1024 + 123, '\0');
    for (qsizetype i = 0; i < data.size(); ++i) {
        data[i] = static_cast<char>(i * 31);
    }
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(data);
    file.close();
    QList<qint64> progress;
    auto digest = Sha256::hashFile(path, [&](qint64 done, qint64 total) {
        QCOMPARE(total, data.size());
        progress.append(done);
    });
    QVERIFY(digest);
    QCOMPARE(*digest, Sha256::hash(data));
    QCOMPARE(progress.size(), 3);
    QCOMPARE(progress.constLast(), data.size());
}

void TestSha256::hashFileMissing() {
    auto digest = Sha256::hashFile(QStringLiteral("/nonexistent/payload"));
    QVERIFY(!digest);
    QCOMPARE(digest.error().code, QStringLiteral("io.read-failed"));
}

QTEST_GUILESS_MAIN(TestSha256)
#include "tst_sha256.moc"
