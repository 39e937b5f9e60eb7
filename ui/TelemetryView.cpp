#include "ui/TelemetryView.h"

#include "ui/QCustomPlotInclude.h"

#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QMenu>
#include <QPushButton>
#include <QSaveFile>
#include <QSplitter>
#include <QTableView>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace otafleet::ui {

namespace {

using fleet::ProgressGroup;

// Rollouts report in bursts (a wave of offers): ask once per burst.
constexpr int kReloadDelayMs = 500;
constexpr double kHoverDistancePx = 14.0;
constexpr int kTableHeight = 140;
constexpr double kMsPerSecond = 1000.0;
constexpr double kBarGroupWidth = 0.7;
constexpr double kPercentAxisTop = 125.0;  // room for the legend above 100 %
constexpr double kValueHeadroom = 1.1;
constexpr int kMaxReasonsShown = 20;
constexpr qint64 kTenMinutesSecs = 10 * 60;
constexpr qint64 kTwoDaysSecs = 2 * 24 * 3600;

const QList<QColor>& seriesColors() {
    // Distinguishable in light and dark palettes (the dashboard's too).
    static const QList<QColor> colors = {QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e),
                                         QColor(0x2c, 0xa0, 0x2c), QColor(0xd6, 0x27, 0x28),
                                         QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b),
                                         QColor(0xe3, 0x77, 0xc2), QColor(0x17, 0xbe, 0xcf)};
    return colors;
}

const QColor kSucceeded(0x2c, 0xa0, 0x2c);
const QColor kFailed(0xd6, 0x27, 0x28);
const QColor kInProgress(0x1f, 0x77, 0xb4);
const QColor kPending(0x9e, 0x9e, 0x9e);
const QColor kSkipped(0xff, 0x7f, 0x0e);

QColor groupColor(ProgressGroup g) {
    switch (g) {
        case ProgressGroup::Pending:
            return kPending;
        case ProgressGroup::InProgress:
            return kInProgress;
        case ProgressGroup::Succeeded:
            return kSucceeded;
        case ProgressGroup::Failed:
            return kFailed;
        case ProgressGroup::Skipped:
            return kSkipped;
    }
    return kPending;
}

QString groupLabel(ProgressGroup g) {
    switch (g) {
        case ProgressGroup::Pending:
            return TelemetryView::tr("pending");
        case ProgressGroup::InProgress:
            return TelemetryView::tr("in progress");
        case ProgressGroup::Succeeded:
            return TelemetryView::tr("succeeded");
        case ProgressGroup::Failed:
            return TelemetryView::tr("failed");
        case ProgressGroup::Skipped:
            return TelemetryView::tr("skipped");
    }
    return {};
}

QString chartTitle(TelemetryView::Chart chart) {
    switch (chart) {
        case TelemetryView::Chart::Progress:
            return TelemetryView::tr("Rollout progress over time");
        case TelemetryView::Chart::Waves:
            return TelemetryView::tr("Success and failure per wave");
        case TelemetryView::Chart::Adoption:
            return TelemetryView::tr("Firmware version adoption");
        case TelemetryView::Chart::Throughput:
            return TelemetryView::tr("Download throughput");
        case TelemetryView::Chart::InstallDuration:
            return TelemetryView::tr("Install duration");
        case TelemetryView::Chart::FailureReasons:
            return TelemetryView::tr("Failure reasons");
    }
    return {};
}

bool isRolloutChart(TelemetryView::Chart chart) {
    return chart == TelemetryView::Chart::Progress || chart == TelemetryView::Chart::Waves ||
           chart == TelemetryView::Chart::FailureReasons;
}

double seconds(const QDateTime& time) {
    return double(time.toMSecsSinceEpoch()) / kMsPerSecond;
}

QString isoTime(const QDateTime& time) {
    return time.toUTC().toString(Qt::ISODateWithMs);
}

QString number(double value, int decimals = 1) {
    return QLocale().toString(value, 'f', decimals);
}

Error exportError(const QString& path, const QString& what) {
    return Error{QStringLiteral("telemetry.export-failed"),
                 TelemetryView::tr("The chart could not be written as %1 to %2; choose a folder "
                                   "you can write to.")
                     .arg(what, path)};
}

}  // namespace

TelemetryView::TelemetryView(fleet::TelemetryService& telemetry, QWidget* parent)
    : QWidget(parent), m_telemetry(telemetry) {
    setObjectName(QStringLiteral("telemetry"));

    m_chartBox = new QComboBox;
    m_chartBox->setObjectName(QStringLiteral("chartChoice"));
    for (int i = 0; i < kChartCount; ++i)
        m_chartBox->addItem(chartTitle(Chart(i)), i);
    m_rolloutBox = new QComboBox;
    m_rolloutBox->setObjectName(QStringLiteral("rolloutChoice"));
    m_rolloutBox->setMinimumContentsLength(28);
    m_rolloutBox->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    auto* reset = new QPushButton(tr("Reset &zoom"));
    reset->setObjectName(QStringLiteral("resetZoom"));
    reset->setToolTip(tr("Show the whole chart again (wheel zooms, dragging pans)"));
    m_export = new QToolButton;
    m_export->setObjectName(QStringLiteral("exportChart"));
    m_export->setText(tr("&Export"));
    m_export->setPopupMode(QToolButton::InstantPopup);
    m_export->setToolButtonStyle(Qt::ToolButtonTextOnly);
    auto* menu = new QMenu(m_export);
    const auto addExport = [this, menu](const QString& text, const QString& format) {
        QAction* action = menu->addAction(text);
        action->setObjectName(QStringLiteral("export") + format.toUpper());
        connect(action, &QAction::triggered, this, [this, format] { exportAs(format); });
    };
    addExport(tr("PNG image…"), QStringLiteral("png"));
    addExport(tr("PDF document…"), QStringLiteral("pdf"));
    addExport(tr("CSV data (the plotted series)…"), QStringLiteral("csv"));
    m_export->setMenu(menu);

    auto* bar = new QHBoxLayout;
    auto* chartLabel = new QLabel(tr("&Chart:"));
    chartLabel->setBuddy(m_chartBox);
    auto* rolloutLabel = new QLabel(tr("R&ollout:"));
    rolloutLabel->setBuddy(m_rolloutBox);
    bar->addWidget(chartLabel);
    bar->addWidget(m_chartBox);
    bar->addSpacing(12);
    bar->addWidget(rolloutLabel);
    bar->addWidget(m_rolloutBox, 1);
    bar->addStretch();
    bar->addWidget(reset);
    bar->addWidget(m_export);

    m_plot = new QCustomPlot;
    m_plot->setObjectName(QStringLiteral("telemetryChart"));
    m_plot->setMinimumHeight(280);
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_plot->axisRect()->setRangeDrag(Qt::Horizontal | Qt::Vertical);
    m_plot->axisRect()->setRangeZoom(Qt::Horizontal | Qt::Vertical);
    m_plot->plotLayout()->insertRow(0);
    m_title = new QCPTextElement(m_plot, QString(), QFont(font().family(), 11, QFont::Bold));
    m_plot->plotLayout()->addElement(0, 0, m_title);
    m_plot->setToolTip(tr("Wheel: zoom · drag: pan · hover: the value under the pointer"));
    connect(m_plot, &QCustomPlot::mouseMove, this, &TelemetryView::onMouseMove);

    m_status = new QLabel;
    m_status->setObjectName(QStringLiteral("telemetryStatus"));
    m_status->setWordWrap(true);

    m_table = new ChartTableModel(this);
    m_tableView = new QTableView;
    m_tableView->setObjectName(QStringLiteral("chartTable"));
    m_tableView->setModel(m_table);
    m_tableView->verticalHeader()->hide();
    m_tableView->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_tableView->horizontalHeader()->setStretchLastSection(true);
    m_tableView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_tableView->setEditTriggers(QAbstractItemView::NoEditTriggers);

    auto* splitter = new QSplitter(Qt::Vertical);
    splitter->addWidget(m_plot);
    splitter->addWidget(m_tableView);
    splitter->setStretchFactor(0, 4);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({600, kTableHeight});

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(splitter, 1);
    layout->addWidget(m_status);

    m_reloadTimer = new QTimer(this);
    m_reloadTimer->setSingleShot(true);
    m_reloadTimer->setInterval(kReloadDelayMs);
    connect(m_reloadTimer, &QTimer::timeout, this, &TelemetryView::reload);
    connect(&m_telemetry, &fleet::TelemetryService::reportReady, this, &TelemetryView::onReport);
    connect(&m_telemetry, &fleet::TelemetryService::reportFailed, this, &TelemetryView::onFailed);
    connect(&m_telemetry, &fleet::TelemetryService::dataChanged, this, [this] {
        m_stale = true;
        if (isVisible())
            m_reloadTimer->start();
    });
    connect(m_chartBox, &QComboBox::currentIndexChanged, this,
            [this](int index) { showChart(Chart(m_chartBox->itemData(index).toInt())); });
    connect(m_rolloutBox, &QComboBox::currentIndexChanged, this, [this](int index) {
        if (index >= 0)
            selectRollout(m_rolloutBox->itemData(index).toLongLong());
    });
    connect(reset, &QPushButton::clicked, this, &TelemetryView::resetZoom);
    redraw();
    reload();
}

TelemetryView::~TelemetryView() = default;

QString TelemetryView::chartName(Chart chart) {
    switch (chart) {
        case Chart::Progress:
            return QStringLiteral("progress");
        case Chart::Waves:
            return QStringLiteral("waves");
        case Chart::Adoption:
            return QStringLiteral("adoption");
        case Chart::Throughput:
            return QStringLiteral("throughput");
        case Chart::InstallDuration:
            return QStringLiteral("install-duration");
        case Chart::FailureReasons:
            return QStringLiteral("failure-reasons");
    }
    return {};
}

qint64 TelemetryView::rolloutId() const {
    return m_report.rollout ? m_report.rollout->id : 0;
}

QString TelemetryView::hoverText() const {
    return m_hover && m_hover->visible() ? m_hover->text() : QString();
}

void TelemetryView::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    if (m_stale && !m_pending)
        m_reloadTimer->start(0);
}

void TelemetryView::reload() {
    m_reloadTimer->stop();
    m_stale = false;
    m_pending = m_telemetry.requestReport(m_wantedRollout);
    m_status->setText(tr("Reading the fleet's history…"));
}

void TelemetryView::selectRollout(qint64 id) {
    if (id == m_wantedRollout && id == rolloutId())
        return;
    m_wantedRollout = id;
    const int index = m_rolloutBox->findData(id);
    if (index >= 0 && index != m_rolloutBox->currentIndex()) {
        const QSignalBlocker block(m_rolloutBox);
        m_rolloutBox->setCurrentIndex(index);
    }
    reload();
}

void TelemetryView::showChart(Chart chart) {
    m_chart = chart;
    const int index = m_chartBox->findData(int(chart));
    if (index != m_chartBox->currentIndex()) {
        const QSignalBlocker block(m_chartBox);
        m_chartBox->setCurrentIndex(index);
    }
    redraw();
}

void TelemetryView::onReport(quint64 request, const fleet::TelemetryReport& report) {
    if (request != m_pending)
        return;  // an older answer; a newer one is on its way
    m_pending = 0;
    m_report = report;
    if (m_report.rollout)
        m_wantedRollout = m_report.rollout->id;
    fillRolloutBox();
    redraw();
    m_status->setText(
        tr("As of %1. Wheel zooms, dragging pans; hover for values.")
            .arg(QLocale().toString(m_report.generated.toLocalTime(), QLocale::ShortFormat)));
    Q_EMIT reportShown();
}

void TelemetryView::onFailed(quint64 request, const Error& error) {
    if (request != m_pending)
        return;
    m_pending = 0;
    m_status->setText(tr("The charts could not be read: %1 (%2)").arg(error.message, error.code));
}

void TelemetryView::fillRolloutBox() {
    const QSignalBlocker block(m_rolloutBox);
    m_rolloutBox->clear();
    for (const fleet::RolloutChoice& r : std::as_const(m_report.rollouts))
        m_rolloutBox->addItem(tr("%1 (%2)").arg(r.name, r.state), r.id);
    m_rolloutBox->setCurrentIndex(m_rolloutBox->findData(rolloutId()));
}

void TelemetryView::redraw() {
    m_plot->clearPlottables();
    m_plot->clearItems();
    m_hoverTexts.clear();
    m_plot->legend->setVisible(false);
    m_plot->legend->setFillOrder(QCPLayoutGrid::foRowsFirst);
    m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
    for (QCPAxis* axis : {m_plot->xAxis, m_plot->yAxis}) {
        axis->setTicker(QSharedPointer<QCPAxisTicker>::create());
        axis->setLabel(QString());
        axis->setTickLabels(true);
    }
    // Readable on light and dark palettes alike.
    const QColor text = palette().color(QPalette::Text);
    m_plot->setBackground(palette().base());
    for (QCPAxis* axis : m_plot->axisRect()->axes()) {
        axis->setBasePen(QPen(text));
        axis->setTickPen(QPen(text));
        axis->setSubTickPen(QPen(text));
        axis->setTickLabelColor(text);
        axis->setLabelColor(text);
        axis->grid()->setPen(QPen(palette().color(QPalette::Mid), 0, Qt::DotLine));
    }
    m_plot->legend->setBrush(palette().base());
    m_plot->legend->setTextColor(text);
    m_plot->legend->setBorderPen(QPen(palette().color(QPalette::Mid)));
    m_title->setTextColor(text);

    QString title = chartTitle(m_chart);
    if (isRolloutChart(m_chart) && m_report.rollout)
        title += QStringLiteral(" — ") + m_report.rollout->name;
    m_title->setText(title);
    m_rolloutBox->setEnabled(isRolloutChart(m_chart) && m_rolloutBox->count() > 0);
    m_rolloutBox->setToolTip(isRolloutChart(m_chart)
                                 ? tr("The rollout this chart shows")
                                 : tr("This chart shows the whole fleet, not one rollout"));

    m_hover = new QCPItemText(m_plot);
    m_hover->setObjectName(QStringLiteral("hoverLabel"));
    m_hover->position->setType(QCPItemPosition::ptAbsolute);
    m_hover->setPadding(QMargins(6, 4, 6, 4));
    m_hover->setBrush(palette().toolTipBase());
    m_hover->setColor(palette().color(QPalette::ToolTipText));
    m_hover->setPen(QPen(palette().color(QPalette::Mid)));
    m_hover->setClipToAxisRect(false);
    m_hover->setVisible(false);
    m_tracer = new QCPItemTracer(m_plot);
    m_tracer->setStyle(QCPItemTracer::tsCircle);
    m_tracer->setSize(9);
    m_tracer->setPen(QPen(text, 1.5));
    m_tracer->setVisible(false);

    // What the source cannot give says so, instead of an empty (or made-up) chart.
    const QString unavailable = m_chart == Chart::Progress         ? m_report.progressUnavailable
                                : m_chart == Chart::FailureReasons ? m_report.reasonsUnavailable
                                : (m_chart == Chart::Adoption || m_chart == Chart::Throughput ||
                                   m_chart == Chart::InstallDuration)
                                    ? m_report.fleetChartsUnavailable
                                    : QString();
    if (!unavailable.isEmpty())
        setEmpty(unavailable);
    else
        drawChart();
    m_tableView->resizeColumnsToContents();
    // The ranges the chart was drawn with are its home, which Reset zoom returns to.
    m_home = {m_plot->xAxis->range().lower, m_plot->xAxis->range().upper,
              m_plot->yAxis->range().lower, m_plot->yAxis->range().upper};
    m_plot->replot();
}

void TelemetryView::drawChart() {
    switch (m_chart) {
        case Chart::Progress:
            drawProgress();
            break;
        case Chart::Waves:
            drawWaves();
            break;
        case Chart::Adoption:
            drawAdoption();
            break;
        case Chart::Throughput:
            drawHistogram(m_report.throughputMBps, tr("upload throughput"), tr("MB/s"),
                          QStringLiteral("uploads"));
            break;
        case Chart::InstallDuration:
            drawHistogram(m_report.installSeconds, tr("install duration"), tr("s"),
                          QStringLiteral("installs"));
            break;
        case Chart::FailureReasons:
            drawReasons();
            break;
    }
}

void TelemetryView::setEmpty(const QString& sentence) {
    auto* note = new QCPItemText(m_plot);
    note->setObjectName(QStringLiteral("emptyNote"));
    note->position->setType(QCPItemPosition::ptAxisRectRatio);
    note->position->setCoords(0.5, 0.5);
    note->setPositionAlignment(Qt::AlignCenter);
    // Long sentences (a server's "not available") wrap instead of running off the chart.
    constexpr qsizetype kNoteLine = 90;
    QStringList lines;
    for (const QString& word : sentence.split(u' ', Qt::SkipEmptyParts)) {
        if (lines.isEmpty() || lines.last().size() + 1 + word.size() > kNoteLine)
            lines.append(word);
        else
            lines.last() += u' ' + word;
    }
    note->setText(lines.join(u'\n'));
    note->setColor(palette().color(QPalette::PlaceholderText));
    note->setFont(QFont(font().family(), 11));
    m_plot->xAxis->setRange(0, 1);
    m_plot->yAxis->setRange(0, 1);
    m_plot->xAxis->setTickLabels(false);
    m_plot->yAxis->setTickLabels(false);
    m_table->setTable({});
}

void TelemetryView::drawProgress() {
    const auto& rollout = m_report.rollout;
    if (!rollout || rollout->progress.isEmpty()) {
        setEmpty(rollout ? tr("No device of this rollout has been offered the update yet.")
                         : tr("There is no rollout yet; plan one with New rollout…"));
        return;
    }
    const QList<fleet::ProgressPoint>& points = rollout->progress;
    ChartTable table;
    table.headers.append(QStringLiteral("time"));
    for (ProgressGroup g : fleet::kAllProgressGroups)
        table.headers.append(fleet::progressGroupName(g));
    QList<double> keys;
    for (const fleet::ProgressPoint& p : points) {
        keys.append(seconds(p.time));
        QVariantList row{isoTime(p.time)};
        for (ProgressGroup g : fleet::kAllProgressGroups)
            row.append(p.count(g));
        table.rows.append(row);
    }
    // Stacked from the bottom: the finished states first, what is still to come on top.
    const std::array order{ProgressGroup::Succeeded, ProgressGroup::Failed, ProgressGroup::Skipped,
                           ProgressGroup::InProgress, ProgressGroup::Pending};
    QList<double> base(points.size(), 0.0);
    QCPGraph* below = nullptr;
    for (ProgressGroup g : order) {
        QList<double> top = base;
        for (qsizetype i = 0; i < points.size(); ++i)
            top[i] += double(points.at(i).count(g));
        QCPGraph* graph = m_plot->addGraph();
        graph->setName(groupLabel(g));
        graph->setLineStyle(QCPGraph::lsStepLeft);
        graph->setPen(QPen(groupColor(g).darker(120), 1.5));
        QColor fill = groupColor(g);
        fill.setAlpha(170);
        graph->setBrush(fill);
        if (below)
            graph->setChannelFillGraph(below);
        graph->setData(keys, top, true);
        m_hoverTexts.insert(graph, [this, g](int i) {
            const fleet::ProgressPoint& p = m_report.rollout->progress.at(i);
            return tr("%1: %2 devices\n%3")
                .arg(groupLabel(g), QLocale().toString(p.count(g)),
                     QLocale().toString(p.time.toLocalTime(), QLocale::ShortFormat));
        });
        below = graph;
        base = top;
    }
    // Labels as fine as the span needs; a span within one day names that day once, below.
    const QDateTime first = points.first().time.toLocalTime();
    const QDateTime last = points.last().time.toLocalTime();
    const qint64 span = first.secsTo(last);
    auto ticker = QSharedPointer<QCPAxisTickerDateTime>::create();
    ticker->setDateTimeFormat(span < kTenMinutesSecs ? QStringLiteral("hh:mm:ss")
                              : span < kTwoDaysSecs  ? QStringLiteral("hh:mm")
                                                     : QStringLiteral("MMM d\nhh:mm"));
    m_plot->xAxis->setTicker(ticker);
    m_plot->xAxis->setLabel(
        first.date() == last.date()
            ? tr("time on %1").arg(QLocale().toString(first.date(), QLocale::LongFormat))
            : tr("time"));
    m_plot->yAxis->setLabel(tr("devices (%1 targeted)").arg(QLocale().toString(rollout->total)));
    // Top left is still pending (grey) early on; the finished states grow at the right.
    m_plot->legend->setVisible(true);
    m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
    m_plot->rescaleAxes();
    m_plot->yAxis->setRange(0, std::max<double>(1.0, double(rollout->total)) * kValueHeadroom);
    m_table->setTable(std::move(table));
}

void TelemetryView::drawWaves() {
    const auto& rollout = m_report.rollout;
    if (!rollout || rollout->waves.isEmpty()) {
        setEmpty(rollout ? tr("No wave of this rollout has started yet.")
                         : tr("There is no rollout yet; plan one with New rollout…"));
        return;
    }
    ChartTable table;
    table.headers = {QStringLiteral("wave"), QStringLiteral("succeeded_percent"),
                     QStringLiteral("failed_percent"), QStringLiteral("success_threshold_percent"),
                     QStringLiteral("failure_threshold_percent")};
    auto* group = new QCPBarsGroup(m_plot);
    auto* success = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    auto* failure = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    success->setName(tr("succeeded (of the wave)"));
    failure->setName(tr("failed (of those executed)"));
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    for (const fleet::WaveOutcome& w : std::as_const(rollout->waves)) {
        success->addData(w.number, w.successPercent());
        failure->addData(w.number, w.failurePercent());
        ticker->addTick(w.number, tr("wave %1\n%2 devices").arg(w.number).arg(w.size));
        table.rows.append({qint64(w.number), w.successPercent(), w.failurePercent(),
                           rollout->successThreshold, rollout->failureThreshold});
    }
    for (auto [bars, color] : {std::pair{success, kSucceeded}, std::pair{failure, kFailed}}) {
        bars->setPen(QPen(color.darker(130)));
        bars->setBrush(color);
        bars->setWidth(kBarGroupWidth / 2);
        bars->setBarsGroup(group);
    }
    m_hoverTexts.insert(success, [this](int i) {
        const fleet::WaveOutcome& w = m_report.rollout->waves.at(i);
        return tr("wave %1: %2 of %3 devices succeeded (%4%)\nthreshold to pass: %5%")
            .arg(w.number)
            .arg(QLocale().toString(w.succeeded), QLocale().toString(w.size),
                 number(w.successPercent()), number(m_report.rollout->successThreshold));
    });
    m_hoverTexts.insert(failure, [this](int i) {
        const fleet::WaveOutcome& w = m_report.rollout->waves.at(i);
        return tr("wave %1: %2 of %3 executed failed (%4%)\npauses above %5% after %6 executed")
            .arg(w.number)
            .arg(QLocale().toString(w.failed), QLocale().toString(w.executed()),
                 number(w.failurePercent()), number(m_report.rollout->failureThreshold))
            .arg(m_report.rollout->minExecuted);
    });
    // The thresholds as lines across the chart, labelled at the right end.
    const auto threshold = [this](double percent, const QColor& color, const QString& label) {
        auto* line = new QCPItemStraightLine(m_plot);
        line->setObjectName(QStringLiteral("thresholdLine"));
        line->point1->setCoords(0, percent);
        line->point2->setCoords(1, percent);
        line->setPen(QPen(color.darker(110), 2, Qt::DashLine));
        auto* text = new QCPItemText(m_plot);
        text->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
        text->position->setTypeY(QCPItemPosition::ptPlotCoords);
        text->position->setCoords(0.99, percent);
        text->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
        text->setText(label);
        text->setColor(color.darker(110));
        text->setClipToAxisRect(true);
    };
    threshold(rollout->successThreshold, kSucceeded,
              tr("success threshold %1%").arg(number(rollout->successThreshold)));
    threshold(rollout->failureThreshold, kFailed,
              tr("failure threshold %1%").arg(number(rollout->failureThreshold)));
    m_plot->xAxis->setTicker(ticker);
    m_plot->xAxis->setRange(0.4, double(rollout->waves.size()) + 0.6);
    m_plot->yAxis->setRange(0, kPercentAxisTop);
    m_plot->yAxis->setLabel(tr("percent"));
    // Above the 100 % line, between the waves' bars.
    m_plot->legend->setVisible(true);
    m_plot->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignHCenter);
    m_table->setTable(std::move(table));
}

void TelemetryView::drawAdoption() {
    const fleet::VersionAdoption& adoption = m_report.adoption;
    if (adoption.days.isEmpty()) {
        setEmpty(tr("No device has reported the firmware it runs yet."));
        return;
    }
    ChartTable table;
    table.headers.append(QStringLiteral("day"));
    QList<double> keys;
    for (const QDateTime& end : adoption.days) {
        // Plotted at noon of the day the figure closes.
        keys.append(seconds(end.addSecs(-12 * 3600)));
        table.rows.append({end.addDays(-1).date().toString(Qt::ISODate)});
    }
    double top = 1;
    for (qsizetype s = 0; s < adoption.series.size(); ++s) {
        const fleet::AdoptionSeries& series = adoption.series.at(s);
        table.headers.append(series.version);
        QList<double> values;
        for (qsizetype d = 0; d < series.devices.size(); ++d) {
            values.append(double(series.devices.at(d)));
            table.rows[d].append(series.devices.at(d));
            top = std::max(top, values.last());
        }
        QCPGraph* graph = m_plot->addGraph();
        graph->setName(series.version);
        const QColor color = seriesColors().at(s % seriesColors().size());
        graph->setPen(QPen(color, 2));
        graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, color, 5));
        graph->setData(keys, values, true);
        m_hoverTexts.insert(graph, [this, s](int i) {
            const fleet::AdoptionSeries& v = m_report.adoption.series.at(s);
            return tr("%1: %2 devices\nat the end of %3")
                .arg(v.version, QLocale().toString(v.devices.at(i)),
                     QLocale().toString(m_report.adoption.days.at(i).addDays(-1).date(),
                                        QLocale::ShortFormat));
        });
    }
    auto ticker = QSharedPointer<QCPAxisTickerDateTime>::create();
    ticker->setDateTimeFormat(QStringLiteral("MMM d"));
    ticker->setDateTimeSpec(Qt::UTC);
    m_plot->xAxis->setTicker(ticker);
    m_plot->xAxis->setLabel(tr("day"));
    m_plot->yAxis->setLabel(tr("devices running the version"));
    m_plot->legend->setVisible(true);
    m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
    const double day = 24 * 3600;
    m_plot->xAxis->setRange(keys.first() - day * 0.6, keys.last() + day * 0.6);
    m_plot->yAxis->setRange(0, top * kValueHeadroom);
    m_table->setTable(std::move(table));
}

void TelemetryView::drawHistogram(const fleet::Histogram& histogram, const QString& what,
                                  const QString& unit, const QString& countHeader) {
    if (histogram.counts.isEmpty()) {
        setEmpty(m_chart == Chart::Throughput
                     ? tr("No device has reported a completed download yet.")
                     : tr("No device has reported a finished install yet."));
        return;
    }
    const QString unitKey =
        m_chart == Chart::Throughput ? QStringLiteral("mb_per_s") : QStringLiteral("seconds");
    ChartTable table;
    table.headers = {QStringLiteral("from_") + unitKey, QStringLiteral("to_") + unitKey,
                     countHeader};
    auto* bars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    bars->setName(what);
    const QColor color = m_chart == Chart::Throughput ? seriesColors().at(0) : seriesColors().at(4);
    bars->setPen(QPen(color.darker(140)));
    bars->setBrush(color);
    bars->setWidth(histogram.binWidth);
    double top = 1;
    for (qsizetype i = 0; i < histogram.counts.size(); ++i) {
        const double from = histogram.binStart(i);
        bars->addData(from + histogram.binWidth / 2, double(histogram.counts.at(i)));
        table.rows.append({from, from + histogram.binWidth, histogram.counts.at(i)});
        top = std::max(top, double(histogram.counts.at(i)));
    }
    m_hoverTexts.insert(bars, [this, unit, countHeader](int i) {
        const fleet::Histogram& h =
            m_chart == Chart::Throughput ? m_report.throughputMBps : m_report.installSeconds;
        const int decimals = h.binWidth < 1 ? 2 : 0;
        return tr("%1 – %2 %3: %4 %5")
            .arg(number(h.binStart(i), decimals), number(h.binStart(i + 1), decimals), unit,
                 QLocale().toString(h.counts.at(i)), countHeader);
    });
    m_plot->xAxis->setLabel(
        tr("%1 (%2); %3 samples").arg(what, unit, QLocale().toString(histogram.samples)));
    m_plot->yAxis->setLabel(countHeader);
    m_plot->xAxis->setRange(0, histogram.binStart(histogram.counts.size()));
    m_plot->yAxis->setRange(0, top * kValueHeadroom);
    m_table->setTable(std::move(table));
}

void TelemetryView::drawReasons() {
    const auto& rollout = m_report.rollout;
    if (!rollout || rollout->failureReasons.isEmpty()) {
        setEmpty(rollout ? tr("No device of this rollout has failed.")
                         : tr("There is no rollout yet; plan one with New rollout…"));
        return;
    }
    const QList<fleet::ReasonCount> reasons = rollout->failureReasons.mid(0, kMaxReasonsShown);
    ChartTable table;
    table.headers = {QStringLiteral("reason"), QStringLiteral("failed_attempts")};
    // Horizontal bars: error codes are long; the most frequent at the top.
    auto* bars = new QCPBars(m_plot->yAxis, m_plot->xAxis);
    bars->setName(tr("failed attempts"));
    bars->setPen(QPen(kFailed.darker(130)));
    bars->setBrush(kFailed);
    bars->setWidth(0.6);
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    double top = 1;
    for (qsizetype i = 0; i < reasons.size(); ++i) {
        const double key = double(reasons.size() - i);
        bars->addData(key, double(reasons.at(i).count));
        ticker->addTick(key, reasons.at(i).code);
        table.rows.append({reasons.at(i).code, reasons.at(i).count});
        top = std::max(top, double(reasons.at(i).count));
    }
    m_hoverTexts.insert(bars, [this, n = reasons.size()](int i) {
        // Data are sorted by key: index 0 is the least frequent (drawn lowest).
        const fleet::ReasonCount& r = m_report.rollout->failureReasons.at(n - 1 - i);
        return tr("%1: %2 failed attempts").arg(r.code, QLocale().toString(r.count));
    });
    m_plot->yAxis->setTicker(ticker);
    m_plot->yAxis->setRange(0.4, double(reasons.size()) + 0.6);
    m_plot->xAxis->setLabel(tr("failed attempts (a device that failed twice counts twice)"));
    m_plot->xAxis->setRange(0, top * kValueHeadroom);
    auto xTicker = QSharedPointer<QCPAxisTickerFixed>::create();
    xTicker->setTickStep(1.0);
    xTicker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    m_plot->xAxis->setTicker(xTicker);
    m_table->setTable(std::move(table));
}

void TelemetryView::resetZoom() {
    m_plot->xAxis->setRange(m_home[0], m_home[1]);
    m_plot->yAxis->setRange(m_home[2], m_home[3]);
    m_plot->replot();
}

void TelemetryView::onMouseMove(QMouseEvent* event) {
    if (event->buttons() != Qt::NoButton)
        return;  // panning
    const QPointF pos = event->position();
    double best = kHoverDistancePx;
    QCPAbstractPlottable* found = nullptr;
    int index = -1;
    for (int i = 0; i < m_plot->plottableCount(); ++i) {
        QCPAbstractPlottable* p = m_plot->plottable(i);
        QVariant details;
        const double distance = p->selectTest(pos, false, &details);
        const auto selection = details.value<QCPDataSelection>();
        if (distance >= 0 && distance < best && !selection.isEmpty()) {
            best = distance;
            found = p;
            index = selection.dataRange().begin();
        }
    }
    const auto text = m_hoverTexts.constFind(found);
    if (!found || text == m_hoverTexts.cend()) {
        if (m_hover->visible() || m_tracer->visible()) {
            m_hover->setVisible(false);
            m_tracer->setVisible(false);
            m_plot->replot(QCustomPlot::rpQueuedReplot);
        }
        return;
    }
    m_hover->setText((*text)(index));
    const bool right = pos.x() > m_plot->width() / 2.0;
    m_hover->setPositionAlignment((right ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignBottom);
    m_hover->position->setCoords(pos.x() + (right ? -12 : 12), pos.y() - 8);
    m_hover->setVisible(true);
    if (auto* graph = qobject_cast<QCPGraph*>(found)) {
        m_tracer->setGraph(graph);
        m_tracer->setGraphKey(graph->data()->at(index)->key);
        m_tracer->setVisible(true);
    } else {
        m_tracer->setGraph(nullptr);
        m_tracer->setVisible(false);
    }
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

Status TelemetryView::exportPng(const QString& path) const {
    if (!m_plot->savePng(path, m_plot->width(), m_plot->height(), 1.0))
        return fail(exportError(path, QStringLiteral("PNG")));
    return {};
}

Status TelemetryView::exportPdf(const QString& path) const {
    if (!m_plot->savePdf(path, m_plot->width(), m_plot->height(), QCP::epNoCosmetic,
                         QStringLiteral("otafleet"), m_title->text()))
        return fail(exportError(path, QStringLiteral("PDF")));
    return {};
}

Status TelemetryView::exportCsv(const QString& path) const {
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(m_table->toCsv()) < 0 || !file.commit())
        return fail(exportError(path, QStringLiteral("CSV")));
    return {};
}

void TelemetryView::exportAs(const QString& format) {
    QString rollout;
    if (isRolloutChart(m_chart) && m_report.rollout)
        rollout = QStringLiteral("-rollout-%1").arg(m_report.rollout->id);
    const QString suggested =
        QStringLiteral("telemetry-%1%2.%3").arg(chartName(m_chart), rollout, format);
    const QString filter = format == QLatin1String("png")   ? tr("PNG images (*.png)")
                           : format == QLatin1String("pdf") ? tr("PDF documents (*.pdf)")
                                                            : tr("CSV files (*.csv)");
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Export the chart"), suggested, filter);
    if (path.isEmpty())
        return;
    const Status saved = format == QLatin1String("png")   ? exportPng(path)
                         : format == QLatin1String("pdf") ? exportPdf(path)
                                                          : exportCsv(path);
    m_status->setText(saved ? tr("Saved %1.").arg(path) : saved.error().message);
}

}  // namespace otafleet::ui
