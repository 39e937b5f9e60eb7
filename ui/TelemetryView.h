// The telemetry charts (QCustomPlot), one at a time, chosen in a combo box: a rollout's progress
// over time (devices stacked by state), its waves' success and failure against the plan's
// thresholds (drawn as lines), version adoption over the days, the distributions of upload
// throughput and install duration, and a rollout's failure reasons. Rollout charts follow the
// rollout chosen in the second combo box. Mouse wheel zooms, dragging pans, hovering shows the
// value under the pointer; the shown chart exports to PNG, PDF and CSV (exactly the plotted
// series, which the table under the chart lists too).
//
// Everything comes from fleet::TelemetryService, which works the report out off the GUI thread;
// the view asks again (coalesced) when the service says the data changed.
#pragma once

#include "common/Error.h"
#include "fleet/TelemetryService.h"
#include "ui/ChartTableModel.h"

#include <QHash>
#include <QWidget>

#include <array>
#include <functional>

class QCPAbstractPlottable;
class QCPItemText;
class QCPItemTracer;
class QCPTextElement;
class QCustomPlot;
class QComboBox;
class QLabel;
class QMouseEvent;
class QTableView;
class QTimer;
class QToolButton;

namespace otafleet::ui {

class TelemetryView : public QWidget {
    Q_OBJECT
public:
    enum class Chart { Progress, Waves, Adoption, Throughput, InstallDuration, FailureReasons };
    static constexpr int kChartCount = 6;

    explicit TelemetryView(fleet::TelemetryService& telemetry, QWidget* parent = nullptr);
    ~TelemetryView() override;

    [[nodiscard]] Chart chart() const { return m_chart; }
    // A file-name friendly name: "progress", "waves", "adoption", "throughput",
    // "install-duration", "failure-reasons".
    [[nodiscard]] static QString chartName(Chart chart);
    [[nodiscard]] qint64 rolloutId() const;
    [[nodiscard]] const fleet::TelemetryReport& report() const { return m_report; }
    [[nodiscard]] bool isLoading() const { return m_pending != 0; }
    [[nodiscard]] QCustomPlot* plot() const { return m_plot; }
    [[nodiscard]] ChartTableModel* tableModel() const { return m_table; }
    [[nodiscard]] QComboBox* rolloutBox() const { return m_rolloutBox; }
    [[nodiscard]] QComboBox* chartBox() const { return m_chartBox; }
    // The value under the pointer as last shown ("" when nothing is under it).
    [[nodiscard]] QString hoverText() const;

    // The shown chart at the plot's size. Errors: telemetry.export-failed.
    [[nodiscard]] Status exportPng(const QString& path) const;
    [[nodiscard]] Status exportPdf(const QString& path) const;
    [[nodiscard]] Status exportCsv(const QString& path) const;

public Q_SLOTS:
    void showChart(otafleet::ui::TelemetryView::Chart chart);
    void selectRollout(qint64 id);
    void reload();
    // Back to the whole chart after zooming or panning.
    void resetZoom();

Q_SIGNALS:
    // A report arrived and the chart was drawn from it.
    void reportShown();

protected:
    void showEvent(QShowEvent* event) override;

private:
    void onReport(quint64 request, const fleet::TelemetryReport& report);
    void onFailed(quint64 request, const Error& error);
    void fillRolloutBox();
    void redraw();
    void drawChart();
    void drawProgress();
    void drawWaves();
    void drawAdoption();
    void drawHistogram(const fleet::Histogram& histogram, const QString& what, const QString& unit,
                       const QString& countHeader);
    void drawReasons();
    void setEmpty(const QString& sentence);
    void onMouseMove(QMouseEvent* event);
    void exportAs(const QString& format);

    fleet::TelemetryService& m_telemetry;
    fleet::TelemetryReport m_report;
    Chart m_chart = Chart::Progress;
    qint64 m_wantedRollout = 0;  // 0: let the service choose
    quint64 m_pending = 0;       // request being waited for
    bool m_stale = true;
    QComboBox* m_chartBox = nullptr;
    QComboBox* m_rolloutBox = nullptr;
    QToolButton* m_export = nullptr;
    QLabel* m_status = nullptr;
    QCustomPlot* m_plot = nullptr;
    QCPTextElement* m_title = nullptr;
    QCPItemText* m_hover = nullptr;
    QCPItemTracer* m_tracer = nullptr;
    ChartTableModel* m_table = nullptr;
    QTableView* m_tableView = nullptr;
    QTimer* m_reloadTimer = nullptr;
    std::array<double, 4> m_home{0, 1, 0, 1};  // x and y ranges as drawn
    // What hovering over a plottable's data point i says.
    QHash<QCPAbstractPlottable*, std::function<QString(int)>> m_hoverTexts;
};

}  // namespace otafleet::ui
