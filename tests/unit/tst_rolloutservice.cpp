// The approval rule every rollout view follows (fleet/RolloutService.h): which rollouts wait for
// an approval, and who may give it. Plain values; no store, no engine, no window.
#include "fleet/RolloutService.h"

#include <QTest>

using namespace otafleet;
using rollout::RolloutState;

class TestRolloutService : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void approvalRule_data() {
        QTest::addColumn<bool>("production");
        QTest::addColumn<RolloutState>("state");
        QTest::addColumn<QString>("approvedBy");
        QTest::addColumn<QString>("user");
        QTest::addColumn<bool>("awaits");
        QTest::addColumn<QString>("blocker");  // a part of the sentence; empty: may approve

        const QString alice = QStringLiteral("alice");
        const QString bob = QStringLiteral("bob");
        QTest::newRow("not production") << false << RolloutState::Draft << QString() << bob << false
                                        << QStringLiteral("Only production");
        QTest::newRow("author, draft") << true << RolloutState::Draft << QString() << alice << true
                                       << QStringLiteral("someone else must approve");
        QTest::newRow("author, started")
            << true << RolloutState::AwaitingApproval << QString() << alice << true
            << QStringLiteral("someone else must approve");
        QTest::newRow("other, draft")
            << true << RolloutState::Draft << QString() << bob << true << QString();
        QTest::newRow("other, started")
            << true << RolloutState::AwaitingApproval << QString() << bob << true << QString();
        QTest::newRow("approved draft")
            << true << RolloutState::Draft << bob << QStringLiteral("carol") << false
            << QStringLiteral("bob approved");
        QTest::newRow("approved, running") << true << RolloutState::Running << bob << bob << false
                                           << QStringLiteral("bob approved");
        QTest::newRow("aborted before approval")
            << true << RolloutState::Aborted << QString() << bob << false
            << QStringLiteral("aborted rollout can no longer");
    }

    void approvalRule() {
        QFETCH(bool, production);
        QFETCH(RolloutState, state);
        QFETCH(QString, approvedBy);
        QFETCH(QString, user);
        QFETCH(bool, awaits);
        QFETCH(QString, blocker);

        fleet::RolloutSummary rollout;
        rollout.plan.production = production;
        rollout.status.state = state;
        rollout.status.author = QStringLiteral("alice");
        rollout.status.approvedBy = approvedBy;
        QCOMPARE(fleet::awaitsApproval(rollout), awaits);
        const std::optional<QString> why = fleet::approvalBlocker(rollout, user);
        if (blocker.isEmpty()) {
            QVERIFY2(!why, qPrintable(why.value_or(QString())));
        } else {
            QVERIFY(why);
            QVERIFY2(why->contains(blocker), qPrintable(*why));
        }
    }
};

QTEST_GUILESS_MAIN(TestRolloutService)
#include "tst_rolloutservice.moc"
