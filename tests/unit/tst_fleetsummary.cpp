// FleetSummary and DeviceQuery over FleetDevice values: who counts as online, versions per model
// and hardware revision in SemVer order, who lags on security, the latest failures first, and
// filter expressions (the dashboard's bar filters among them) applied to devices.
#include "VerifyOk.h"
#include "fleet/DeviceQuery.h"
#include "fleet/FleetSummary.h"

#include <QTest>

using namespace otafleet;
using fleet::FleetDevice;

namespace {

const QDateTime kNow = QDateTime(QDate(2026, 12, 2), QTime(12, 0), Qt::UTC);

FleetDevice device(qint64 id, const QString& model, const QString& hardware, const QString& version,
                   quint64 securityVersion, qint64 secsAgo = 60) {
    FleetDevice d;
    d.id = id;
    d.uri = QStringLiteral("lan://127.0.0.1:%1").arg(1000 + id);
    link::DeviceSnapshot s;
    s.deviceId = QStringLiteral("dev-%1").arg(id);
    s.model = model;
    s.hardware = hardware;
    s.activeSlot = QStringLiteral("A");
    s.slots = {
        {QStringLiteral("A"), QStringLiteral("active"), version, securityVersion, {}, 0, {}}};
    d.snapshot = s;
    d.lastSeen = kNow.addSecs(-secsAgo);
    return d;
}

}  // namespace

class TestFleetSummary : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void emptyFleet() {
        const fleet::FleetSummary s = fleet::summarize({}, kNow);
        QCOMPARE(s.total, 0);
        QCOMPARE(s.online, 0);
        QVERIFY(s.versions.isEmpty());
    }

    void countsOnlineOfflineAndNeverSeen() {
        FleetDevice stale = device(2, QStringLiteral("gw"), QStringLiteral("rev-a"),
                                   QStringLiteral("1.0.0"), 1, 3600);
        FleetDevice unreachable =
            device(3, QStringLiteral("gw"), QStringLiteral("rev-a"), QStringLiteral("1.0.0"), 1);
        unreachable.lastError = Error{QStringLiteral("link.unreachable"), QStringLiteral("x")};
        FleetDevice refused =
            device(4, QStringLiteral("gw"), QStringLiteral("rev-a"), QStringLiteral("1.0.0"), 1);
        refused.lastError = Error{QStringLiteral("agent.hardware"), QStringLiteral("y")};
        FleetDevice never;
        never.id = 5;
        const QList<FleetDevice> all = {
            device(1, QStringLiteral("gw"), QStringLiteral("rev-a"), QStringLiteral("1.0.0"), 1),
            stale, unreachable, refused, never};
        const fleet::FleetSummary s = fleet::summarize(all, kNow);
        QCOMPARE(s.total, 5);
        // A failed update does not make a device offline; a link error or silence does.
        QCOMPARE(s.online, 2);
        QCOMPARE(s.offline, 3);
        QCOMPARE(s.neverSeen, 1);
        QCOMPARE(s.failing, 2);
    }

    void versionsPerModelAndHardwareInSemVerOrder() {
        const QList<FleetDevice> all = {
            device(1, QStringLiteral("gw"), QStringLiteral("rev-b"), QStringLiteral("1.10.0"), 2),
            device(2, QStringLiteral("gw"), QStringLiteral("rev-b"), QStringLiteral("1.9.0"), 2),
            device(3, QStringLiteral("gw"), QStringLiteral("rev-b"), QStringLiteral("1.10.0"), 2),
            device(4, QStringLiteral("gw"), QStringLiteral("rev-a"), QStringLiteral("1.9.0"), 2),
            device(5, QStringLiteral("cam"), QStringLiteral("r1"), QStringLiteral("0.3.0"), 1)};
        const fleet::FleetSummary s = fleet::summarize(all, kNow);
        const QList<fleet::VersionCount> expected = {
            {QStringLiteral("cam"), QStringLiteral("r1"), QStringLiteral("0.3.0"), 1},
            {QStringLiteral("gw"), QStringLiteral("rev-a"), QStringLiteral("1.9.0"), 1},
            {QStringLiteral("gw"), QStringLiteral("rev-b"), QStringLiteral("1.9.0"), 1},
            {QStringLiteral("gw"), QStringLiteral("rev-b"), QStringLiteral("1.10.0"), 2}};
        QCOMPARE(s.versions, expected);
    }

    void securityUpdateWithinTheSameModelAndHardware() {
        const QList<FleetDevice> all = {
            device(1, QStringLiteral("gw"), QStringLiteral("rev-a"), QStringLiteral("1.0.0"), 1),
            device(2, QStringLiteral("gw"), QStringLiteral("rev-a"), QStringLiteral("1.1.0"), 3),
            device(3, QStringLiteral("gw"), QStringLiteral("rev-a"), QStringLiteral("1.0.5"), 2),
            // Another hardware revision has its own releases: not compared with rev-a.
            device(4, QStringLiteral("gw"), QStringLiteral("rev-b"), QStringLiteral("1.0.0"), 1)};
        QCOMPARE(fleet::summarize(all, kNow).needingSecurityUpdate, 2);
    }

    void recentFailuresNewestFirstAndBounded() {
        QList<FleetDevice> all;
        for (int i = 0; i < fleet::FleetSummary::kMaxRecentFailures + 3; ++i) {
            FleetDevice d = device(i + 1, QStringLiteral("gw"), QStringLiteral("rev-a"),
                                   QStringLiteral("1.0.0"), 1, 100 - i);
            d.lastError = Error{QStringLiteral("agent.verify"), QStringLiteral("bad %1").arg(i)};
            all.append(d);
        }
        const fleet::FleetSummary s = fleet::summarize(all, kNow);
        QCOMPARE(s.failing, fleet::FleetSummary::kMaxRecentFailures + 3);
        QCOMPARE(s.recentFailures.size(), fleet::FleetSummary::kMaxRecentFailures);
        QCOMPARE(s.recentFailures.first().deviceId, all.last().id);  // seen most recently
        QCOMPARE(s.recentFailures.first().error.message, all.last().lastError->message);
    }

    void queryMatchesFleetDevices() {
        const FleetDevice a =
            device(1, QStringLiteral("gw x"), QStringLiteral("rev-a"), QStringLiteral("1.2.0"), 1);
        const FleetDevice b =
            device(2, QStringLiteral("gw x"), QStringLiteral("rev-b"), QStringLiteral("1.2.0"), 1);
        const FleetDevice stale = device(3, QStringLiteral("gw x"), QStringLiteral("rev-a"),
                                         QStringLiteral("1.1.0"), 1, 7200);
        auto bar = fleet::DeviceQuery::parse(fleet::DeviceQuery::forVersion(
            QStringLiteral("gw x"), QStringLiteral("rev-a"), QStringLiteral("1.2.0")));
        VERIFY_OK(bar);
        QVERIFY(bar->matches(a, kNow));
        QVERIFY(!bar->matches(b, kNow));
        QVERIFY(!bar->matches(stale, kNow));
        auto offline = fleet::DeviceQuery::parse(QStringLiteral("state = offline"));
        VERIFY_OK(offline);
        QVERIFY(offline->matches(stale, kNow));
        QVERIFY(!offline->matches(a, kNow));
        auto older = fleet::DeviceQuery::parse(QStringLiteral("version < 1.2.0"));
        VERIFY_OK(older);
        QVERIFY(older->matches(stale, kNow));
        QVERIFY(!older->matches(a, kNow));
        QVERIFY(fleet::DeviceQuery().matches(a, kNow));
        const auto bad = fleet::DeviceQuery::parse(QStringLiteral("colour = red"));
        QVERIFY(!bad);
        QCOMPARE(bad.error().code, QStringLiteral("filter.field"));
        // Quotes in a value survive the round trip through the expression.
        const QString odd = QStringLiteral("say \"hi\"\\");
        auto quoted = fleet::DeviceQuery::parse(
            fleet::DeviceQuery::forVersion(odd, QStringLiteral("rev-a"), QStringLiteral("x")));
        VERIFY_OK(quoted);
        FleetDevice c = a;
        c.snapshot->model = odd;
        QVERIFY(quoted->matches(c, kNow));
        QVERIFY(!quoted->matches(a, kNow));
    }
};

QTEST_GUILESS_MAIN(TestFleetSummary)
#include "tst_fleetsummary.moc"
