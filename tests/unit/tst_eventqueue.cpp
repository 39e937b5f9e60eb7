// EventQueue: records survive a reopen until acknowledged, a torn or corrupt tail is cut off
// without losing what precedes it, and a flood never lets the directory pass its byte cap while
// the number of discarded records is kept exactly and announced by a record of its own.
#include "agent/AgentConfig.h"
#include "agent/EventQueue.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QLoggingCategory>
#include <QTemporaryDir>
#include <QTest>

using otafleet::agent::AgentConfig;
using otafleet::agent::EventQueue;
using otafleet::agent::QueuedRecord;

namespace {

constexpr quint64 kCap = EventQueue::kMinBytes;

// Marker payloads start with "drop:" so the test can tell them from its own records.
QByteArray marker(quint64 count, quint64 total) {
    return "drop:" + QByteArray::number(count) + ':' + QByteArray::number(total);
}

QByteArray payload(int i, qsizetype size = 200) {
    QByteArray p = "event-" + QByteArray::number(i) + ':';
    p.append(size - p.size(), char('a' + i % 26));
    return p;
}

std::unique_ptr<EventQueue> openQueue(const QString& dir, quint64 cap = kCap) {
    auto queue = EventQueue::open(dir, cap, marker);
    if (!queue)
        qWarning().noquote() << queue.error().toString();
    return queue ? std::move(*queue) : nullptr;
}

qint64 directoryBytes(const QString& dir) {
    qint64 total = 0;
    QDirIterator it(dir, QDir::Files | QDir::Hidden);
    while (it.hasNext())
        total += QFileInfo(it.next()).size();
    return total;
}

QList<QueuedRecord> readAll(const EventQueue& queue, quint64 after = 0) {
    QList<QueuedRecord> out;
    for (;;) {
        auto batch = queue.read(after, 100);
        if (!batch || batch->records.isEmpty())
            return out;
        out += batch->records;
        after = batch->records.last().seq;
        if (!batch->more)
            return out;
    }
}

QString lastSegment(const QString& dir) {
    const QStringList names =
        QDir(dir).entryList({QStringLiteral("events-*.log")}, QDir::Files, QDir::Name);
    return names.isEmpty() ? QString() : QDir(dir).filePath(names.last());
}

}  // namespace

class TestEventQueue : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void appendsReadsAndSurvivesReopen() {
        QTemporaryDir tmp;
        auto queue = openQueue(tmp.path());
        QVERIFY(queue);
        for (int i = 1; i <= 10; ++i) {
            auto seq = queue->append(payload(i));
            QVERIFY(seq);
            QCOMPARE(*seq, quint64(i));
        }
        queue.reset();  // as a kill -9 would: every append was already on disk
        auto again = openQueue(tmp.path());
        QVERIFY(again);
        const QList<QueuedRecord> records = readAll(*again);
        QCOMPARE(records.size(), 10);
        for (int i = 0; i < 10; ++i) {
            QCOMPARE(records[i].seq, quint64(i + 1));
            QCOMPARE(records[i].payload, payload(i + 1));
        }
        QCOMPARE(readAll(*again, 7).size(), 3);
        QCOMPARE(*again->append(payload(11)), quint64(11));
    }

    void ackRemovesAndPersists() {
        QTemporaryDir tmp;
        auto queue = openQueue(tmp.path(), 256 * 1024);  // room for all 600: nothing dropped
        QVERIFY(queue);
        for (int i = 1; i <= 600; ++i)
            QVERIFY(queue->append(payload(i)));
        const auto segmentsBefore =
            QDir(tmp.path()).entryList({QStringLiteral("events-*.log")}, QDir::Files).size();
        QVERIFY(segmentsBefore > 2);

        auto ahead = queue->ack(601);
        QVERIFY(!ahead);
        QCOMPARE(ahead.error().code, QStringLiteral("telemetry.ack-ahead"));

        QVERIFY(queue->ack(500));
        QCOMPARE(queue->pending(), quint64(100));
        QCOMPARE(readAll(*queue).first().seq, quint64(501));
        // Segments holding only acknowledged records are gone.
        QVERIFY(QDir(tmp.path()).entryList({QStringLiteral("events-*.log")}, QDir::Files).size() <
                segmentsBefore);

        queue.reset();
        auto again = openQueue(tmp.path(), 256 * 1024);
        QVERIFY(again);
        QCOMPARE(again->droppedTotal(), quint64(0));
        QCOMPARE(again->ackedSeq(), quint64(500));
        const QList<QueuedRecord> left = readAll(*again);
        QCOMPARE(left.size(), 100);
        QCOMPARE(left.first().seq, quint64(501));
        QCOMPARE(left.first().payload, payload(501));

        // Everything acknowledged: the directory empties, numbering continues after a reopen.
        QVERIFY(again->ack(600));
        QCOMPARE(again->pending(), quint64(0));
        QVERIFY(
            QDir(tmp.path()).entryList({QStringLiteral("events-*.log")}, QDir::Files).isEmpty());
        again.reset();
        auto third = openQueue(tmp.path(), 256 * 1024);
        QVERIFY(third);
        QCOMPARE(*third->append(payload(601)), quint64(601));
        QCOMPARE(readAll(*third).size(), 1);
    }

    void cutsTornOrCorruptTail_data() {
        QTest::addColumn<int>("damage");  // 0 torn header, 1 torn payload, 2 flipped byte, 3 junk
        QTest::newRow("torn header") << 0;
        QTest::newRow("torn payload") << 1;
        QTest::newRow("corrupt last record") << 2;
        QTest::newRow("junk appended") << 3;
    }
    void cutsTornOrCorruptTail() {
        QFETCH(int, damage);
        QTemporaryDir tmp;
        {
            auto queue = openQueue(tmp.path());
            QVERIFY(queue);
            for (int i = 1; i <= 5; ++i)
                QVERIFY(queue->append(payload(i)));
        }
        const QString segment = lastSegment(tmp.path());
        QFile file(segment);
        QVERIFY(file.open(QIODevice::ReadWrite));
        const qint64 size = file.size();
        const qint64 recordSize = EventQueue::kHeaderSize + 200;
        int survivors = 5;
        switch (damage) {
            case 0:  // a kill -9 in the middle of the last header
                QVERIFY(file.resize(size - recordSize + 7));
                survivors = 4;
                break;
            case 1:
                QVERIFY(file.resize(size - 13));
                survivors = 4;
                break;
            case 2: {
                file.seek(size - 50);
                char c = 0;
                file.getChar(&c);
                file.seek(size - 50);
                file.putChar(char(c ^ 0x40));
                survivors = 4;
                break;
            }
            default:
                file.seek(size);
                file.write(QByteArray(33, '\xee'));
                break;
        }
        file.close();

        auto queue = openQueue(tmp.path());
        QVERIFY(queue);
        const QList<QueuedRecord> records = readAll(*queue);
        QCOMPARE(records.size(), survivors);
        for (int i = 0; i < survivors; ++i)
            QCOMPARE(records[i].payload, payload(i + 1));
        // The damage is cut off on disk, and the next record follows the survivors cleanly.
        QCOMPARE(QFileInfo(segment).size(), survivors * recordSize);
        QCOMPARE(*queue->append(payload(99)), quint64(survivors + 1));
        queue.reset();
        auto again = openQueue(tmp.path());
        QVERIFY(again);
        QCOMPARE(readAll(*again).size(), survivors + 1);
        QCOMPARE(readAll(*again).last().payload, payload(99));
    }

    void floodStaysUnderCapAndCountsDrops() {
        // Each discard logs a warning; a flood of them would bury the test's output.
        QLoggingCategory::setFilterRules(QStringLiteral("otafleet.agent.warning=false"));
        QTemporaryDir tmp;
        auto queue = openQueue(tmp.path());
        QVERIFY(queue);
        constexpr int kAppends = 3000;  // ~660 KiB of records into a 64 KiB queue
        quint64 ownRecords = 0;
        for (int i = 1; i <= kAppends; ++i) {
            const qsizetype size = 100 + (i * 37) % 900;
            QVERIFY(queue->append(payload(i, size)));
            ++ownRecords;
            if (i % 97 == 0)
                QVERIFY2(directoryBytes(tmp.path()) <= qint64(kCap),
                         qPrintable(QString::number(directoryBytes(tmp.path()))));
        }
        QVERIFY(directoryBytes(tmp.path()) <= qint64(kCap));

        const QList<QueuedRecord> left = readAll(*queue);
        quint64 ownLeft = 0;
        quint64 markersLeft = 0;
        quint64 lastMarkerTotal = 0;
        quint64 previousSeq = 0;
        int firstOwn = 0;
        int previousOwn = 0;
        for (const QueuedRecord& r : left) {
            QVERIFY(r.seq > previousSeq);
            previousSeq = r.seq;
            if (r.payload.startsWith("drop:")) {
                ++markersLeft;
                lastMarkerTotal = r.payload.split(':').at(2).toULongLong();
                continue;
            }
            ++ownLeft;
            const int index = r.payload.mid(6, r.payload.indexOf(':') - 6).toInt();
            if (firstOwn == 0)
                firstOwn = index;
            else
                QCOMPARE(index, previousOwn + 1);  // the survivors are the newest, no holes
            previousOwn = index;
        }
        QCOMPARE(previousOwn, kAppends);
        QVERIFY(ownLeft > 0 && ownLeft < ownRecords);
        // Everything appended (own records and markers) is either still queued or counted.
        const quint64 markersWritten = queue->lastSeq() - ownRecords;
        QCOMPARE(queue->droppedTotal(), ownRecords + markersWritten - ownLeft - markersLeft);
        QVERIFY(markersLeft >= 1);
        QCOMPARE(lastMarkerTotal, queue->droppedTotal());

        // The count outlives a restart; a smaller cap trims at once and counts that too.
        const quint64 dropped = queue->droppedTotal();
        queue.reset();
        auto again = openQueue(tmp.path());
        QVERIFY(again);
        QCOMPARE(again->droppedTotal(), dropped);
        QCOMPARE(again->pending(), ownLeft + markersLeft);
    }

    void refusesOversizedEvent() {
        QTemporaryDir tmp;
        auto queue = openQueue(tmp.path());
        QVERIFY(queue);
        auto big = queue->append(QByteArray(EventQueue::kMaxPayload + 1, 'x'));
        QVERIFY(!big);
        QCOMPARE(big.error().code, QStringLiteral("telemetry.event-too-large"));
        QVERIFY(queue->append(QByteArray(EventQueue::kMaxPayload, 'x')));
    }

    void batchIsBounded() {
        QTemporaryDir tmp;
        auto queue = openQueue(tmp.path(), 4 * 1024 * 1024);
        QVERIFY(queue);
        for (int i = 1; i <= 300; ++i)
            QVERIFY(queue->append(QByteArray(EventQueue::kMaxPayload, char('a' + i % 26))));
        auto batch = queue->read(0, 1000);
        QVERIFY(batch);
        QVERIFY(batch->more);
        QCOMPARE(batch->records.size(), EventQueue::kMaxBatchBytes / EventQueue::kMaxPayload);
        auto counted = queue->read(0, 5);
        QCOMPARE(counted->records.size(), 5);
        QVERIFY(counted->more);
    }

    void configKey_data() {
        QTest::addColumn<QString>("value");
        QTest::addColumn<bool>("valid");
        QTest::newRow("default-sized") << QStringLiteral("1048576") << true;
        QTest::newRow("minimum") << QString::number(AgentConfig::kMinTelemetryBytes) << true;
        QTest::newRow("below minimum")
            << QString::number(AgentConfig::kMinTelemetryBytes - 1) << false;
        QTest::newRow("above maximum")
            << QString::number(AgentConfig::kMaxTelemetryBytes + 1) << false;
        QTest::newRow("not a number") << QStringLiteral("1M") << false;
    }
    void configKey() {
        QFETCH(QString, value);
        QFETCH(bool, valid);
        const QByteArray text =
            "[device]\nid = d\nhardware = h\n[agent]\nlisten = 127.0.0.1:1\n"
            "[slots]\nslot_a = a\nslot_b = b\n[trust]\nbundle_root = r\n"
            "[tls]\ncertificate = c\nkey = k\noperator_ca = o\n"
            "[telemetry]\nmax_bytes = " +
            value.toUtf8() + '\n';
        auto config = AgentConfig::parse(text, QStringLiteral("agent.conf"), QStringLiteral("/x"));
        QCOMPARE(config.has_value(), valid);
        if (valid)
            QCOMPARE(config->telemetryMaxBytes, value.toULongLong());
        else
            QVERIFY(config.error().message.contains(QStringLiteral("max_bytes")));
    }
};

QTEST_GUILESS_MAIN(TestEventQueue)
#include "tst_eventqueue.moc"
