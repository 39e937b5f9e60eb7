// Benchmark: the console's device table over a store of 1,000,000 devices (a generated SQLite
// fleet file, tests/support/GeneratedFleet.h), offscreen. The paged list (ui/DeviceBrowser over
// fleet/StoreDevicePages) is timed from construction to its first painted page, then a filter
// change, a sort change, a free-text search, scrolling one full page and a jump far down, each
// until the rows are painted. Baselines in the same run: the same page read by hand with one SQL
// statement on this thread (the store alone), and reading every device into memory as a mirror
// does (what the table did before). Peak RSS of the process after each stage (the store is made
// by a child run of this program, so its SQLite cache does not count). Prints; asserts
// nothing. The QCustomPlot replot of a 1,000,000-point series is bench_chart_replot's (the
// bench_console target runs both).
// Usage: bench_console_devices [--devices N] [--dir DIR] [--skip-baseline]
#include "GeneratedFleet.h"

#include "fleet/StoreDevicePages.h"
#include "store/FleetStore.h"
#include "ui/DeviceBrowser.h"
#include "ui/PagedDeviceModel.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QHeaderView>
#include <QLineEdit>
#include <QProcess>
#include <QScrollBar>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTableView>
#include <QTemporaryDir>
#include <QThread>

#include <cstdio>
#include <functional>

using namespace otafleet;

namespace {

// VmHWM (peak) and VmRSS of this process in MiB.
std::pair<double, double> memoryMiB() {
    QFile status(QStringLiteral("/proc/self/status"));
    double peak = 0;
    double now = 0;
    if (status.open(QIODevice::ReadOnly)) {
        for (const QByteArray& line : status.readAll().split('\n')) {
            const QList<QByteArray> parts = line.simplified().split(' ');
            if (parts.size() >= 2 && parts.at(0) == "VmHWM:")
                peak = parts.at(1).toDouble() / 1024;
            if (parts.size() >= 2 && parts.at(0) == "VmRSS:")
                now = parts.at(1).toDouble() / 1024;
        }
    }
    return {peak, now};
}

void report(const char* what, double ms, const char* note = "") {
    const auto [peak, now] = memoryMiB();
    std::printf("%-52s %10.1f ms   rss %7.1f MiB  peak %7.1f MiB  %s\n", what, ms, now, peak, note);
    std::fflush(stdout);
}

// Processes events until `done` holds; false after `timeoutMs`.
bool waitUntil(const std::function<bool()>& done, int timeoutMs = 120000) {
    QElapsedTimer timer;
    timer.start();
    while (!done()) {
        if (timer.elapsed() > timeoutMs)
            return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    }
    return true;
}

// Counts the table viewport's paint events, so "shown" means painted, not only loaded.
class PaintCounter : public QObject {
public:
    int paints = 0;
    bool eventFilter(QObject* watched, QEvent* event) override {
        if (event->type() == QEvent::Paint)
            ++paints;
        return QObject::eventFilter(watched, event);
    }
};

bool visibleRowsLoaded(QTableView& view) {
    const QModelIndex top = view.indexAt(QPoint(2, 2));
    const QModelIndex bottom = view.indexAt(QPoint(2, view.viewport()->height() - 2));
    if (!top.isValid())
        return view.model()->rowCount() == 0;
    const int last = bottom.isValid() ? bottom.row() : view.model()->rowCount() - 1;
    for (int row = top.row(); row <= last; ++row) {
        if (!view.model()->index(row, 0).data(ui::PagedDeviceModel::LoadedRole).toBool())
            return false;
    }
    return true;
}

// Time until the visible rows are loaded and painted after `step`.
double timeToPaint(QTableView& view, PaintCounter& counter, const std::function<void()>& step,
                   const std::function<bool()>& ready) {
    QElapsedTimer timer;
    timer.start();
    step();
    if (!waitUntil([&] { return ready() && visibleRowsLoaded(view); }))
        return -1;
    const int before = counter.paints;
    view.viewport()->update();
    waitUntil([&] { return counter.paints > before; });
    return double(timer.nsecsElapsed()) / 1e6;
}

double sqlPageMs(const QString& path, const QString& sql) {
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("base"));
    db.setDatabaseName(path);
    double ms = -1;
    if (db.open()) {
        QElapsedTimer timer;
        timer.start();
        QSqlQuery q(db);
        int rows = 0;
        if (q.exec(sql)) {
            while (q.next())
                ++rows;
        }
        ms = double(timer.nsecsElapsed()) / 1e6;
        q.finish();
        db.close();
    }
    db = QSqlDatabase();
    QSqlDatabase::removeDatabase(QStringLiteral("base"));
    return ms;
}

}  // namespace

int main(int argc, char* argv[]) {
    QElapsedTimer processTimer;
    processTimer.start();
    QApplication app(argc, argv);
    const double appReadyMs = double(processTimer.nsecsElapsed()) / 1e6;
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("The console's paged device table over a store of many devices."));
    parser.addHelpOption();
    const QCommandLineOption devicesOption(
        QStringLiteral("devices"), QStringLiteral("Devices in the store (default 1000000)."),
        QStringLiteral("N"), QStringLiteral("1000000"));
    const QCommandLineOption dirOption(
        QStringLiteral("dir"), QStringLiteral("Where the store is kept (reused when it has N)."),
        QStringLiteral("DIR"));
    const QCommandLineOption skipBaselineOption(
        QStringLiteral("skip-baseline"),
        QStringLiteral("Do not read every device into memory (the slow baseline)."));
    const QCommandLineOption generateOption(
        QStringLiteral("generate-only"),
        QStringLiteral("Only make the store (a child run, so its memory is not counted)."));
    parser.addOptions({devicesOption, dirOption, skipBaselineOption, generateOption});
    parser.process(app);
    bool ok = false;
    const qint64 devices = parser.value(devicesOption).toLongLong(&ok);
    if (!ok || devices < 1000 || devices > 20'000'000) {
        std::fprintf(stderr, "bench_console_devices: --devices takes 1000..20000000\n");
        return 2;
    }
    QTemporaryDir tmp(QDir::tempPath() + QStringLiteral("/bench-console-XXXXXX"));
    const QString dir = parser.isSet(dirOption) ? parser.value(dirOption) : tmp.path();
    QDir().mkpath(dir);
    const QString path = QDir(dir).filePath(QStringLiteral("fleet-%1.sqlite").arg(devices));
    std::printf("bench_console_devices: %lld devices in %s, Qt %s, %d cores\n",
                static_cast<long long>(devices), qPrintable(path), qVersion(),
                QThread::idealThreadCount());
    if (parser.isSet(generateOption)) {
        QElapsedTimer timer;
        timer.start();
        if (auto made =
                testsupport::generateFleetDevices(path, devices, QDateTime::currentDateTimeUtc());
            !made) {
            std::fprintf(stderr, "bench_console_devices: %s\n",
                         qPrintable(made.error().toString()));
            return 1;
        }
        std::printf("store generated (one transaction, indexes)       %10.1f ms   %.0f MiB file\n",
                    double(timer.elapsed()), double(QFile(path).size()) / (1 << 20));
        return 0;
    }
    if (!QFile::exists(path)) {
        // Made by a child run: its SQLite cache is not this process's memory.
        std::fflush(stdout);
        const int made =
            QProcess::execute(QCoreApplication::applicationFilePath(),
                              {QStringLiteral("--generate-only"), QStringLiteral("--devices"),
                               QString::number(devices), QStringLiteral("--dir"), dir});
        if (made != 0)
            return 1;
    }
    std::printf("%-52s %13s\n", "stage", "time");
    report("process start to QApplication ready", appReadyMs);

    auto source = std::make_shared<fleet::StoreDevicePages>(path);
    QElapsedTimer startTimer;
    startTimer.start();
    ui::DeviceBrowser browser(source);
    browser.resize(1180, 640);
    QTableView& view = *browser.table();
    PaintCounter counter;
    view.viewport()->installEventFilter(&counter);
    browser.show();
    ui::PagedDeviceModel& model = *browser.model();
    if (!waitUntil([&] { return model.isReady() && visibleRowsLoaded(view); })) {
        std::fprintf(stderr, "bench_console_devices: the first page never came\n");
        return 1;
    }
    waitUntil([&] { return counter.paints > 0; });
    const double firstPaint = double(startTimer.nsecsElapsed()) / 1e6;
    report("device table: window start to first painted page", firstPaint);
    std::printf("  (rows %d, one page of %d read; %lld pages fetched)\n", model.rowCount(),
                ui::PagedDeviceModel::kPageSize, static_cast<long long>(model.pagesFetched()));
    report("  baseline: the same page by hand in SQL",
           sqlPageMs(path, QStringLiteral("SELECT * FROM fleet_devices ORDER BY device_id LIMIT "
                                          "200")));
    report("  baseline: COUNT(*) by hand in SQL",
           sqlPageMs(path, QStringLiteral("SELECT COUNT(*) FROM fleet_devices")));

    const auto queryReady = [&] { return model.isReady(); };
    const auto filterTo = [&](const QString& text) {
        return [&, text] {
            browser.filterBar()->setText(text);
            browser.applyFilterBar();
        };
    };
    // A new query is ready once queryFinished arrived; count them.
    int queries = 0;
    QObject::connect(&model, &ui::PagedDeviceModel::queryFinished, [&] { ++queries; });
    const auto nextQuery = [&](int before) { return [&, before] { return queries > before; }; };

    int q = queries;
    report(
        "filter change (model = sensor-s2 and state = online)",
        timeToPaint(view, counter, filterTo(QStringLiteral("model = sensor-s2 and state = online")),
                    nextQuery(q)));
    std::printf("  (%d devices match)\n", model.rowCount());
    report("  baseline: its count and first page by hand in SQL",
           sqlPageMs(path, QStringLiteral("SELECT COUNT(*) FROM fleet_devices WHERE model = "
                                          "'sensor-s2' AND online = 1")) +
               sqlPageMs(path, QStringLiteral("SELECT * FROM fleet_devices WHERE model = "
                                              "'sensor-s2' AND online = 1 ORDER BY device_id "
                                              "LIMIT 200")));
    q = queries;
    report("sort change (last seen, newest first)",
           timeToPaint(
               view, counter,
               [&] { view.sortByColumn(ui::PagedDeviceModel::LastSeen, Qt::DescendingOrder); },
               nextQuery(q)));
    q = queries;
    report("filter change (tag = pilot: matched past SQL)",
           timeToPaint(view, counter, filterTo(QStringLiteral("tag = pilot")), nextQuery(q)));
    std::printf("  (%d devices match)\n", model.rowCount());
    q = queries;
    report("free-text search (\"0042\")",
           timeToPaint(view, counter, filterTo(QStringLiteral("0042")), nextQuery(q)));
    std::printf("  (%d devices match)\n", model.rowCount());
    q = queries;
    report("filter cleared (every device, last seen order)",
           timeToPaint(view, counter, filterTo(QString()), nextQuery(q)));

    const int visible = view.indexAt(QPoint(2, view.viewport()->height() - 2)).row() -
                        view.indexAt(QPoint(2, 2)).row() + 1;
    QList<double> pageScrolls;
    for (int i = 0; i < 5; ++i) {
        pageScrolls << timeToPaint(
            view, counter,
            [&] { view.verticalScrollBar()->triggerAction(QAbstractSlider::SliderPageStepAdd); },
            queryReady);
    }
    std::sort(pageScrolls.begin(), pageScrolls.end());
    report("scrolling one full page (median of 5)", pageScrolls.at(2),
           qPrintable(QStringLiteral("(%1 rows a page on screen)").arg(visible)));
    QList<double> jumps;
    for (const double fraction : {0.7, 0.35, 0.95}) {
        jumps << timeToPaint(
            view, counter,
            [&] {
                view.verticalScrollBar()->setValue(
                    int(view.verticalScrollBar()->maximum() * fraction));
            },
            queryReady);
    }
    std::sort(jumps.begin(), jumps.end());
    report("jump far down by the scroll bar (median of 3)", jumps.at(1));
    std::printf("  (%lld pages fetched in all, %d kept)\n",
                static_cast<long long>(model.pagesFetched()), model.cachedPageCount());
    report("  baseline: a page at offset 700,000 by hand (OFFSET)",
           sqlPageMs(path, QStringLiteral("SELECT * FROM fleet_devices ORDER BY last_seen_ms DESC,"
                                          " device_id DESC LIMIT 200 OFFSET %1")
                               .arg(qint64(devices * 0.7))));

    if (!parser.isSet(skipBaselineOption)) {
        // What a table that holds every device (the mirror) pays: every row read and kept.
        QElapsedTimer timer;
        timer.start();
        auto store = store::FleetStore::open(path);
        qsizetype held = 0;
        if (store) {
            auto all = (*store)->fleetDevices().all();
            held = all ? all->size() : 0;
            report("baseline: read every device into memory (a mirror)",
                   double(timer.nsecsElapsed()) / 1e6,
                   qPrintable(QStringLiteral("(%1 devices held)").arg(held)));
        }
    }
    const auto [peak, now] = memoryMiB();
    std::printf("peak RSS of the process throughout: %.1f MiB\n", peak);
    return 0;
}
