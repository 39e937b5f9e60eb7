// The rollout screens in the real MainWindow (offscreen) over an EmbeddedFleet on a temporary
// SQLite file: eight devices whose last reports the store holds (six gateway-x1, two sensor-s2)
// at loopback addresses where nobody answers. Alice plans a production rollout to the gateways
// through the wizard (live count, the plan parser's own sentences, the summary sentence) and
// starts it; it waits in the approval inbox, where Alice may not approve her own rollout and
// Bob does. The engine then offers the first wave, its devices fail (they cannot be reached:
// real link failures reported through the fleet), the wave crosses its failure threshold and
// the monitor shows the pause and the engine's reason. Every item model on the way is watched
// by QAbstractItemModelTester.
#include "VerifyOk.h"

#include "fleet/DeviceQuery.h"
#include "fleet/EmbeddedFleet.h"
#include "fleet/EmbeddedRollouts.h"
#include "link/DeviceHub.h"
#include "store/FleetStore.h"
#include "ui/ApprovalInbox.h"
#include "ui/DeviceFilterProxy.h"
#include "ui/MainWindow.h"
#include "ui/RolloutDeviceModel.h"
#include "ui/RolloutMonitor.h"
#include "ui/RolloutTableModel.h"
#include "ui/RolloutWizard.h"
#include "ui/RolloutsView.h"

#include <QAbstractButton>
#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;
using rollout::RolloutState;

namespace {

constexpr int kTimeoutMs = 20000;
constexpr int kTickMs = 20;
constexpr int kGateways = 6;
constexpr int kSensors = 2;

link::DeviceSnapshot snapshotOf(const QString& name, const QString& model) {
    link::DeviceSnapshot s;
    s.deviceId = name;
    s.name = name;
    s.model = model;
    s.hardware = QStringLiteral("rev-a");
    s.agentVersion = QStringLiteral("1.0.0");
    s.activeSlot = QStringLiteral("A");
    s.state = QStringLiteral("idle");
    s.healthOk = true;
    s.storedSecurityVersion = 1;
    s.slots = {
        {QStringLiteral("A"), QStringLiteral("active"), QStringLiteral("1.0.0"), 1, {}, 0, {}},
        {QStringLiteral("B"), QStringLiteral("inactive"), {}, 0, {}, 0, {}}};
    return s;
}

}  // namespace

class TestRolloutWizard : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    std::unique_ptr<link::DeviceHub> m_hub;
    std::unique_ptr<fleet::EmbeddedFleet> m_fleet;
    rollout::SystemClock m_clock;
    std::unique_ptr<fleet::EmbeddedRollouts> m_rollouts;
    std::unique_ptr<ui::MainWindow> m_window;  // Alice's
    QList<std::shared_ptr<QAbstractItemModelTester>> m_testers;
    QString m_bundle;
    qint64 m_rolloutId = 0;

    void watch(QAbstractItemModel* model) {
        m_testers.append(std::make_shared<QAbstractItemModelTester>(
            model, QAbstractItemModelTester::FailureReportingMode::QtTest));
    }
    ui::RolloutMonitor* monitor() const { return m_window->rolloutsView()->monitor(); }
    template <typename T>
    T* child(QObject* parent, const char* name) const {
        return parent->findChild<T*>(QLatin1String(name));
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        auto store = store::FleetStore::open(m_tmp.filePath(QStringLiteral("fleet.sqlite")));
        VERIFY_OK(store);
        // Devices as an earlier session left them: reported, at addresses nobody answers now.
        for (int i = 0; i < kGateways + kSensors; ++i) {
            const bool gateway = i < kGateways;
            const QString name = QStringLiteral("%1-%2")
                                     .arg(QLatin1String(gateway ? "gw" : "sensor"))
                                     .arg(i + 1, 2, 10, QChar(u'0'));
            auto id =
                (*store)->devices().add(QStringLiteral("lan://127.0.0.1:%1").arg(i + 1), name);
            VERIFY_OK(id);
            const auto json = snapshotOf(name, gateway ? QStringLiteral("gateway-x1")
                                                       : QStringLiteral("sensor-s2"))
                                  .toJson();
            VERIFY_OK((*store)->devices().recordSnapshot(
                *id, QJsonDocument(json).toJson(QJsonDocument::Compact),
                QDateTime::currentDateTimeUtc()));
        }
        // No operator identity here: every offer fails on the device's link, as it would
        // against a device that is gone.
        m_hub = std::make_unique<link::DeviceHub>(
            link::LinkContext{m_tmp.filePath(QStringLiteral("no-pki")), {}, {}, {}},
            QStringList{QStringLiteral(OTAFLEET_PLUGIN_DIR)});
        auto fleet = fleet::EmbeddedFleet::create(std::move(*store), *m_hub);
        VERIFY_OK(fleet);
        m_fleet = std::move(*fleet);
        QCOMPARE(m_fleet->devices().size(), kGateways + kSensors);
        auto rollouts = fleet::EmbeddedRollouts::create(*m_fleet, m_clock);
        VERIFY_OK(rollouts);
        m_rollouts = std::move(*rollouts);
        m_rollouts->setTickInterval(kTickMs);

        m_bundle = m_tmp.filePath(QStringLiteral("gateway-1.1.0.otab"));
        QFile file(m_bundle);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("never delivered: the devices cannot be reached");
        file.close();

        m_window = std::make_unique<ui::MainWindow>(*m_fleet);
        m_window->addRollouts(*m_rollouts, QStringLiteral("alice"), m_tmp.path());
        m_window->resize(1200, 800);
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
        watch(m_window->rolloutsView()->model());
        watch(m_window->approvalInbox()->model());
        watch(monitor()->deviceModel());
    }

    void cleanupTestCase() {
        m_testers.clear();
        m_window.reset();
        m_rollouts.reset();
        m_fleet.reset();
        m_hub.reset();
    }

    // The count runs off the GUI thread: the wizard answers at once with "Counting…" and the
    // number arrives later, through the event loop.
    void liveCountIsAsynchronous() {
        m_window->showDevicesMatching(QStringLiteral("model = gateway-x1"));
        ui::RolloutWizard* wizard = m_window->openRolloutWizard();
        QVERIFY(wizard);
        auto* filter = child<QLineEdit>(wizard, "targetFilter");
        auto* count = child<QLabel>(wizard, "targetCount");
        QCOMPARE(filter->text(), QStringLiteral("model = gateway-x1"));

        QSignalSpy counted(wizard, &ui::RolloutWizard::targetsCounted);
        filter->setText(QStringLiteral("model = sensor-s2"));
        QVERIFY(wizard->isCounting());
        QCOMPARE(count->text(), QStringLiteral("Counting…"));
        // Nothing was counted on this thread: the answer comes through the event loop.
        QCOMPARE(counted.size(), 0);
        QVERIFY(counted.wait(kTimeoutMs));
        QVERIFY(!wizard->isCounting());
        QCOMPARE(count->text(), QStringLiteral("2 devices match."));
        QCOMPARE(wizard->targets().size(), kSensors);
        QCOMPARE(child<QLabel>(wizard, "targetPreview")->text(),
                 QStringLiteral("Devices: sensor-07, sensor-08."));

        // A filter that does not parse: the language's own sentence, and no way on.
        filter->setText(QStringLiteral("model = "));
        QVERIFY(counted.wait(kTimeoutMs));
        const auto parsed = fleet::DeviceQuery::parse(QStringLiteral("model ="));
        QVERIFY(!parsed);
        QCOMPARE(count->text(), parsed.error().message);
        wizard->close();
    }

    void wizardCreatesAProductionRollout() {
        ui::RolloutWizard* wizard = m_window->openRolloutWizard();
        QVERIFY(wizard);
        QAbstractButton* next = wizard->button(QWizard::NextButton);

        // 1. Release: a name and an existing bundle are needed.
        QCOMPARE(wizard->currentId(), ui::RolloutWizard::ReleasePage);
        QVERIFY(!next->isEnabled());
        auto* bundle = child<QComboBox>(wizard, "bundlePath");
        QVERIFY(bundle->findText(QDir::toNativeSeparators(m_bundle)) >= 0);  // the release folder
        wizard->setBundlePath(m_bundle);
        QVERIFY(!next->isEnabled());
        child<QLineEdit>(wizard, "rolloutName")->setText(QStringLiteral("gateways to 1.1.0"));
        QVERIFY(next->isEnabled());
        // The bundle is read in the background; this one is not a bundle, and says so.
        QTRY_VERIFY_WITH_TIMEOUT(
            !child<QLabel>(wizard, "bundleVerdict")->text().startsWith(QStringLiteral("Checking")),
            kTimeoutMs);
        next->click();

        // 2. Targets: the filter from the device list, counted.
        QCOMPARE(wizard->currentId(), ui::RolloutWizard::TargetsPage);
        QTRY_VERIFY_WITH_TIMEOUT(!wizard->isCounting(), kTimeoutMs);
        QCOMPARE(child<QLabel>(wizard, "targetCount")->text(), QStringLiteral("6 devices match."));
        QCOMPARE(child<QLabel>(wizard, "targetPreview")->text(),
                 QStringLiteral("First: gw-01, gw-02, gw-03, gw-04, gw-05 and 1 more."));
        QVERIFY(next->isEnabled());
        next->click();

        // 3. Plan: the parser's sentence under the form, the field it is about outlined.
        QCOMPARE(wizard->currentId(), ui::RolloutWizard::PlanPage);
        auto* waves = child<QLineEdit>(wizard, "waves");
        auto* failure = child<QLineEdit>(wizard, "failureThreshold");
        auto* planError = child<QLabel>(wizard, "planError");
        QVERIFY(next->isEnabled());  // the defaults make a plan
        waves->setText(QStringLiteral("2,100%"));
        failure->setText(QStringLiteral("forty"));
        rollout::PlanOptions bad;
        bad.waves = QStringLiteral("2,100%");
        bad.failureThreshold = QStringLiteral("forty");
        const auto refused = rollout::RolloutPlan::fromOptions(bad);
        QVERIFY(!refused);
        QCOMPARE(planError->text(), refused.error().message);
        QVERIFY(!failure->styleSheet().isEmpty());
        QVERIFY(waves->styleSheet().isEmpty());
        QVERIFY(!next->isEnabled());
        // Contradicting options: the parser's plan.conflict sentence, on the field it names.
        failure->setText(QStringLiteral("40%"));
        child<QLineEdit>(wizard, "ramp")->setText(QStringLiteral("2"));
        QVERIFY(planError->text().contains(QStringLiteral("--rate")));
        QVERIFY(!child<QLineEdit>(wizard, "ramp")->styleSheet().isEmpty());
        QVERIFY(!next->isEnabled());
        child<QLineEdit>(wizard, "ramp")->clear();
        child<QLineEdit>(wizard, "minExecuted")->setText(QStringLiteral("2"));
        child<QLineEdit>(wizard, "precheck")->setText(QStringLiteral("battery>=30,health"));
        child<QCheckBox>(wizard, "production")->setChecked(true);
        QVERIFY(planError->text().isEmpty());
        QVERIFY(failure->styleSheet().isEmpty());
        QVERIFY(next->isEnabled());
        next->click();

        // 4. Summary: one sentence, the engine plan's own description in it.
        QCOMPARE(wizard->currentId(), ui::RolloutWizard::SummaryPage);
        const auto plan = wizard->plan();
        VERIFY_OK(plan);
        QVERIFY(plan->production);
        QCOMPARE(plan->minExecuted, 2);
        const QString summary = child<QLabel>(wizard, "summary")->text();
        QVERIFY2(summary.contains(plan->describe()), qPrintable(summary));
        QVERIFY2(summary.contains(QStringLiteral("6 devices matching “model = gateway-x1”")),
                 qPrintable(summary));
        QVERIFY2(summary.startsWith(QStringLiteral("“gateways to 1.1.0” rolls out")),
                 qPrintable(summary));
        child<QCheckBox>(wizard, "startNow")->setChecked(true);
        QSignalSpy created(wizard, &ui::RolloutWizard::rolloutCreated);
        const QPointer<ui::RolloutWizard> closing(wizard);
        wizard->button(QWizard::FinishButton)->click();
        // The service answers on the next turn of the event loop; then the wizard closes.
        QTRY_COMPARE_WITH_TIMEOUT(created.size(), 1, kTimeoutMs);
        QTRY_VERIFY_WITH_TIMEOUT(closing.isNull(), kTimeoutMs);
        m_rolloutId = created.first().first().toLongLong();

        const auto rollout = m_rollouts->rollout(m_rolloutId);
        QVERIFY(rollout);
        QCOMPARE(rollout->name, QStringLiteral("gateways to 1.1.0"));
        QCOMPARE(rollout->status.total, kGateways);
        QCOMPARE(rollout->status.author, QStringLiteral("alice"));
        QCOMPARE(rollout->plan, *plan);
        QCOMPARE(rollout->status.state, RolloutState::AwaitingApproval);
        // The window shows the new rollout in its monitor.
        QCOMPARE(m_window->tabs()->currentWidget(), m_window->rolloutsView());
        QCOMPARE(monitor()->rolloutId(), m_rolloutId);
        QCOMPARE(monitor()->deviceModel()->rowCount(), kGateways);
    }

    void authorMayNotApproveButSomeoneElseDoes() {
        QVERIFY(m_rolloutId);
        ui::ApprovalInbox* own = m_window->approvalInbox();
        QCOMPARE(own->model()->rowCount(), 1);
        QCOMPARE(own->selectedRollout(), m_rolloutId);
        auto* ownApprove = child<QPushButton>(own, "approve");
        QVERIFY(!ownApprove->isEnabled());
        QCOMPARE(ownApprove->toolTip(), *fleet::approvalBlocker(*m_rollouts->rollout(m_rolloutId),
                                                                QStringLiteral("alice")));
        QVERIFY(ownApprove->toolTip().contains(QStringLiteral("someone else")));
        QVERIFY(m_window->tabs()->tabText(3).contains(QStringLiteral("(1)")));

        // The monitor before anyone approved: Start is done, nothing offered.
        QTRY_VERIFY_WITH_TIMEOUT(child<QLabel>(monitor(), "rolloutState")
                                     ->text()
                                     .startsWith(QStringLiteral("awaiting_approval")),
                                 kTimeoutMs);
        QVERIFY(!child<QPushButton>(monitor(), "start")->isEnabled());
        QVERIFY(child<QPushButton>(monitor(), "abort")->isEnabled());

        ui::ApprovalInbox bob(*m_rollouts, QStringLiteral("bob"));
        watch(bob.model());
        bob.show();
        QCOMPARE(bob.selectedRollout(), m_rolloutId);
        auto* approve = child<QPushButton>(&bob, "approve");
        QVERIFY(approve->isEnabled());
        QVERIFY(child<QLabel>(&bob, "approvalDetails")
                    ->text()
                    .contains(m_rollouts->rollout(m_rolloutId)->plan.describe()));
        QTest::mouseClick(approve, Qt::LeftButton);
        QCOMPARE(child<QLabel>(&bob, "approvalMessage")->text(), QString());
        QCOMPARE(m_rollouts->rollout(m_rolloutId)->status.approvedBy, QStringLiteral("bob"));
        // Approved: out of both inboxes.
        QCOMPARE(bob.model()->rowCount(), 0);
        QCOMPARE(own->model()->rowCount(), 0);
        QVERIFY(!m_window->tabs()->tabText(3).contains(QStringLiteral("(")));
    }

    void monitorShowsTheEnginesPause() {
        QVERIFY(m_rolloutId);
        // The first wave's two devices fail on their links; 2 of 2 executed > 40%: paused.
        QTRY_COMPARE_WITH_TIMEOUT(m_rollouts->rollout(m_rolloutId)->status.state,
                                  RolloutState::Paused, kTimeoutMs);
        const rollout::RolloutStatus status = m_rollouts->rollout(m_rolloutId)->status;
        QVERIFY(!status.pauseReason.isEmpty());
        QCOMPARE(status.waves.at(0).failed, 2);

        auto* reason = child<QLabel>(monitor(), "pauseReason");
        QTRY_VERIFY_WITH_TIMEOUT(reason->isVisible(), kTimeoutMs);
        QCOMPARE(reason->text(), QStringLiteral("Paused: %1").arg(status.pauseReason));
        auto* wave1 = child<QProgressBar>(monitor(), "wave1");
        QVERIFY(wave1);
        QVERIFY2(wave1->text().contains(QStringLiteral("0 of 2 succeeded, 2 failed")),
                 qPrintable(wave1->text()));
        QCOMPARE(child<QProgressBar>(monitor(), "wave2")->text(),
                 QStringLiteral("Wave 2 (100%): waiting"));
        QCOMPARE(child<QLabel>(monitor(), "count_failed")->text(), QStringLiteral("failed: 2"));
        QCOMPARE(child<QLabel>(monitor(), "count_pending")->text(), QStringLiteral("pending: 4"));
        QVERIFY(!child<QPushButton>(monitor(), "pause")->isEnabled());
        QVERIFY(child<QPushButton>(monitor(), "resume")->isEnabled());
        QVERIFY(child<QPushButton>(monitor(), "retryFailed")->isEnabled());
        QVERIFY(child<QPushButton>(monitor(), "abort")->isEnabled());

        // The device table: the first wave's devices failed, with the link's reason.
        const ui::RolloutDeviceModel* devices = monitor()->deviceModel();
        for (int row = 0; row < kGateways; ++row) {
            const QString state =
                devices->index(row, ui::RolloutDeviceModel::State).data().toString();
            QCOMPARE(state, row < 2 ? QStringLiteral("failed") : QStringLiteral("pending"));
        }
        QVERIFY(!devices->index(0, ui::RolloutDeviceModel::Reason).data().toString().isEmpty());
        QCOMPARE(devices->index(0, ui::RolloutDeviceModel::Device).data().toString(),
                 QStringLiteral("gw-01"));
        // The rollouts table says the same.
        const ui::RolloutTableModel* table = m_window->rolloutsView()->model();
        const int row = table->rowOf(m_rolloutId);
        QCOMPARE(table->index(row, ui::RolloutTableModel::PauseReason).data().toString(),
                 status.pauseReason);

        // Retry failed offers the first wave's devices again: the rollout runs again at once.
        QTest::mouseClick(child<QPushButton>(monitor(), "retryFailed"), Qt::LeftButton);
        QCOMPARE(child<QLabel>(monitor(), "actionMessage")->text(), QString());
        QCOMPARE(m_rollouts->rollout(m_rolloutId)->status.state, RolloutState::Running);
        QVERIFY(!child<QPushButton>(monitor(), "resume")->isEnabled());

        // Abort ends it for good; Retry is gone too (nothing may be offered again).
        QTest::mouseClick(child<QPushButton>(monitor(), "abort"), Qt::LeftButton);
        QCOMPARE(m_rollouts->rollout(m_rolloutId)->status.state, RolloutState::Aborted);
        QTRY_VERIFY_WITH_TIMEOUT(!child<QPushButton>(monitor(), "resume")->isEnabled(), kTimeoutMs);
        QVERIFY(!child<QPushButton>(monitor(), "abort")->isEnabled());
        QVERIFY(!child<QPushButton>(monitor(), "retryFailed")->isEnabled());
    }
};

QTEST_MAIN(TestRolloutWizard)
#include "tst_rolloutwizard.moc"
