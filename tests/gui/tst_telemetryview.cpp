// The telemetry charts (ui::TelemetryView) over a real EmbeddedFleet on a temporary SQLite file,
// their reports worked out by fleet::EmbeddedTelemetry on its worker thread. Six gateways whose
// last reports and agent telemetry (boots, completed downloads, finished installs) the store
// holds, at loopback addresses where nobody answers. A rollout to them runs through the real
// EmbeddedRollouts: its first wave's offers fail on the devices' links, the wave crosses its
// failure threshold and the engine pauses it; every move lands in the rollout's history.
// Each chart is then checked against what the store holds (counts per state and wave, bins,
// reasons, versions per day), exported to PNG, PDF and CSV (read back and compared with the
// plotted series), zoomed and panned with the mouse, and hovered; the table model under the
// charts is watched by QAbstractItemModelTester throughout.
#include "VerifyOk.h"

#include "fleet/EmbeddedFleet.h"
#include "fleet/EmbeddedRollouts.h"
#include "fleet/EmbeddedTelemetry.h"
#include "link/DeviceHub.h"
#include "store/FleetStore.h"
#include "ui/ChartTableModel.h"
#include "ui/MainWindow.h"
#include "ui/QCustomPlotInclude.h"
#include "ui/TelemetryView.h"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QFile>
#include <QImage>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace otafleet;
using rollout::DeviceState;
using rollout::RolloutState;
using Chart = ui::TelemetryView::Chart;

namespace {

constexpr int kTimeoutMs = 20000;
constexpr int kTickMs = 20;
constexpr int kSettleMs = 800;
constexpr int kDevices = 6;
constexpr int kUpdated = 2;  // devices 1 and 2 moved from 1.0.0 to 1.1.0 two days ago

// MB/s of the downloads each device completed; seconds of its finished installs.
const QList<double> kThroughputs = {0.4, 1.3, 2.2, 2.45, 3.9, 0.05, 4.7, 1.25};
const QList<double> kInstallSeconds = {31, 47, 52.5, 90, 12};

link::DeviceSnapshot snapshotOf(const QString& name, const QString& version) {
    link::DeviceSnapshot s;
    s.deviceId = name;
    s.name = name;
    s.model = QStringLiteral("gateway-x1");
    s.hardware = QStringLiteral("rev-a");
    s.agentVersion = QStringLiteral("1.0.0");
    s.activeSlot = QStringLiteral("A");
    s.state = QStringLiteral("idle");
    s.healthOk = true;
    s.storedSecurityVersion = 1;
    s.slots = {{QStringLiteral("A"), QStringLiteral("active"), version, 1, {}, 0, {}},
               {QStringLiteral("B"), QStringLiteral("inactive"), {}, 0, {}, 0, {}}};
    return s;
}

// An agent event as the embedded fleet stores it (EmbeddedFleet::onTelemetry).
store::TelemetryRecord agentEvent(qint64 device, quint64 seq, const QDateTime& time,
                                  const QString& type, QJsonObject fields) {
    const bool isPhase = type != QLatin1String("boot");
    fields.insert(QStringLiteral("seq"), double(seq));
    fields.insert(QStringLiteral("time"), time.toString(Qt::ISODateWithMs));
    fields.insert(QStringLiteral("type"), isPhase ? QStringLiteral("phase") : type);
    if (isPhase)
        fields.insert(QStringLiteral("phase"), type);
    return {device, seq, time, type, QJsonDocument(fields).toJson(QJsonDocument::Compact)};
}

// RFC 4180 fields; enough for what the view writes.
QList<QStringList> parseCsv(const QByteArray& bytes) {
    QList<QStringList> rows;
    QStringList row;
    QString field;
    bool quoted = false;
    const QString text = QString::fromUtf8(bytes);
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        if (quoted) {
            if (c == u'"' && i + 1 < text.size() && text.at(i + 1) == u'"') {
                field += u'"';
                ++i;
            } else if (c == u'"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == u'"') {
            quoted = true;
        } else if (c == u',') {
            row.append(field);
            field.clear();
        } else if (c == u'\r') {
            continue;
        } else if (c == u'\n') {
            row.append(field);
            rows.append(row);
            row.clear();
            field.clear();
        } else {
            field += c;
        }
    }
    return rows;
}

bool near(double a, double b) {
    return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b));
}

}  // namespace

class TestTelemetryView : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    std::unique_ptr<link::DeviceHub> m_hub;
    std::unique_ptr<fleet::EmbeddedFleet> m_fleet;
    rollout::SystemClock m_clock;
    std::unique_ptr<fleet::EmbeddedRollouts> m_rollouts;
    std::unique_ptr<fleet::EmbeddedTelemetry> m_telemetry;
    std::unique_ptr<ui::TelemetryView> m_view;
    std::unique_ptr<QAbstractItemModelTester> m_tester;
    qint64 m_rolloutId = 0;
    QDateTime m_now = QDateTime::currentDateTimeUtc();

    QCustomPlot* plot() const { return m_view->plot(); }

    // Asks for a fresh report and waits until it is drawn.
    void refresh() {
        QSignalSpy shown(m_view.get(), &ui::TelemetryView::reportShown);
        m_view->reload();
        QVERIFY(shown.wait(kTimeoutMs));
    }

    QList<QCPBars*> bars() const {
        QList<QCPBars*> out;
        for (int i = 0; i < plot()->plottableCount(); ++i)
            if (auto* b = qobject_cast<QCPBars*>(plot()->plottable(i)))
                out.append(b);
        return out;
    }

    // The view's CSV of the shown chart, written to a file and read back.
    QList<QStringList> exportedCsv(const QString& name) {
        const QString path = m_tmp.filePath(name);
        const Status saved = m_view->exportCsv(path);
        if (!saved)
            return {};
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly))
            return {};
        return parseCsv(file.readAll());
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        auto store = store::FleetStore::open(m_tmp.filePath(QStringLiteral("fleet.sqlite")));
        VERIFY_OK(store);
        QList<store::TelemetryRecord> telemetry;
        for (int i = 0; i < kDevices; ++i) {
            const QString name = QStringLiteral("gw-%1").arg(i + 1);
            auto id =
                (*store)->devices().add(QStringLiteral("lan://127.0.0.1:%1").arg(i + 1), name);
            VERIFY_OK(id);
            const bool updated = i < kUpdated;
            const QString version = updated ? QStringLiteral("1.1.0") : QStringLiteral("1.0.0");
            VERIFY_OK((*store)->devices().recordSnapshot(
                *id,
                QJsonDocument(snapshotOf(name, version).toJson()).toJson(QJsonDocument::Compact),
                m_now));
            quint64 seq = 0;
            // Booted 1.0.0 i days after five days ago (device 6 on the fifth day, today).
            telemetry.append(agentEvent(*id, ++seq, m_now.addDays(-5 + i).addSecs(-60),
                                        QStringLiteral("boot"),
                                        {{QStringLiteral("version"), QStringLiteral("1.0.0")}}));
            if (updated) {
                telemetry.append(
                    agentEvent(*id, ++seq, m_now.addDays(-2), QStringLiteral("commit"),
                               {{QStringLiteral("version"), QStringLiteral("1.1.0")}}));
            }
            for (qsizetype k = i; k < kThroughputs.size(); k += kDevices) {
                telemetry.append(agentEvent(
                    *id, ++seq, m_now.addDays(-3).addSecs(k), QStringLiteral("upload-completed"),
                    {{QStringLiteral("throughput_bytes_per_s"), kThroughputs.at(k) * 1e6},
                     {QStringLiteral("bytes"), 1e6}}));
            }
            for (qsizetype k = i; k < kInstallSeconds.size(); k += kDevices) {
                telemetry.append(agentEvent(
                    *id, ++seq, m_now.addDays(-3).addSecs(100 + k), QStringLiteral("install-done"),
                    {{QStringLiteral("duration_ms"), kInstallSeconds.at(k) * 1000}}));
            }
        }
        VERIFY_OK((*store)->telemetry().append(telemetry));

        // No operator identity: every offer fails on the device's link.
        m_hub = std::make_unique<link::DeviceHub>(
            link::LinkContext{m_tmp.filePath(QStringLiteral("no-pki")), {}, {}, {}},
            QStringList{QStringLiteral(OTAFLEET_PLUGIN_DIR)});
        auto fleet = fleet::EmbeddedFleet::create(std::move(*store), *m_hub);
        VERIFY_OK(fleet);
        m_fleet = std::move(*fleet);
        auto rollouts = fleet::EmbeddedRollouts::create(*m_fleet, m_clock);
        VERIFY_OK(rollouts);
        m_rollouts = std::move(*rollouts);
        m_rollouts->setTickInterval(kTickMs);
        m_telemetry = std::make_unique<fleet::EmbeddedTelemetry>(*m_fleet, m_rollouts.get());

        const QString bundle = m_tmp.filePath(QStringLiteral("gateway-1.1.0.otab"));
        QFile file(bundle);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("never delivered: the devices cannot be reached");
        file.close();
        rollout::PlanOptions options;
        options.waves = QStringLiteral("3,100%");
        options.failureThreshold = QStringLiteral("20%");
        options.minExecuted = QStringLiteral("2");
        auto plan = rollout::RolloutPlan::fromOptions(options);
        VERIFY_OK(plan);
        QList<qint64> targets;
        for (const fleet::FleetDevice& d : m_fleet->devices())
            targets.append(d.id);
        auto id = m_rollouts->createRollout(QStringLiteral("gateways to 1.1.0"), bundle, *plan,
                                            targets, QStringLiteral("alice"));
        VERIFY_OK(id);
        m_rolloutId = *id;

        m_view = std::make_unique<ui::TelemetryView>(*m_telemetry);
        m_tester = std::make_unique<QAbstractItemModelTester>(
            m_view->tableModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        m_view->resize(1100, 760);
        m_view->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_view.get()));

        VERIFY_OK(m_rollouts->start(m_rolloutId, QStringLiteral("alice")));
        QTRY_COMPARE_WITH_TIMEOUT(m_rollouts->rollout(m_rolloutId)->status.state,
                                  RolloutState::Paused, kTimeoutMs);
        // Offers made before the pause end too (their links fail); then nothing moves.
        const auto inFlight = [this] {
            const rollout::RolloutStatus status = m_rollouts->rollout(m_rolloutId)->status;
            qint64 n = 0;
            for (DeviceState s : rollout::kAllDeviceStates)
                if (rollout::isInFlight(s))
                    n += status.count(s);
            return n;
        };
        QTRY_COMPARE_WITH_TIMEOUT(inFlight(), 0, kTimeoutMs);
        QTest::qWait(kSettleMs);  // the view's coalesced reloads run out
        refresh();
        QCOMPARE(m_view->rolloutId(), m_rolloutId);
    }

    void cleanupTestCase() {
        m_tester.reset();
        m_view.reset();
        m_telemetry.reset();
        m_rollouts.reset();
        m_fleet.reset();
    }

    void rolloutChoiceListsTheStoredRollouts() {
        QComboBox* box = m_view->rolloutBox();
        QCOMPARE(box->count(), 1);
        QCOMPARE(box->currentData().toLongLong(), m_rolloutId);
        m_view->showChart(Chart::Adoption);
        QVERIFY(!box->isEnabled());  // a fleet-wide chart
        m_view->showChart(Chart::Progress);
        QVERIFY(box->isEnabled());
    }

    void progressEqualsTheStoredHistory() {
        m_view->showChart(Chart::Progress);
        // What the store's history says each device ended in.
        auto history = m_fleet->store().rolloutEvents().forRollout(m_rolloutId);
        VERIFY_OK(history);
        QVERIFY(!history->isEmpty());
        QHash<qint64, QString> last;
        for (const store::RolloutEventRecord& e : std::as_const(*history))
            last.insert(e.deviceId, e.state);
        std::array<qint64, fleet::kProgressGroupCount> expected{};
        expected[std::size_t(fleet::ProgressGroup::Pending)] = kDevices - last.size();
        for (const QString& state : std::as_const(last))
            ++expected[std::size_t(fleet::progressGroupOf(*rollout::deviceStateFromName(state)))];
        // ... which is also where the engine has them.
        const rollout::RolloutStatus status = m_rollouts->rollout(m_rolloutId)->status;
        std::array<qint64, fleet::kProgressGroupCount> engine{};
        for (DeviceState s : rollout::kAllDeviceStates)
            engine[std::size_t(fleet::progressGroupOf(s))] += status.count(s);
        QCOMPARE(expected, engine);
        QVERIFY(expected[std::size_t(fleet::ProgressGroup::Failed)] >= 2);  // paused on them

        // The table (and CSV) ends with those counts; the stacked graphs add up to them.
        const QList<QStringList> csv = exportedCsv(QStringLiteral("progress.csv"));
        QCOMPARE(csv.first(),
                 (QStringList{QStringLiteral("time"), QStringLiteral("pending"),
                              QStringLiteral("in_progress"), QStringLiteral("succeeded"),
                              QStringLiteral("failed"), QStringLiteral("skipped")}));
        QCOMPARE(csv.size() - 1, m_view->report().rollout->progress.size());
        const QStringList lastRow = csv.last();
        for (fleet::ProgressGroup g : fleet::kAllProgressGroups)
            QCOMPARE(lastRow.at(qsizetype(g) + 1).toLongLong(), expected[std::size_t(g)]);
        // The first row: everyone pending.
        QCOMPARE(csv.at(1).at(1).toLongLong(), qint64(kDevices));

        QCOMPARE(plot()->graphCount(), int(fleet::kProgressGroupCount));
        // Stacked bottom-up: succeeded, failed, skipped, in progress, pending.
        const std::array order{fleet::ProgressGroup::Succeeded, fleet::ProgressGroup::Failed,
                               fleet::ProgressGroup::Skipped, fleet::ProgressGroup::InProgress,
                               fleet::ProgressGroup::Pending};
        for (qsizetype row = 1; row < csv.size(); ++row) {
            double stacked = 0;
            const QDateTime time = QDateTime::fromString(csv.at(row).at(0), Qt::ISODateWithMs);
            for (int k = 0; k < plot()->graphCount(); ++k) {
                stacked += csv.at(row).at(qsizetype(order[std::size_t(k)]) + 1).toDouble();
                const auto point = plot()->graph(k)->data()->at(int(row - 1));
                QCOMPARE(point->value, stacked);
                QCOMPARE(qint64(std::llround(point->key * 1000)), time.toMSecsSinceEpoch());
            }
            QCOMPARE(stacked, double(kDevices));
        }
    }

    void wavesAgainstTheirThresholds() {
        m_view->showChart(Chart::Waves);
        const rollout::RolloutStatus status = m_rollouts->rollout(m_rolloutId)->status;
        const QList<QCPBars*> drawn = bars();
        QCOMPARE(drawn.size(), 2);
        QCPBars* success = drawn.at(0);
        QCPBars* failure = drawn.at(1);
        QCOMPARE(success->dataCount(), 1);  // only wave 1 started
        const rollout::WaveStatus& wave = status.waves.first();
        QCOMPARE(wave.size, 3);
        QCOMPARE(success->data()->at(0)->value, 100.0 * double(wave.succeeded) / double(wave.size));
        QCOMPARE(failure->data()->at(0)->value,
                 100.0 * double(wave.failed) / double(wave.succeeded + wave.failed));
        QCOMPARE(failure->data()->at(0)->value, 100.0);

        // Both thresholds drawn as lines at the plan's values.
        QList<double> lines;
        for (int i = 0; i < plot()->itemCount(); ++i)
            if (auto* line = qobject_cast<QCPItemStraightLine*>(plot()->item(i)))
                lines.append(line->point1->coords().y());
        std::sort(lines.begin(), lines.end());
        QCOMPARE(lines, (QList<double>{20.0, 95.0}));

        const QList<QStringList> csv = exportedCsv(QStringLiteral("waves.csv"));
        QCOMPARE(csv.size(), 2);
        QCOMPARE(csv.at(1).at(0), QStringLiteral("1"));
        QVERIFY(near(csv.at(1).at(1).toDouble(), success->data()->at(0)->value));
        QVERIFY(near(csv.at(1).at(2).toDouble(), failure->data()->at(0)->value));
        QCOMPARE(csv.at(1).at(3).toDouble(), 95.0);
        QCOMPARE(csv.at(1).at(4).toDouble(), 20.0);
    }

    void failureReasonsFromTheHistory() {
        m_view->showChart(Chart::FailureReasons);
        auto history = m_fleet->store().rolloutEvents().forRollout(m_rolloutId);
        VERIFY_OK(history);
        QHash<QString, qint64> expected;
        for (const store::RolloutEventRecord& e : std::as_const(*history))
            if (rollout::isFailure(*rollout::deviceStateFromName(e.state)))
                ++expected[e.reason.section(u':', 0, 0)];
        QVERIFY(!expected.isEmpty());
        const QList<QStringList> csv = exportedCsv(QStringLiteral("reasons.csv"));
        QHash<QString, qint64> plotted;
        for (qsizetype row = 1; row < csv.size(); ++row) {
            QVERIFY(csv.at(row).at(0).startsWith(QLatin1String("link.")));
            plotted.insert(csv.at(row).at(0), csv.at(row).at(1).toLongLong());
        }
        QCOMPARE(plotted, expected);
        QHash<QString, qint64> barred;
        QCPBars* b = bars().first();
        auto* ticker = dynamic_cast<QCPAxisTickerText*>(plot()->yAxis->ticker().data());
        QVERIFY(ticker);
        for (int i = 0; i < b->dataCount(); ++i)
            barred.insert(ticker->ticks().value(b->data()->at(i)->key),
                          qint64(b->data()->at(i)->value));
        QCOMPARE(barred, expected);
    }

    void histograms_data() {
        QTest::addColumn<int>("chart");
        QTest::addColumn<QList<double>>("values");
        QTest::newRow("throughput") << int(Chart::Throughput) << kThroughputs;
        QTest::newRow("install duration") << int(Chart::InstallDuration) << kInstallSeconds;
    }

    void histograms() {
        QFETCH(int, chart);
        QFETCH(QList<double>, values);
        m_view->showChart(Chart(chart));
        const QList<QCPBars*> drawn = bars();
        QCOMPARE(drawn.size(), 1);
        const QList<QStringList> csv = exportedCsv(QStringLiteral("histogram.csv"));
        QCOMPARE(csv.size() - 1, qsizetype(drawn.first()->dataCount()));
        qint64 total = 0;
        for (qsizetype row = 1; row < csv.size(); ++row) {
            const double from = csv.at(row).at(0).toDouble();
            const double to = csv.at(row).at(1).toDouble();
            const qint64 count = csv.at(row).at(2).toLongLong();
            // The bin holds exactly the stored values in [from, to).
            qint64 stored = 0;
            for (double v : std::as_const(values))
                if (v >= from - 1e-9 && v < to - 1e-9)
                    ++stored;
            QCOMPARE(count, stored);
            const auto bar = drawn.first()->data()->at(int(row - 1));
            QVERIFY(near(bar->key, (from + to) / 2));
            QCOMPARE(bar->value, double(count));
            total += count;
        }
        QCOMPARE(total, qint64(values.size()));
    }

    void adoptionPerDay() {
        m_view->showChart(Chart::Adoption);
        const QList<QStringList> csv = exportedCsv(QStringLiteral("adoption.csv"));
        QCOMPARE(csv.first(), (QStringList{QStringLiteral("day"), QStringLiteral("1.0.0"),
                                           QStringLiteral("1.1.0")}));
        QCOMPARE(csv.size() - 1, 6);  // five days ago through today
        QCOMPARE(plot()->graphCount(), 2);
        for (qsizetype row = 1; row < csv.size(); ++row) {
            const int daysAgo = int(csv.size() - 1 - row);
            // Device i (0-based) first booted 5 - i days ago; two moved on two days ago.
            const qint64 booted = std::min<qint64>(kDevices, 6 - daysAgo);
            const qint64 moved = daysAgo <= 2 ? kUpdated : 0;
            QCOMPARE(csv.at(row).at(0), m_now.addDays(-daysAgo).date().toString(Qt::ISODate));
            QCOMPARE(csv.at(row).at(1).toLongLong(), booted - moved);
            QCOMPARE(csv.at(row).at(2).toLongLong(), moved);
            QCOMPARE(plot()->graph(0)->data()->at(int(row - 1))->value, double(booted - moved));
            QCOMPARE(plot()->graph(1)->data()->at(int(row - 1))->value, double(moved));
        }
    }

    void exportPngAndPdf() {
        m_view->showChart(Chart::Waves);
        const QString png = m_tmp.filePath(QStringLiteral("chart.png"));
        VERIFY_OK(m_view->exportPng(png));
        const QImage image(png);
        QVERIFY(!image.isNull());
        QCOMPARE(image.size(), plot()->size());
        QSet<QRgb> colours;
        for (int y = 0; y < image.height(); y += 4)
            for (int x = 0; x < image.width(); x += 4)
                colours.insert(image.pixel(x, y));
        QVERIFY2(colours.size() > 10, qPrintable(QString::number(colours.size())));

        const QString pdf = m_tmp.filePath(QStringLiteral("chart.pdf"));
        VERIFY_OK(m_view->exportPdf(pdf));
        QFile file(pdf);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray bytes = file.readAll();
        QVERIFY(bytes.startsWith("%PDF"));
        QVERIFY(bytes.size() > 1000);

        // A folder that is not there: a stable code and a sentence.
        const Status failed = m_view->exportCsv(m_tmp.filePath(QStringLiteral("no/such/x.csv")));
        QVERIFY(!failed);
        QCOMPARE(failed.error().code, QStringLiteral("telemetry.export-failed"));
    }

    void zoomAndPan() {
        m_view->showChart(Chart::Throughput);
        QCustomPlot* p = plot();
        const QCPRange home = p->xAxis->range();
        const QPoint centre = p->axisRect()->rect().center();
        QWheelEvent wheel(centre, p->mapToGlobal(centre), QPoint(), QPoint(0, 120), Qt::NoButton,
                          Qt::NoModifier, Qt::NoScrollPhase, false);
        QApplication::sendEvent(p, &wheel);
        const QCPRange zoomed = p->xAxis->range();
        QVERIFY2(zoomed.size() < home.size() * 0.95,
                 qPrintable(QStringLiteral("%1 -> %2").arg(home.size()).arg(zoomed.size())));

        const QPoint to = centre + QPoint(120, 0);
        QMouseEvent press(QEvent::MouseButtonPress, centre, p->mapToGlobal(centre), Qt::LeftButton,
                          Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(p, &press);
        QMouseEvent move(QEvent::MouseMove, to, p->mapToGlobal(to), Qt::NoButton, Qt::LeftButton,
                         Qt::NoModifier);
        QApplication::sendEvent(p, &move);
        QMouseEvent release(QEvent::MouseButtonRelease, to, p->mapToGlobal(to), Qt::LeftButton,
                            Qt::NoButton, Qt::NoModifier);
        QApplication::sendEvent(p, &release);
        const QCPRange panned = p->xAxis->range();
        // Dragged right: the view moved to smaller values, the width kept.
        QVERIFY(panned.lower < zoomed.lower);
        QVERIFY(near(panned.size(), zoomed.size()));

        m_view->resetZoom();
        QCOMPARE(p->xAxis->range().lower, home.lower);
        QCOMPARE(p->xAxis->range().upper, home.upper);
    }

    void hoverShowsTheValue() {
        m_view->showChart(Chart::Throughput);
        QCPBars* b = bars().first();
        // The tallest bar; aim half way down it.
        int tallest = 0;
        for (int i = 0; i < b->dataCount(); ++i)
            if (b->data()->at(i)->value > b->data()->at(tallest)->value)
                tallest = i;
        const QPointF top = b->dataPixelPosition(tallest);
        const QPoint at(qRound(top.x()), qRound((top.y() + plot()->yAxis->coordToPixel(0)) / 2));
        QMouseEvent move(QEvent::MouseMove, at, plot()->mapToGlobal(at), Qt::NoButton, Qt::NoButton,
                         Qt::NoModifier);
        QApplication::sendEvent(plot(), &move);
        const QString text = m_view->hoverText();
        QVERIFY2(text.contains(
                     QStringLiteral(": %1 uploads").arg(qint64(b->data()->at(tallest)->value))),
                 qPrintable(text));
        // Away from every bar: nothing.
        const QPoint corner = plot()->axisRect()->rect().topRight() + QPoint(-3, 3);
        QMouseEvent away(QEvent::MouseMove, corner, plot()->mapToGlobal(corner), Qt::NoButton,
                         Qt::NoButton, Qt::NoModifier);
        QApplication::sendEvent(plot(), &away);
        QVERIFY(m_view->hoverText().isEmpty());
    }

    void reachableFromTheMainWindow() {
        ui::MainWindow window(*m_fleet);
        window.addTelemetry(*m_telemetry);
        window.show();
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        QVERIFY(window.telemetryView());
        QVERIFY(window.tabs()->currentWidget() != window.telemetryView());
        QTest::keyClick(&window, Qt::Key_T, Qt::ControlModifier | Qt::ShiftModifier);
        QCOMPARE(window.tabs()->currentWidget(), window.telemetryView());
        QTRY_COMPARE_WITH_TIMEOUT(window.telemetryView()->rolloutId(), m_rolloutId, kTimeoutMs);
    }
};

QTEST_MAIN(TestTelemetryView)
#include "tst_telemetryview.moc"
