// UploadStore: the received offset is what is on disk, a chunk at the wrong offset is refused
// with the offset to resume from, and sizes and ids are bounded. Two streams of one transfer never
// both land at the same offset; old transfers are evicted and stale ones dropped at start. A
// staged file opened for an install tells when it changed.
#include "agent/UploadStore.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

#include <sys/statvfs.h>

#include <atomic>
#include <latch>
#include <thread>

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

    // The install copies a payload from the descriptor openStaged gave it, and only while that
    // file is the one whose hash was checked: a later append shows. Progress asked for while the
    // transfer is open is what is on disk.
    void stagedFileNoticesChanges() {
        QTemporaryDir dir;
        UploadStore store(dir.path(), 1000);
        const QString id = QStringLiteral("t-1");
        QVERIFY(store.append(id, 10, 0, "abcd"));
        auto staged = store.openStaged(id);
        QVERIFY(staged);
        QVERIFY(staged->fd() >= 0);
        QVERIFY(staged->unchanged());
        // Not a bundle: no payload digest was taken while it arrived.
        QVERIFY(!store.receivedPayloadDigest(*staged, id, 0));
        auto more = store.append(id, 0, 4, "ef");
        QVERIFY(more);
        QVERIFY(!staged->unchanged());
        QCOMPARE(store.progress(id)->received, quint64(6));
        store.release(id);
        QCOMPARE(store.progress(id)->received, quint64(6));
        QCOMPARE(store.progress(id)->total, quint64(10));

        auto missing = store.openStaged(QStringLiteral("t-2"));
        QVERIFY(!missing);
        QCOMPARE(missing.error().code, QStringLiteral("io.read-failed"));
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

    // Two streams racing with the same transfer id and offset: exactly one chunk lands. The
    // threads spin on a shared start flag so they really call append() at the same moment.
    void concurrentStreamsAppendOnce() {
        QTemporaryDir dir;
        UploadStore store(dir.path(), 1ULL << 30);
        const QByteArray chunk(4096, 'c');
        constexpr int kRounds = 1000;
        std::atomic<int> round = -1;
        std::atomic<int> ready = 0;
        std::atomic<int> accepted[kRounds] = {};
        const auto stream = [&] {
            for (int r = 0; r < kRounds; ++r) {
                ++ready;
                while (round.load() < r)
                    std::this_thread::yield();
                const QString id = QStringLiteral("race-%1").arg(r);
                if (store.append(id, quint64(chunk.size()) * 4, 0, chunk))
                    ++accepted[r];
            }
        };
        std::thread a(stream);
        std::thread b(stream);
        for (int r = 0; r < kRounds; ++r) {
            while (ready.load() < 2 * (r + 1))
                std::this_thread::yield();
            round = r;
        }
        a.join();
        b.join();
        // Two accepted appends at offset 0 would have written the chunk twice.
        for (int r = 0; r < kRounds; ++r)
            QCOMPARE(accepted[r].load(), 1);
    }

    // Starting a third transfer evicts the oldest; a pinned (installing) one is kept.
    void evictsOldTransfers() {
        QTemporaryDir dir;
        UploadStore store(dir.path(), 1000);
        const auto start = [&](const QString& id) {
            QVERIFY(store.append(id, 10, 0, "abcd"));
            QTest::qWait(30);  // distinct modification times
        };
        start(QStringLiteral("a"));
        start(QStringLiteral("b"));
        start(QStringLiteral("c"));
        QVERIFY(!QFileInfo::exists(store.partPath(QStringLiteral("a"))));
        QVERIFY(QFileInfo::exists(store.partPath(QStringLiteral("b"))));
        QVERIFY(QFileInfo::exists(store.partPath(QStringLiteral("c"))));
        QCOMPARE(store.progress(QStringLiteral("a"))->total, quint64(0));

        store.pin(QStringLiteral("b"));
        start(QStringLiteral("d"));
        start(QStringLiteral("e"));
        QVERIFY(QFileInfo::exists(store.partPath(QStringLiteral("b"))));  // pinned
        QVERIFY(!QFileInfo::exists(store.partPath(QStringLiteral("c"))));
        QVERIFY(QFileInfo::exists(store.partPath(QStringLiteral("d"))));
        QVERIFY(QFileInfo::exists(store.partPath(QStringLiteral("e"))));
        // Continuing a kept transfer evicts nothing.
        QVERIFY(store.append(QStringLiteral("e"), 0, 4, "ef"));
        QVERIFY(QFileInfo::exists(store.partPath(QStringLiteral("b"))));
    }

    // The space a kept transfer still needs counts against a new one.
    void countsStagedSpace() {
        QTemporaryDir dir;
        struct statvfs fs {};
        QCOMPARE(::statvfs(QFile::encodeName(dir.path()).constData(), &fs), 0);
        const quint64 free = quint64(fs.f_bavail) * fs.f_frsize;
        const quint64 each = free / 2 + free / 4;  // one fits, two do not
        UploadStore store(dir.path(), ~0ULL);
        QVERIFY(store.append(QStringLiteral("big-1"), each, 0, "abcd"));
        auto second = store.append(QStringLiteral("big-2"), each, 0, "abcd");
        QVERIFY(!second);
        QCOMPARE(second.error().code, QStringLiteral("agent.disk-full"));
    }

    // At start, transfers untouched for a day go, and of the rest only the newest stays.
    void removesStaleTransfers() {
        QTemporaryDir dir;
        UploadStore store(dir.path(), 1000);
        for (const char* id : {"old", "older-fresh", "newest"}) {
            QVERIFY(store.append(QLatin1String(id), 10, 0, "abcd"));
            QTest::qWait(30);
        }
        for (const char* suffix : {".part", ".size"}) {
            QFile f(QDir(dir.path()).filePath(QStringLiteral("old") + QLatin1String(suffix)));
            QVERIFY(f.open(QIODevice::ReadWrite));
            QVERIFY(f.setFileTime(QDateTime::currentDateTimeUtc().addDays(-2),
                                  QFileDevice::FileModificationTime));
        }
        UploadStore restarted(dir.path(), 1000);
        restarted.removeStale();
        QVERIFY(!QFileInfo::exists(restarted.partPath(QStringLiteral("old"))));
        QVERIFY(!QFileInfo::exists(restarted.partPath(QStringLiteral("older-fresh"))));
        QCOMPARE(restarted.progress(QStringLiteral("newest"))->received, quint64(4));
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files).size(), 2);
    }
};

QTEST_GUILESS_MAIN(TestUploadStore)
#include "tst_uploadstore.moc"
