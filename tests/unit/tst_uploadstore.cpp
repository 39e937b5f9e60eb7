// UploadStore: the received offset is what is on disk, a chunk at the wrong offset is refused
// with the offset to resume from, and sizes and ids are bounded.
#include "agent/UploadStore.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using otafleet::agent::UploadStore;

class TestUploadStore : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void appendsAndResumes() {
        QTemporaryDir dir;
        UploadStore store(dir.path(), 1000);
        auto empty = store.progress(QStringLiteral("t-1"));
        QVERIFY(empty);
        QCOMPARE(empty->received, quint64(0));
        QVERIFY(!empty->complete());

        auto first = store.append(QStringLiteral("t-1"), 10, 0, "abcd");
        QVERIFY(first);
        QCOMPARE(first->received, quint64(4));
        QCOMPARE(first->total, quint64(10));

        auto wrong = store.append(QStringLiteral("t-1"), 0, 2, "cdef");
        QVERIFY(!wrong);
        QCOMPARE(wrong.error().code, QStringLiteral("agent.upload-offset-mismatch"));
        QVERIFY(wrong.error().message.contains(QStringLiteral("resume from offset 4")));

        // A new store (a restarted agent) sees what is on disk.
        UploadStore again(dir.path(), 1000);
        auto resumed = again.progress(QStringLiteral("t-1"));
        QVERIFY(resumed);
        QCOMPARE(resumed->received, quint64(4));
        QCOMPARE(resumed->total, quint64(10));
        auto rest = again.append(QStringLiteral("t-1"), 0, 4, "efghij");
        QVERIFY(rest);
        QVERIFY(rest->complete());
        QFile part(again.partPath(QStringLiteral("t-1")));
        QVERIFY(part.open(QIODevice::ReadOnly));
        QCOMPARE(part.readAll(), QByteArray("abcdefghij"));

        auto tooLong = again.append(QStringLiteral("t-1"), 0, 10, "k");
        QVERIFY(!tooLong);
        QCOMPARE(tooLong.error().code, QStringLiteral("agent.upload-too-long"));
        again.remove(QStringLiteral("t-1"));
        QCOMPARE(again.progress(QStringLiteral("t-1"))->received, quint64(0));
    }

    void refusesBadInput_data() {
        QTest::addColumn<QString>("id");
        QTest::addColumn<quint64>("total");
        QTest::addColumn<QString>("code");
        QTest::newRow("upper case id")
            << QStringLiteral("ABC") << quint64(10) << QStringLiteral("agent.invalid-transfer-id");
        QTest::newRow("path in id")
            << QStringLiteral("../x") << quint64(10) << QStringLiteral("agent.invalid-transfer-id");
        QTest::newRow("long id") << QString(65, u'a') << quint64(10)
                                 << QStringLiteral("agent.invalid-transfer-id");
        QTest::newRow("no total") << QStringLiteral("t") << quint64(0)
                                  << QStringLiteral("agent.upload-size-missing");
        QTest::newRow("too large")
            << QStringLiteral("t") << quint64(1001) << QStringLiteral("agent.bundle-too-large");
    }
    void refusesBadInput() {
        QFETCH(QString, id);
        QFETCH(quint64, total);
        QFETCH(QString, code);
        QTemporaryDir dir;
        UploadStore store(dir.path(), 1000);
        auto result = store.append(id, total, 0, "x");
        QVERIFY(!result);
        QCOMPARE(result.error().code, code);
    }

    void refusesOversizedChunk() {
        QTemporaryDir dir;
        UploadStore store(dir.path(), 1ULL << 30);
        const QByteArray big(UploadStore::kMaxChunk + 1, 'x');
        auto result = store.append(QStringLiteral("t"), quint64(big.size()), 0, big);
        QVERIFY(!result);
        QCOMPARE(result.error().code, QStringLiteral("agent.chunk-too-large"));
    }
};

QTEST_GUILESS_MAIN(TestUploadStore)
#include "tst_uploadstore.moc"
