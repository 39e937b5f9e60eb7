// The GUI thread never waits on the network: a console window on a real otafleetd whose process
// is then stopped (SIGSTOP: connections stay open, calls hang until their deadline). While it is
// stalled the test works the window the way a person would (refresh, filter, select, read the
// dashboard, go through every tab of the server window: rollouts, approvals, telemetry charts and
// whatever else the window holds) and a 5 ms timer on the GUI thread measures the gaps between
// its ticks.
// - A call that waited on the stalled server would hold the GUI thread until its 2 s deadline:
//   no gap may reach 500 ms.
// - The event loop answers within 50 ms: 99% of the gaps are shorter. (Not every one: on a
//   shared 2-core CI machine the scheduler alone sometimes parks a thread for tens of ms; the
//   same work with the server answering is measured and printed beside it.)
// The console must also notice the stall by itself (offline, retrying), and come back online
// once the server runs again.
#include "LoopProbe.h"
#include "ServerTestBase.h"
#include "ServerWindows.h"

#include "fleet/FleetSummary.h"
#include "fleet/RemoteFleet.h"
#include "ui/MainWindow.h"

#include <QAbstractItemView>
#include <QComboBox>
#include <QElapsedTimer>
#include <QLabel>
#include <QTabWidget>
#include <QTableView>
#include <QTest>

#include <csignal>

using namespace otafleet;
using namespace otafleet::test;

namespace {

constexpr qint64 kAnswerMs = 50;      // 99% of the gaps
constexpr qint64 kNeverWaitMs = 500;  // every gap; a wait on the server would last 2 s

}  // namespace

class TestGuiStall : public QObject, public ServerTestBase {
    Q_OBJECT

    client::ConsoleSettings adminSettings() const {
        client::ConsoleSettings s;
        s.address = m_server->address();
        s.pkiDir = m_pki->pkiDir;
        return s;
    }

    // Shows the window's next tab and works what it holds: a chart choice changes (the telemetry
    // tab asks the server), the first row of each table is selected (a rollout's monitor asks
    // for its devices).
    static void nextTab(ui::MainWindow& window) {
        auto* tabs = window.findChild<QTabWidget*>();
        if (!tabs || tabs->count() == 0)
            return;
        tabs->setCurrentIndex((tabs->currentIndex() + 1) % tabs->count());
        QWidget* page = tabs->currentWidget();
        for (auto* box : page->findChildren<QComboBox*>()) {
            if (box->isVisible() && box->isEnabled() && box->count() > 1)
                box->setCurrentIndex((box->currentIndex() + 1) % box->count());
        }
        for (auto* view : page->findChildren<QAbstractItemView*>()) {
            if (view->isVisible() && view->model() && view->model()->rowCount() > 0)
                view->setCurrentIndex(view->model()->index(0, 0));
        }
    }

    // What a person does in the window for `ms` milliseconds, one step every 40 ms.
    static void workTheWindow(ui::MainWindow& window, fleet::RemoteFleet& fleet, int ms) {
        QElapsedTimer elapsed;
        elapsed.start();
        int step = 0;
        while (elapsed.elapsed() < ms) {
            switch (step++ % 6) {
                case 0:
                    fleet.refreshAll();
                    break;
                case 1:
                    window.showDevicesMatching(QStringLiteral("model=gw-x1"));
                    break;
                case 2:
                    window.showDevicesMatching(QString());
                    break;
                case 3:
                    window.deviceTable()->selectRow(step % 3);
                    if (const qint64 id = window.selectedDeviceId(); id != 0)
                        (void)fleet.refresh(id);  // a stalled server answers later
                    break;
                case 4:
                    (void)fleet.summary();
                    (void)fleet.devices();
                    break;
                case 5:
                    nextTab(window);
                    break;
            }
            QTest::qWait(40);
        }
    }

private Q_SLOTS:
    void initTestCase() {
        startServer();
        reportDevice(QStringLiteral("gs-1"));
        reportDevice(QStringLiteral("gs-2"), QStringLiteral("1.1.0"));
        reportDevice(QStringLiteral("gs-3"));
    }

    void eventLoopAnswersWhileTheServerIsStalled() {
        fleet::RemoteFleetOptions options;
        options.pollInterval = std::chrono::milliseconds(200);
        options.backoffInitial = std::chrono::milliseconds(200);
        options.backoffMax = std::chrono::milliseconds(800);
        options.callDeadline = std::chrono::seconds(2);
        fleet::RemoteRolloutsOptions rolloutOptions;
        rolloutOptions.pollInterval = options.pollInterval;
        rolloutOptions.backoffInitial = options.backoffInitial;
        rolloutOptions.backoffMax = options.backoffMax;
        rolloutOptions.callDeadline = options.callDeadline;
        // The console's own server window, with every tab it has.
        app::ServerWindows windows;
        ui::MainWindow& window = *windows.open(adminSettings(), options, rolloutOptions);
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        auto* tabs = window.findChild<QTabWidget*>();
        QVERIFY(tabs);
        QVERIFY2(tabs->count() >= 5, "the server window lacks its rollout and telemetry tabs");
        QVERIFY(windows.fleetOf(&window));
        fleet::RemoteFleet& fleet = *windows.fleetOf(&window);
        QTRY_COMPARE_WITH_TIMEOUT(fleet.devices().size(), 3, 15000);
        QCOMPARE(fleet.connection().state, fleet::FleetConnection::State::Online);

        LoopProbe probe;
        // The same work with the server answering: what the window costs by itself.
        probe.start();
        workTheWindow(window, fleet, 1000);
        probe.stop();
        const qint64 answeringMax = probe.maxGapMs();
        const qint64 answering99 = probe.gapPercentileMs(0.99);

        const auto pid = static_cast<pid_t>(m_server->processId());
        QVERIFY(pid > 0);
        QCOMPARE(::kill(pid, SIGSTOP), 0);
        probe.start();
        // Long enough for calls to hang past their 2 s deadline and the console to notice.
        workTheWindow(window, fleet, 4000);
        QTRY_COMPARE_WITH_TIMEOUT(fleet.connection().state,
                                  fleet::FleetConnection::State::Reconnecting, 10000);
        probe.stop();
        QCOMPARE(::kill(pid, SIGCONT), 0);
        qInfo(
            "GUI-thread gaps, 99th percentile / longest: %lld / %lld ms with the server "
            "answering, %lld / %lld ms stalled (%lld ticks)",
            static_cast<long long>(answering99), static_cast<long long>(answeringMax),
            static_cast<long long>(probe.gapPercentileMs(0.99)),
            static_cast<long long>(probe.maxGapMs()), static_cast<long long>(probe.ticks()));
        QVERIFY(probe.ticks() > 100);
        QVERIFY2(probe.maxGapMs() < kNeverWaitMs,
                 qPrintable(QStringLiteral("the GUI thread stopped for %1 ms while the server "
                                           "was stalled: something waited on the network")
                                .arg(probe.maxGapMs())));
        QVERIFY2(probe.gapPercentileMs(0.99) < kAnswerMs,
                 qPrintable(QStringLiteral("1% of the event loop's gaps were %1 ms or longer "
                                           "while the server was stalled")
                                .arg(probe.gapPercentileMs(0.99))));
        QVERIFY(window.connectionLabel()->text().contains(u"offline"));
        // The view is kept while offline, and comes back live by itself.
        QCOMPARE(fleet.devices().size(), 3);
        QTRY_COMPARE_WITH_TIMEOUT(fleet.connection().state, fleet::FleetConnection::State::Online,
                                  15000);
    }

    void cleanupTestCase() {
        if (m_server && m_server->processId() > 0)
            ::kill(static_cast<pid_t>(m_server->processId()), SIGCONT);
    }
};

QTEST_MAIN(TestGuiStall)
#include "tst_guistall.moc"
