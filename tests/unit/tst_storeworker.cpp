// otafleetd's StoreWorker on a real SQLite file: telemetry queued by many threads is written in
// batches and everything queued is in the store once the worker stops (nothing a session took
// is lost on a clean shutdown); presence notes keep only each device's latest state and skip
// devices that never reported; a job posted after an inventory sees it (one writer, in order);
// a malformed event does not take the other events of its batch with it.
#include "VerifyOk.h"
#include "server/StoreWorker.h"
#include "store/FleetStore.h"

#include <QTemporaryDir>
#include <QTest>

#include <mutex>
#include <thread>
#include <vector>

using namespace otafleet;

namespace {

store::DeviceTelemetryRecord telemetryEvent(const QString& device, quint64 seq) {
    store::DeviceTelemetryRecord r;
    r.deviceId = device;
    r.seq = seq;
    r.time = QDateTime::fromMSecsSinceEpoch(1'790'000'000'000 + qint64(seq), Qt::UTC);
    r.model = QStringLiteral("gw-x1");
    r.hardware = QStringLiteral("rev-a");
    r.version = QStringLiteral("1.0.0");
    r.event = QStringLiteral("boot");
    return r;
}

}  // namespace

class TestStoreWorker : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;

private Q_SLOTS:
    void telemetryFromManyThreadsIsAllStoredAtStop_data() {
        QTest::addColumn<int>("threads");
        QTest::addColumn<int>("perThread");
        QTest::newRow("one event") << 1 << 1;
        QTest::newRow("less than a batch") << 3 << 100;
        QTest::newRow("several batches") << 4 << 2600;
    }
    void telemetryFromManyThreadsIsAllStoredAtStop() {
        QFETCH(int, threads);
        QFETCH(int, perThread);
        const QString path = m_tmp.filePath(
            QStringLiteral("t-%1.sqlite")
                .arg(QString::fromLatin1(QTest::currentDataTag()).replace(u' ', u'-')));
        {
            auto worker = server::StoreWorker::start(path);
            VERIFY_OK(worker);
            std::vector<std::thread> sessions;
            for (int t = 0; t < threads; ++t) {
                sessions.emplace_back([&, t] {
                    for (int i = 1; i <= perThread; ++i)
                        (*worker)->queueTelemetry(
                            telemetryEvent(QStringLiteral("dev-%1").arg(t), quint64(i)));
                });
            }
            for (std::thread& s : sessions)
                s.join();
        }  // stopped: whatever was queued is written first
        auto store = store::FleetStore::open(path);
        VERIFY_OK(store);
        auto stored = (*store)->deviceTelemetry().count();
        VERIFY_OK(stored);
        QCOMPARE(*stored, qint64(threads) * perThread);
    }

    void telemetryIsWrittenWithoutAStop() {
        auto worker = server::StoreWorker::start(m_tmp.filePath(QStringLiteral("live.sqlite")));
        VERIFY_OK(worker);
        (*worker)->queueTelemetry(telemetryEvent(QStringLiteral("dev-1"), 1));
        // Within kTelemetryLatency the batch is due; a job run later sees it.
        QTRY_COMPARE_WITH_TIMEOUT(
            *(*worker)->run([](store::FleetStore& s) { return s.deviceTelemetry().count(); }),
            qint64(1), 5000);
        QCOMPARE((*worker)->backlog(), qsizetype(0));
    }

    void aBadEventDoesNotTakeItsBatchAlong() {
        const QString path = m_tmp.filePath(QStringLiteral("bad.sqlite"));
        {
            auto worker = server::StoreWorker::start(path);
            VERIFY_OK(worker);
            (*worker)->queueTelemetry(telemetryEvent(QStringLiteral("dev-1"), 1));
            (*worker)->queueTelemetry(
                telemetryEvent(QStringLiteral("dev-1"), 0));  // no seq: refused
            (*worker)->queueTelemetry(telemetryEvent(QStringLiteral("dev-1"), 2));
        }
        auto store = store::FleetStore::open(path);
        VERIFY_OK(store);
        QCOMPARE(*(*store)->deviceTelemetry().count(), qint64(2));
    }

    // Sessions acknowledge telemetry to the agents from these callbacks: each runs once its
    // event's batch was written, in queue order, and says whether the event was kept.
    void storedCallbacksReportEachEvent() {
        auto worker = server::StoreWorker::start(m_tmp.filePath(QStringLiteral("acks.sqlite")));
        VERIFY_OK(worker);
        std::mutex mutex;
        QList<QPair<quint64, bool>> calls;
        const auto note = [&](quint64 seq) {
            return [&, seq](bool stored) {
                std::lock_guard lock(mutex);
                calls.append({seq, stored});
            };
        };
        (*worker)->queueTelemetry(telemetryEvent(QStringLiteral("dev-1"), 1), note(1));
        (*worker)->queueTelemetry(telemetryEvent(QStringLiteral("dev-1"), 0), note(0));  // refused
        (*worker)->queueTelemetry(telemetryEvent(QStringLiteral("dev-1"), 2), note(2));
        const auto callCount = [&] {
            std::lock_guard lock(mutex);
            return calls.size();
        };
        QTRY_COMPARE_WITH_TIMEOUT(callCount(), qsizetype(3), 5000);
        const QList<QPair<quint64, bool>> expected{{1, true}, {0, false}, {2, true}};
        QCOMPARE(calls, expected);
        QCOMPARE(*(*worker)->run([](store::FleetStore& s) { return s.deviceTelemetry().count(); }),
                 qint64(2));
    }

    void presenceKeepsTheLatestNote() {
        const QString path = m_tmp.filePath(QStringLiteral("presence.sqlite"));
        const QDateTime t0 = QDateTime::fromMSecsSinceEpoch(1'790'000'000'000, Qt::UTC);
        {
            auto worker = server::StoreWorker::start(path);
            VERIFY_OK(worker);
            // An inventory posted as a job, then notes: applied after it, latest note wins.
            store::FleetDeviceRecord d;
            d.deviceId = QStringLiteral("dev-1");
            d.model = QStringLiteral("gw-x1");
            d.hardware = QStringLiteral("rev-a");
            d.version = QStringLiteral("1.0.0");
            (*worker)->post([d, t0](store::FleetStore& s) {
                QVERIFY(s.fleetDevices().recordInventory(d, t0));
            });
            (*worker)->run([](store::FleetStore&) { return 0; });  // the inventory is in
            (*worker)->notePresence(QStringLiteral("dev-1"), true, t0.addSecs(1));
            (*worker)->notePresence(QStringLiteral("never-reported"), true, t0.addSecs(1));
            (*worker)->notePresence(QStringLiteral("dev-1"), false, t0.addSecs(2));
            (*worker)->notePresence(QStringLiteral("dev-1"), true, t0.addSecs(3));
        }
        auto store = store::FleetStore::open(path);
        VERIFY_OK(store);
        auto device = (*store)->fleetDevices().get(QStringLiteral("dev-1"));
        VERIFY_OK(device);
        QVERIFY(device->online);
        QCOMPARE(device->lastSeen, t0.addSecs(3));
        QVERIFY(!(*store)->fleetDevices().get(QStringLiteral("never-reported")));
    }
};

QTEST_GUILESS_MAIN(TestStoreWorker)
#include "tst_storeworker.moc"
