// RolloutTableModel over real EmbeddedRollouts (SQLite file, DeviceHub with the real LAN plugin),
// watched by QAbstractItemModelTester while a rollout is created, started, pauses itself (its
// devices cannot be reached: no operator identity) and is aborted.
#include "VerifyOk.h"
#include "fleet/EmbeddedFleet.h"
#include "fleet/EmbeddedRollouts.h"
#include "link/DeviceHub.h"
#include "store/FleetStore.h"
#include "ui/RolloutTableModel.h"
#include "ui/RolloutsView.h"

#include <QAbstractItemModelTester>
#include <QFile>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;
using ui::RolloutTableModel;

class TestRolloutTableModel : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    std::unique_ptr<link::DeviceHub> m_hub;
    std::unique_ptr<fleet::EmbeddedFleet> m_fleet;
    rollout::SystemClock m_clock;
    std::unique_ptr<fleet::EmbeddedRollouts> m_rollouts;
    std::unique_ptr<RolloutTableModel> m_model;
    std::unique_ptr<QAbstractItemModelTester> m_tester;

    QString cell(int row, int column) const {
        return m_model->data(m_model->index(row, column)).toString();
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        auto store = store::FleetStore::open(m_tmp.filePath(QStringLiteral("fleet.sqlite")));
        VERIFY_OK(store);
        m_hub = std::make_unique<link::DeviceHub>(
            link::LinkContext{m_tmp.filePath(QStringLiteral("no-pki")), {}, {}, {}},
            QStringList{QStringLiteral(OTAFLEET_PLUGIN_DIR)});
        auto fleet = fleet::EmbeddedFleet::create(std::move(*store), *m_hub);
        VERIFY_OK(fleet);
        m_fleet = std::move(*fleet);
        auto rollouts = fleet::EmbeddedRollouts::create(*m_fleet, m_clock);
        VERIFY_OK(rollouts);
        m_rollouts = std::move(*rollouts);
        m_rollouts->setTickInterval(20);
        m_model = std::make_unique<RolloutTableModel>(*m_rollouts);
        m_tester = std::make_unique<QAbstractItemModelTester>(
            m_model.get(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    }

    void cleanupTestCase() {
        m_tester.reset();
        m_model.reset();
        m_rollouts.reset();
        m_fleet.reset();
        m_hub.reset();
    }

    void followsARolloutThroughItsStates() {
        QCOMPARE(m_model->rowCount(), 0);
        QList<qint64> ids;
        for (int port : {9, 10}) {
            auto id = m_fleet->addDevice(QStringLiteral("127.0.0.1:%1").arg(port), QString());
            VERIFY_OK(id);
            ids.append(*id);
        }
        const QString bundle = m_tmp.filePath(QStringLiteral("release.otab"));
        QFile file(bundle);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("not reached: the devices cannot be contacted");
        file.close();
        rollout::PlanOptions options;
        options.waves = QStringLiteral("1,100%");
        options.minExecuted = QStringLiteral("1");
        auto plan = rollout::RolloutPlan::fromOptions(options);
        VERIFY_OK(plan);
        auto id = m_rollouts->createRollout(QStringLiteral("night release"), bundle, *plan, ids,
                                            QStringLiteral("alice"));
        VERIFY_OK(id);
        QCOMPARE(m_model->rowCount(), 1);
        QCOMPARE(m_model->rowOf(*id), 0);
        QCOMPARE(cell(0, RolloutTableModel::Name), QStringLiteral("night release"));
        QCOMPARE(cell(0, RolloutTableModel::State), QStringLiteral("draft"));
        QCOMPARE(cell(0, RolloutTableModel::Wave), QStringLiteral("not started"));
        QCOMPARE(m_model->index(0, 0).data(RolloutTableModel::TotalRole).toLongLong(), 2);

        VERIFY_OK(m_rollouts->start(*id, QStringLiteral("alice")));
        QTRY_COMPARE_WITH_TIMEOUT(cell(0, RolloutTableModel::State), QStringLiteral("paused"),
                                  30000);
        QCOMPARE(cell(0, RolloutTableModel::Wave), QStringLiteral("1 of 2"));
        QCOMPARE(cell(0, RolloutTableModel::Progress), QStringLiteral("0 of 2 succeeded"));
        QVERIFY(!cell(0, RolloutTableModel::PauseReason).isEmpty());
        QCOMPARE(cell(0, RolloutTableModel::PauseReason),
                 m_rollouts->rollout(*id)->status.pauseReason);

        // The view: one bar per wave, the engine's reason, and only the buttons that apply.
        ui::RolloutsView view(*m_rollouts, *m_fleet, QStringLiteral("bob"));
        view.resize(900, 420);
        view.show();
        QCOMPARE(view.selectedRollout(), *id);
        QCOMPARE(view.findChildren<QProgressBar*>().size(), 2);
        auto* first = view.findChild<QProgressBar*>(QStringLiteral("wave1"));
        QVERIFY(first);
        QCOMPARE(view.findChild<QProgressBar*>(QStringLiteral("wave2"))->text(),
                 QStringLiteral("Wave 2 (100%): waiting"));
        QVERIFY2(first->text().contains(QStringLiteral("0 of 1 succeeded, 1 failed")),
                 qPrintable(first->text()));
        QVERIFY(view.findChild<QLabel*>(QStringLiteral("pauseReason"))
                    ->text()
                    .contains(m_rollouts->rollout(*id)->status.pauseReason));
        auto* pause = view.findChild<QPushButton*>(QStringLiteral("pause"));
        auto* resume = view.findChild<QPushButton*>(QStringLiteral("resume"));
        auto* abort = view.findChild<QPushButton*>(QStringLiteral("abort"));
        QVERIFY(!pause->isEnabled());
        QVERIFY(resume->isEnabled());
        QVERIFY(abort->isEnabled());
        if (const QString shots = qEnvironmentVariable("OTAFLEET_SCREENSHOT_DIR"); !shots.isEmpty())
            view.grab().save(shots + QStringLiteral("/rollouts.png"));

        QTest::mouseClick(abort, Qt::LeftButton);
        QCOMPARE(cell(0, RolloutTableModel::State), QStringLiteral("aborted"));
        QVERIFY(!abort->isEnabled());
        QVERIFY(!resume->isEnabled());
        QVERIFY(m_rollouts->rollout(*id)->status.state == rollout::RolloutState::Aborted);
    }
};

QTEST_MAIN(TestRolloutTableModel)
#include "tst_rollouttablemodel.moc"
