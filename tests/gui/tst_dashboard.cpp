// The dashboard in the real MainWindow (offscreen) over an EmbeddedFleet of three real agents on
// loopback and one address nobody answers: one rev-a device updated to a release with a higher
// security version, one rev-a device left behind, one rev-b device that refused a bundle for
// other hardware. The figures, the bars and the failure list must match the fleet, and clicking
// a bar or a figure must filter the device list to exactly those devices.
#include "AgentProcess.h"
#include "TestBundles.h"
#include "TestPki.h"
#include "VerifyOk.h"

#include "fleet/EmbeddedFleet.h"
#include "fleet/FleetSummary.h"
#include "link/DeviceHub.h"
#include "store/FleetStore.h"
#include "ui/DashboardView.h"
#include "ui/DeviceFilterProxy.h"
#include "ui/DeviceTableModel.h"
#include "ui/MainWindow.h"
#include "ui/QCustomPlotInclude.h"

#include <QLineEdit>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>
#include <QTreeWidget>

using namespace otafleet;

namespace {
constexpr int kTimeoutMs = 60000;
}

class TestDashboard : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    std::optional<test::TestPki> m_pki;
    std::vector<std::unique_ptr<test::AgentProcess>> m_agents;
    std::unique_ptr<link::DeviceHub> m_hub;
    std::unique_ptr<fleet::EmbeddedFleet> m_fleet;
    std::unique_ptr<ui::MainWindow> m_window;
    QList<qint64> m_ids;  // bench-1 (rev-a), bench-2 (rev-a), bench-3 (rev-b), nobody
    QString m_model;      // what the agents report

    ui::DashboardView* dashboard() const { return m_window->dashboard(); }

    int figure(const char* name) const {
        auto* button = dashboard()->findChild<QToolButton*>(QLatin1String(name));
        return button ? button->text().section(QLatin1Char('\n'), 0, 0).toInt() : -1;
    }

    // Device ids the device table shows now, in table order.
    QList<qint64> listedDevices() const {
        QList<qint64> ids;
        const QAbstractItemModel* model = m_window->deviceTable()->model();
        for (int row = 0; row < model->rowCount(); ++row)
            ids.append(model->index(row, 0).data(ui::DeviceTableModel::DeviceIdRole).toLongLong());
        return ids;
    }

    Status startAgent(const QString& name, const QString& hardware) {
        auto agent = test::AgentProcess::setUp(QStringLiteral(OTAFLEET_BIN_DIR),
                                               m_tmp.filePath(name), m_pki->pkiDir, name, hardware);
        if (!agent)
            return fail(agent.error());
        if (auto started = (*agent)->start(); !started)
            return started;
        m_agents.push_back(std::move(*agent));
        return {};
    }

    void showDashboard() {
        m_window->tabs()->setCurrentWidget(dashboard());
        dashboard()->reload();
        QCoreApplication::processEvents();
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        auto pki = test::TestPki::create(m_tmp.path(), false);
        VERIFY_OK(pki);
        m_pki = std::move(*pki);
        VERIFY_OK(startAgent(QStringLiteral("bench-1"), QStringLiteral("rev-a")));
        VERIFY_OK(startAgent(QStringLiteral("bench-2"), QStringLiteral("rev-a")));
        VERIFY_OK(startAgent(QStringLiteral("bench-3"), QStringLiteral("rev-b")));

        auto store = store::FleetStore::open(m_tmp.filePath(QStringLiteral("fleet.sqlite")));
        VERIFY_OK(store);
        m_hub = std::make_unique<link::DeviceHub>(link::LinkContext{m_pki->pkiDir, {}, {}, {}},
                                                  QStringList{QStringLiteral(OTAFLEET_PLUGIN_DIR)});
        auto fleet = fleet::EmbeddedFleet::create(std::move(*store), *m_hub);
        VERIFY_OK(fleet);
        m_fleet = std::move(*fleet);
        m_window = std::make_unique<ui::MainWindow>(*m_fleet);
        m_window->resize(1280, 800);
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));

        // A port that was free a moment ago: connections are refused.
        QTcpServer closed;
        QVERIFY(closed.listen(QHostAddress::LocalHost, 0));
        const QString nobody = QStringLiteral("127.0.0.1:%1").arg(closed.serverPort());
        closed.close();

        QSignalSpy finished(m_fleet.get(), &fleet::FleetService::operationFinished);
        for (const auto& agent : m_agents) {
            auto id = m_fleet->addDevice(agent->target(), QString());
            VERIFY_OK(id);
            m_ids.append(*id);
        }
        auto unreachable = m_fleet->addDevice(nobody, QStringLiteral("nobody"));
        VERIFY_OK(unreachable);
        m_ids.append(*unreachable);
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 4, kTimeoutMs);
        QVERIFY(m_fleet->device(m_ids.at(0))->snapshot);
        m_model = m_fleet->device(m_ids.at(0))->snapshot->model;
        QVERIFY(!m_model.isEmpty());
        QVERIFY(m_fleet->device(m_ids.at(3))->lastError);

        // bench-1 gets 1.1.0 with security version 2; bench-2 keeps 1.0.0 (security version 1).
        test::TestBundleSpec fix;
        fix.securityVersion = 2;
        auto bundle = test::makeSignedBundle(*m_pki, m_tmp.path(), fix);
        VERIFY_OK(bundle);
        VERIFY_OK(m_fleet->startUpdate(m_ids.at(0), *bundle, link::UpdateOptions{}));
        // bench-3 (rev-b) is pushed a bundle for rev-z: it refuses it and stays on 1.0.0.
        test::TestBundleSpec wrong;
        wrong.version = QStringLiteral("2.0.0");
        wrong.hardware = QStringLiteral("rev-z");
        auto wrongBundle = test::makeSignedBundle(*m_pki, m_tmp.path(), wrong);
        VERIFY_OK(wrongBundle);
        VERIFY_OK(m_fleet->startUpdate(m_ids.at(2), *wrongBundle, link::UpdateOptions{}));
        QTRY_VERIFY_WITH_TIMEOUT(
            !m_fleet->device(m_ids.at(0))->running && !m_fleet->device(m_ids.at(2))->running,
            kTimeoutMs);
        QTRY_COMPARE_WITH_TIMEOUT(m_fleet->device(m_ids.at(0))->snapshot->activeVersion(),
                                  QStringLiteral("1.1.0"), kTimeoutMs);
        QTRY_VERIFY_WITH_TIMEOUT(m_fleet->device(m_ids.at(2))->lastError, kTimeoutMs);
    }

    void cleanupTestCase() {
        m_window.reset();
        m_fleet.reset();
        m_hub.reset();
        m_agents.clear();
    }

    void figuresMatchTheFleet() {
        showDashboard();
        const fleet::FleetSummary& s = dashboard()->summary();
        QCOMPARE(s.total, 4);
        QCOMPARE(s.online, 3);
        QCOMPARE(s.offline, 1);
        QCOMPARE(s.neverSeen, 1);
        QCOMPARE(s.failing, 2);
        QCOMPARE(s.needingSecurityUpdate, 1);  // bench-2: bench-1 runs security version 2
        // What the view shows is what the summary says.
        QCOMPARE(figure("figureTotal"), 4);
        QCOMPARE(figure("figureOnline"), 3);
        QCOMPARE(figure("figureOffline"), 1);
        QCOMPARE(figure("figureSecurity"), 1);
        QCOMPARE(figure("figureFailing"), 2);

        const QList<fleet::VersionCount> expected = {
            {m_model, QStringLiteral("rev-a"), QStringLiteral("1.0.0"), 1},
            {m_model, QStringLiteral("rev-a"), QStringLiteral("1.1.0"), 1},
            {m_model, QStringLiteral("rev-b"), QStringLiteral("1.0.0"), 1}};
        QCOMPARE(s.versions, expected);
        // One bar series per model and hardware revision, holding exactly those counts.
        QCustomPlot* chart = dashboard()->versionChart();
        QVERIFY(chart->isVisible());
        QCOMPARE(chart->plottableCount(), 2);
        double plotted = 0;
        for (int i = 0; i < chart->plottableCount(); ++i) {
            auto* bars = qobject_cast<QCPBars*>(chart->plottable(i));
            QVERIFY(bars);
            QVERIFY(bars->name().contains(m_model));
            for (int d = 0; d < bars->dataCount(); ++d)
                plotted += bars->data()->at(d)->value;
        }
        QCOMPARE(plotted, 3.0);

        QTreeWidget* failures = dashboard()->failureList();
        QCOMPARE(failures->topLevelItemCount(), 2);
        QStringList texts;
        for (int i = 0; i < failures->topLevelItemCount(); ++i)
            texts.append(failures->topLevelItem(i)->toolTip(2));
        QVERIFY2(texts.join(u'|').contains(QStringLiteral("bundle.wrong-hardware")),
                 qPrintable(texts.join(u'|')));
        if (const QString shots = qEnvironmentVariable("OTAFLEET_SCREENSHOT_DIR"); !shots.isEmpty())
            m_window->grab().save(shots + QStringLiteral("/dashboard.png"));
    }

    void clickingABarFiltersTheDeviceList() {
        showDashboard();
        QSignalSpy requested(dashboard(), &ui::DashboardView::filterRequested);
        const QPoint bar =
            dashboard()->barCenter({m_model, QStringLiteral("rev-a"), QStringLiteral("1.1.0"), 1});
        QVERIFY(!bar.isNull());
        QTest::mouseClick(dashboard()->versionChart(), Qt::LeftButton, {}, bar);
        QCOMPARE(requested.size(), 1);
        QCOMPARE(m_window->tabs()->currentIndex(), 0);  // the device list
        QVERIFY(m_window->filterBar()->text().contains(QStringLiteral("1.1.0")));
        QCOMPARE(listedDevices(), QList<qint64>{m_ids.at(0)});
        QCOMPARE(m_window->selectedDeviceId(), m_ids.at(0));

        // The rev-a bar of 1.0.0 is bench-2 only, not bench-3 (rev-b, same version).
        showDashboard();
        QTest::mouseClick(
            dashboard()->versionChart(), Qt::LeftButton, {},
            dashboard()->barCenter({m_model, QStringLiteral("rev-a"), QStringLiteral("1.0.0"), 1}));
        QCOMPARE(listedDevices(), QList<qint64>{m_ids.at(1)});
    }

    void clickingAFigureFiltersTheDeviceList() {
        showDashboard();
        QTest::mouseClick(dashboard()->findChild<QToolButton*>(QStringLiteral("figureOffline")),
                          Qt::LeftButton);
        QCOMPARE(listedDevices(), QList<qint64>{m_ids.at(3)});
        showDashboard();
        QTest::mouseClick(dashboard()->findChild<QToolButton*>(QStringLiteral("figureTotal")),
                          Qt::LeftButton);
        QCOMPARE(listedDevices(), m_ids);
    }

    void badFilterIsExplainedAndKeepsTheList() {
        m_window->showDevicesMatching(QStringLiteral("hardware = rev-b"));
        QCOMPARE(listedDevices(), QList<qint64>{m_ids.at(2)});
        m_window->showDevicesMatching(QStringLiteral("colour = red"));
        QVERIFY2(m_window->statusBar()->currentMessage().contains(QStringLiteral("colour")),
                 qPrintable(m_window->statusBar()->currentMessage()));
        QCOMPARE(listedDevices(), QList<qint64>{m_ids.at(2)});
        // Clearing the filter bar shows everyone again.
        m_window->filterBar()->clear();
        QCOMPARE(listedDevices(), m_ids);
    }
};

QTEST_MAIN(TestDashboard)
#include "tst_dashboard.moc"
