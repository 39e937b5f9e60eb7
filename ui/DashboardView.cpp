#include "ui/DashboardView.h"

#include "common/SemVer.h"
#include "fleet/DeviceQuery.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QTimer>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>
#include "ui/QCustomPlotInclude.h"

#include <algorithm>

namespace otafleet::ui {

namespace {

// Many fleet signals arrive in bursts (refreshAll, a rollout wave): recount once per burst.
constexpr int kReloadDelayMs = 250;
constexpr int kFailureListHeight = 150;
constexpr double kBarGroupWidth = 0.8;
constexpr int kMinVersionSlots = 4;

// Distinguishable in light and dark palettes.
const QList<QColor>& seriesColors() {
    static const QList<QColor> colors = {QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e),
                                         QColor(0x2c, 0xa0, 0x2c), QColor(0xd6, 0x27, 0x28),
                                         QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b),
                                         QColor(0xe3, 0x77, 0xc2), QColor(0x17, 0xbe, 0xcf)};
    return colors;
}

bool versionLess(const QString& a, const QString& b) {
    const auto va = SemVer::parse(a);
    const auto vb = SemVer::parse(b);
    if (va && vb)
        return *va < *vb;
    if (va.has_value() != vb.has_value())
        return va.has_value();
    return a < b;
}

}  // namespace

DashboardView::DashboardView(fleet::FleetService& fleet, QWidget* parent)
    : QWidget(parent), m_fleet(fleet) {
    setObjectName(QStringLiteral("dashboard"));
    auto* figures = new QHBoxLayout;
    m_total =
        addFigure(QStringLiteral("figureTotal"), tr("devices"), QString(), tr("Show every device"));
    m_online =
        addFigure(QStringLiteral("figureOnline"), tr("online"), QStringLiteral("state = online"),
                  tr("Answered within the last %1 minutes; click to list them")
                      .arg(fleet::FleetSummary::kOnlineWindowSecs / 60));
    m_offline =
        addFigure(QStringLiteral("figureOffline"), tr("offline"), QStringLiteral("state = offline"),
                  tr("Unreachable, silent for a while or never reached; click to list "
                     "them"));
    m_security = addFigure(
        QStringLiteral("figureSecurity"), tr("need a security update"), std::nullopt,
        tr("Run a lower security version than another device of the same model and hardware "
           "revision: a fixing release exists"));
    m_failing = addFigure(QStringLiteral("figureFailing"), tr("failing"), std::nullopt,
                          tr("Devices whose last operation failed; see the list below"));
    for (QToolButton* figure : {m_total, m_online, m_offline, m_security, m_failing})
        figures->addWidget(figure);
    figures->addStretch();

    m_chart = new QCustomPlot;
    m_chart->setObjectName(QStringLiteral("versionChart"));
    m_chart->setMinimumHeight(260);
    m_chart->setBackground(palette().base());
    m_chart->plotLayout()->insertRow(0);
    m_chart->plotLayout()->addElement(
        0, 0, new QCPTextElement(m_chart, tr("Devices per firmware version")));
    m_chart->legend->setVisible(true);
    m_chart->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
    m_chart->yAxis->setLabel(tr("devices"));
    m_chart->xAxis->setLabel(tr("firmware version (click a bar to list its devices)"));
    m_chart->setToolTip(
        tr("Click a bar to list the devices of that model, hardware revision "
           "and version"));
    connect(m_chart, &QCustomPlot::plottableClick, this, &DashboardView::onBarClicked);
    m_chartEmpty = new QLabel(tr("No device has reported its firmware version yet."));
    m_chartEmpty->setAlignment(Qt::AlignCenter);

    m_failures = new QTreeWidget;
    m_failures->setObjectName(QStringLiteral("recentFailures"));
    m_failures->setHeaderLabels({tr("Device"), tr("Last seen"), tr("Error")});
    m_failures->setRootIsDecorated(false);
    m_failures->setUniformRowHeights(true);
    m_failures->setMaximumHeight(kFailureListHeight);
    m_failures->header()->setStretchLastSection(true);
    m_failures->setColumnWidth(0, 160);
    m_failures->setColumnWidth(1, 150);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(figures);
    layout->addWidget(m_chart, 1);
    layout->addWidget(m_chartEmpty, 1);
    layout->addWidget(new QLabel(tr("<b>Recent failures</b>")));
    layout->addWidget(m_failures);

    m_reloadTimer = new QTimer(this);
    m_reloadTimer->setSingleShot(true);
    m_reloadTimer->setInterval(kReloadDelayMs);
    connect(m_reloadTimer, &QTimer::timeout, this, &DashboardView::reload);
    const auto later = [this] { m_reloadTimer->start(); };
    connect(&m_fleet, &fleet::FleetService::deviceAdded, this, later);
    connect(&m_fleet, &fleet::FleetService::deviceChanged, this, later);
    connect(&m_fleet, &fleet::FleetService::deviceRemoved, this, later);
    connect(&m_fleet, &fleet::FleetService::fleetReset, this, later);
    connect(&m_fleet, &fleet::FleetService::operationFinished, this, later);
    reload();
}

DashboardView::~DashboardView() = default;

QToolButton* DashboardView::addFigure(const QString& objectName, const QString& caption,
                                      const std::optional<QString>& expression,
                                      const QString& toolTip) {
    auto* figure = new QToolButton;
    figure->setObjectName(objectName);
    figure->setProperty("caption", caption);
    figure->setToolTip(toolTip);
    figure->setAutoRaise(true);
    figure->setToolButtonStyle(Qt::ToolButtonTextOnly);
    figure->setMinimumWidth(120);
    QFont font = figure->font();
    font.setPointSizeF(font.pointSizeF() * 1.4);
    figure->setFont(font);
    if (!expression) {
        // No filter expression selects these devices (yet): a figure, not a button.
        figure->setAttribute(Qt::WA_TransparentForMouseEvents);
        figure->setFocusPolicy(Qt::NoFocus);
        return figure;
    }
    figure->setCursor(Qt::PointingHandCursor);
    connect(figure, &QToolButton::clicked, this,
            [this, text = *expression] { Q_EMIT filterRequested(text); });
    return figure;
}

void DashboardView::setFigure(QToolButton* figure, int value, bool alarming) {
    // A figure that needs attention reads in the palette's warning colour; zero reads normal.
    QPalette palette = this->palette();
    if (alarming && value > 0)
        palette.setColor(QPalette::ButtonText, QColor(0xc0, 0x39, 0x2b));
    figure->setPalette(palette);
    figure->setText(QStringLiteral("%1\n%2").arg(QLocale().toString(value),
                                                 figure->property("caption").toString()));
    figure->setProperty("value", value);
}

void DashboardView::reload() {
    m_reloadTimer->stop();
    m_summary = m_fleet.summary();
    setFigure(m_total, m_summary.total);
    setFigure(m_online, m_summary.online);
    setFigure(m_offline, m_summary.offline, true);
    setFigure(m_security, m_summary.needingSecurityUpdate, true);
    setFigure(m_failing, m_summary.failing, true);

    m_failures->clear();
    for (const fleet::RecentFailure& f : std::as_const(m_summary.recentFailures)) {
        auto* item =
            new QTreeWidgetItem({f.deviceName,
                                 f.lastSeen.isValid() ? QLocale().toString(f.lastSeen.toLocalTime(),
                                                                           QLocale::ShortFormat)
                                                      : tr("never"),
                                 f.error.message});
        item->setToolTip(2, f.error.code + QLatin1String(": ") + f.error.message);
        item->setData(0, Qt::UserRole, f.deviceId);
        m_failures->addTopLevelItem(item);
    }
    rebuildChart();
}

void DashboardView::rebuildChart() {
    m_chart->clearPlottables();
    m_series.clear();
    m_versions.clear();
    for (const fleet::VersionCount& c : std::as_const(m_summary.versions))
        if (!m_versions.contains(c.version))
            m_versions.append(c.version);
    std::stable_sort(m_versions.begin(), m_versions.end(), versionLess);
    m_chart->setVisible(!m_versions.isEmpty());
    m_chartEmpty->setVisible(m_versions.isEmpty());

    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    for (int i = 0; i < m_versions.size(); ++i)
        ticker->addTick(i + 1, m_versions.at(i));
    m_chart->xAxis->setTicker(ticker);
    // At least kMinVersionSlots wide, centred: one version must not fill the whole chart.
    const double spare = std::max<double>(0.0, kMinVersionSlots - m_versions.size()) / 2;
    m_chart->xAxis->setRange(0.5 - spare, m_versions.size() + 0.5 + spare);

    // One series per model and hardware revision, side by side within a version.
    QList<std::pair<QString, QString>> groups;
    for (const fleet::VersionCount& c : std::as_const(m_summary.versions))
        if (!groups.contains(std::pair{c.model, c.hardware}))
            groups.append({c.model, c.hardware});
    auto* barGroup = new QCPBarsGroup(m_chart);
    int maxCount = 0;
    for (int g = 0; g < groups.size(); ++g) {
        const auto& [model, hardware] = groups.at(g);
        auto* bars = new QCPBars(m_chart->xAxis, m_chart->yAxis);
        bars->setName(
            QStringLiteral("%1 · %2").arg(model.isEmpty() ? tr("(no model)") : model,
                                          hardware.isEmpty() ? tr("(no hardware)") : hardware));
        const QColor color = seriesColors().at(g % seriesColors().size());
        bars->setPen(QPen(color.darker(130)));
        bars->setBrush(color);
        bars->setWidth(kBarGroupWidth / std::max<qsizetype>(1, groups.size()));
        bars->setBarsGroup(barGroup);
        bars->setSelectable(QCP::stSingleData);
        for (const fleet::VersionCount& c : std::as_const(m_summary.versions)) {
            if (c.model == model && c.hardware == hardware) {
                bars->addData(m_versions.indexOf(c.version) + 1, c.devices);
                maxCount = std::max(maxCount, c.devices);
            }
        }
        m_series.insert(bars, {model, hardware});
    }
    auto yTicker = QSharedPointer<QCPAxisTickerFixed>::create();
    yTicker->setTickStep(1.0);
    yTicker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    m_chart->yAxis->setTicker(yTicker);
    m_chart->yAxis->setRange(0, std::max(1, maxCount) * 1.15);
    m_chart->replot();
}

QPoint DashboardView::barCenter(const fleet::VersionCount& count) const {
    const int key = static_cast<int>(m_versions.indexOf(count.version)) + 1;
    for (auto it = m_series.cbegin(); it != m_series.cend(); ++it) {
        if (it.value().model != count.model || it.value().hardware != count.hardware || key == 0)
            continue;
        QCPBars* bars = it.key();
        int index = -1;
        for (int i = 0; i < bars->dataCount(); ++i)
            if (qRound(bars->data()->at(i)->key) == key)
                index = i;
        if (index < 0)
            return {};
        // The top of the bar, shifted to its place within the version's group of bars.
        const QPointF pixel = bars->dataPixelPosition(index);
        // dataPixelPosition() is the top of the bar; aim half way down it.
        const double base = m_chart->yAxis->coordToPixel(0);
        return QPoint(qRound(pixel.x()), qRound((pixel.y() + base) / 2));
    }
    return {};
}

void DashboardView::onBarClicked(QCPAbstractPlottable* plottable, int dataIndex, QMouseEvent*) {
    auto* bars = qobject_cast<QCPBars*>(plottable);
    const auto series = m_series.constFind(bars);
    if (!bars || series == m_series.cend() || dataIndex < 0 || dataIndex >= bars->dataCount())
        return;
    const int versionIndex = qRound(bars->data()->at(dataIndex)->key) - 1;
    if (versionIndex < 0 || versionIndex >= m_versions.size())
        return;
    Q_EMIT filterRequested(fleet::DeviceQuery::forVersion(series->model, series->hardware,
                                                          m_versions.at(versionIndex)));
}

}  // namespace otafleet::ui
