// The fleet at a glance: figures (size, online, offline, security updates due, failing), a
// QCustomPlot bar chart of devices per firmware version with one bar series per model and
// hardware revision, and the latest failures. Everything comes from FleetService::summary();
// the view reloads (coalesced) whenever the fleet reports a change. Clicking a bar or a figure
// asks for the device list filtered to it (filterRequested), which the main window applies.
#pragma once

#include "fleet/FleetService.h"
#include "fleet/FleetSummary.h"

#include <QHash>
#include <QPoint>
#include <QWidget>

#include <optional>

class QCPAbstractPlottable;
class QCPBars;
class QCustomPlot;
class QLabel;
class QMouseEvent;
class QTimer;
class QToolButton;
class QTreeWidget;

namespace otafleet::ui {

class DashboardView : public QWidget {
    Q_OBJECT
public:
    explicit DashboardView(fleet::FleetService& fleet, QWidget* parent = nullptr);
    ~DashboardView() override;

    [[nodiscard]] const fleet::FleetSummary& summary() const { return m_summary; }
    [[nodiscard]] QCustomPlot* versionChart() const { return m_chart; }
    [[nodiscard]] QTreeWidget* failureList() const { return m_failures; }
    // Where the bar of `count` is drawn, in the chart's coordinates; null if it is not shown.
    [[nodiscard]] QPoint barCenter(const fleet::VersionCount& count) const;

Q_SIGNALS:
    // A device filter expression (fleet::DeviceQuery); empty for the whole fleet.
    void filterRequested(const QString& expression);

public Q_SLOTS:
    void reload();

private:
    // `expression` selects the figure's devices when clicked (empty: all); none: not clickable.
    QToolButton* addFigure(const QString& objectName, const QString& caption,
                           const std::optional<QString>& expression, const QString& toolTip);
    void setFigure(QToolButton* figure, int value, bool alarming = false);
    void rebuildChart();
    void onBarClicked(QCPAbstractPlottable* plottable, int dataIndex, QMouseEvent* event);

    struct Series {
        QString model;
        QString hardware;
    };

    fleet::FleetService& m_fleet;
    fleet::FleetSummary m_summary;
    QTimer* m_reloadTimer = nullptr;
    QToolButton* m_total = nullptr;
    QToolButton* m_online = nullptr;
    QToolButton* m_offline = nullptr;
    QToolButton* m_security = nullptr;
    QToolButton* m_failing = nullptr;
    QCustomPlot* m_chart = nullptr;
    QLabel* m_chartEmpty = nullptr;
    QTreeWidget* m_failures = nullptr;
    QStringList m_versions;            // x axis: key i + 1 is m_versions[i]
    QHash<QCPBars*, Series> m_series;  // owned by m_chart
};

}  // namespace otafleet::ui
