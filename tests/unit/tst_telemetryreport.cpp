// The arithmetic behind the telemetry charts (fleet/TelemetryReport.h) on plain values, and the
// rollout history it replays (store::RolloutEventLog) on a real SQLite file: progress replay,
// failure reasons, version adoption per day, histogram bins.
#include "VerifyOk.h"

#include "fleet/TelemetryReport.h"
#include "store/FleetStore.h"

#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;
using fleet::ProgressGroup;
using rollout::DeviceState;

namespace {

const QDateTime kStart(QDate(2026, 3, 1), QTime(10, 0), Qt::UTC);

fleet::DeviceStateChange change(qint64 device, int secs, DeviceState state,
                                const QString& reason = {}) {
    return {device, kStart.addSecs(secs), state, reason};
}

}  // namespace

class TestTelemetryReport : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void replayStartsPendingAndFollowsEachDevice() {
        const QList<fleet::DeviceStateChange> changes = {
            change(1, 10, DeviceState::Offered),
            change(2, 10, DeviceState::Offered),
            change(1, 20, DeviceState::Downloading),
            change(1, 30, DeviceState::Succeeded),
            change(2, 40, DeviceState::Failed, QStringLiteral("link.timeout: no answer")),
            change(2, 50, DeviceState::Pending),  // a retry
        };
        const QList<fleet::ProgressPoint> points = fleet::replayProgress(4, kStart, changes);
        QCOMPARE(points.size(), 6);  // the start and five distinct times
        QCOMPARE(points.at(0).time, kStart);
        QCOMPARE(points.at(0).count(ProgressGroup::Pending), 4);
        // Both offers at +10 s make one point.
        QCOMPARE(points.at(1).count(ProgressGroup::InProgress), 2);
        QCOMPARE(points.at(1).count(ProgressGroup::Pending), 2);
        QCOMPARE(points.at(3).count(ProgressGroup::Succeeded), 1);
        QCOMPARE(points.at(4).count(ProgressGroup::Failed), 1);
        const fleet::ProgressPoint& last = points.last();
        QCOMPARE(last.time, kStart.addSecs(50));
        QCOMPARE(last.count(ProgressGroup::Pending), 3);
        QCOMPARE(last.count(ProgressGroup::Succeeded), 1);
        QCOMPARE(last.count(ProgressGroup::Failed), 0);
        for (const fleet::ProgressPoint& p : points) {
            qint64 sum = 0;
            for (qint64 n : p.devices)
                sum += n;
            QCOMPARE(sum, 4);
        }
    }

    void replayThinsLongHistoriesButKeepsThePresent() {
        QList<fleet::DeviceStateChange> changes;
        for (int i = 0; i < 1000; ++i)
            changes.append(change(i, i + 1, DeviceState::Succeeded));
        const auto points = fleet::replayProgress(1000, kStart, changes, 50);
        QCOMPARE(points.size(), 50);
        QCOMPARE(points.first().count(ProgressGroup::Pending), 1000);
        QCOMPARE(points.last().count(ProgressGroup::Succeeded), 1000);
        QCOMPARE(points.last().time, kStart.addSecs(1000));
        for (qsizetype i = 1; i < points.size(); ++i)
            QVERIFY(points.at(i - 1).time < points.at(i).time);
    }

    void failureReasonsByCode() {
        const QList<fleet::DeviceStateChange> changes = {
            change(1, 1, DeviceState::Failed, QStringLiteral("link.timeout: no answer")),
            change(2, 2, DeviceState::Reverted, QStringLiteral("agent.health-check: failed")),
            change(3, 3, DeviceState::TimedOut, QStringLiteral("link.timeout: again")),
            change(4, 4, DeviceState::Failed),
            change(5, 5, DeviceState::Skipped, QStringLiteral("precheck.battery: 12%")),
            change(6, 6, DeviceState::Succeeded),
        };
        QCOMPARE(fleet::failureReasons(changes),
                 (QList<fleet::ReasonCount>{{QStringLiteral("link.timeout"), 2},
                                            {QStringLiteral("(no reason)"), 1},
                                            {QStringLiteral("agent.health-check"), 1}}));
    }

    void adoptionPerDay() {
        const QDateTime day1(QDate(2026, 3, 1), QTime(8, 0), Qt::UTC);
        const QList<fleet::VersionSighting> sightings = {
            {1, day1, QStringLiteral("1.0.0")},
            {2, day1.addSecs(3600), QStringLiteral("1.0.0")},
            {1, day1.addDays(2), QStringLiteral("1.10.0")},  // SemVer order, not text
            {3, day1.addDays(2), QStringLiteral("1.2.0")},
            {2, day1.addDays(3), QString()},  // no version: ignored
        };
        const fleet::VersionAdoption a = fleet::versionAdoption(sightings, day1.addDays(3));
        QCOMPARE(a.days.size(), 4);
        QCOMPARE(a.days.first(), QDateTime(QDate(2026, 3, 2), QTime(0, 0), Qt::UTC));
        QCOMPARE(a.series.size(), 3);
        QCOMPARE(a.series.at(0).version, QStringLiteral("1.0.0"));
        QCOMPARE(a.series.at(1).version, QStringLiteral("1.2.0"));
        QCOMPARE(a.series.at(2).version, QStringLiteral("1.10.0"));
        QCOMPARE(a.series.at(0).devices, (QList<qint64>{2, 2, 1, 1}));
        QCOMPARE(a.series.at(1).devices, (QList<qint64>{0, 0, 1, 1}));
        QCOMPARE(a.series.at(2).devices, (QList<qint64>{0, 0, 1, 1}));

        // At most maxDays days, the latest; what was known before still counts.
        const fleet::VersionAdoption clipped =
            fleet::versionAdoption(sightings, day1.addDays(3), 2);
        QCOMPARE(clipped.days.size(), 2);
        QCOMPARE(clipped.series.at(0).devices, (QList<qint64>{1, 1}));
        QVERIFY(fleet::versionAdoption({}, day1).days.isEmpty());
    }

    void histogramBins_data() {
        QTest::addColumn<QList<double>>("values");
        QTest::addColumn<double>("width");
        QTest::addColumn<QList<qint64>>("counts");
        QTest::newRow("round width") << QList<double>{0.4, 1.3, 2.2, 2.45, 3.9, 0.05, 4.7} << 0.5
                                     << QList<qint64>{2, 0, 1, 0, 2, 0, 0, 1, 0, 1};
        QTest::newRow("value on an edge goes up")
            << QList<double>{0, 10, 20} << 1.0
            << QList<qint64>{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        QTest::newRow("all zero") << QList<double>{0, 0} << 1.0 << QList<qint64>{2};
        QTest::newRow("negative and nan dropped")
            << QList<double>{-1, std::numeric_limits<double>::quiet_NaN(), 3} << 0.2
            << QList<qint64>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        QTest::newRow("none") << QList<double>{} << 0.0 << QList<qint64>{};
    }

    void histogramBins() {
        QFETCH(QList<double>, values);
        QFETCH(double, width);
        QFETCH(QList<qint64>, counts);
        const fleet::Histogram h = fleet::histogram(values);
        QCOMPARE(h.binWidth, width);
        QCOMPARE(h.counts, counts);
        qint64 total = 0;
        for (qint64 n : counts)
            total += n;
        QCOMPARE(h.samples, total);
    }

    void rolloutHistoryInTheStore() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        auto store = store::FleetStore::open(tmp.filePath(QStringLiteral("fleet.sqlite")));
        VERIFY_OK(store);
        const QList<store::RolloutEventRecord> moves = {
            {7, 1, kStart, QStringLiteral("offered"), 1, QString()},
            {8, 1, kStart, QStringLiteral("offered"), 1, QString()},
            {7, 1, kStart.addSecs(5), QStringLiteral("failed"), 1,
             QStringLiteral("link.timeout: no answer")},
        };
        VERIFY_OK((*store)->rolloutEvents().append(moves));
        auto seven = (*store)->rolloutEvents().forRollout(7);
        VERIFY_OK(seven);
        QCOMPARE(*seven, (QList<store::RolloutEventRecord>{moves.at(0), moves.at(2)}));
        auto limited = (*store)->rolloutEvents().forRollout(7, 1);
        VERIFY_OK(limited);
        QCOMPARE(limited->size(), 1);
        VERIFY_OK((*store)->rolloutEvents().append({}));
        QList<store::RolloutEventRecord> tooMany(store::RolloutEventLog::kMaxBatch + 1,
                                                 moves.at(0));
        const Status refused = (*store)->rolloutEvents().append(tooMany);
        QVERIFY(!refused);
        QCOMPARE(refused.error().code, QStringLiteral("store.invalid-input"));
    }
};

QTEST_GUILESS_MAIN(TestTelemetryReport)
#include "tst_telemetryreport.moc"
