// The series a telemetry chart plots, as a table: one column per series (the first one the x
// value: a time, a wave, a bin, a reason), one row per plotted point. The view shows it under the
// chart and writes it as the chart's CSV, so the CSV holds exactly what is drawn.
#pragma once

#include <QAbstractTableModel>
#include <QStringList>
#include <QVariant>

namespace otafleet::ui {

struct ChartTable {
    QStringList headers;       // CSV header names (stable, snake_case)
    QList<QVariantList> rows;  // each as long as headers: QString, qint64 or double
};

class ChartTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    explicit ChartTableModel(QObject* parent = nullptr);

    void setTable(ChartTable table);
    [[nodiscard]] const ChartTable& table() const { return m_table; }

    [[nodiscard]] int rowCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] int columnCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex& index,
                                int role = Qt::DisplayRole) const override;
    [[nodiscard]] QVariant headerData(int section, Qt::Orientation orientation,
                                      int role = Qt::DisplayRole) const override;

    // RFC 4180: a header line, then one line per row, CRLF line ends, fields quoted when they
    // hold a comma, a quote or a line break. Numbers in C locale at full precision.
    [[nodiscard]] QByteArray toCsv() const;

private:
    ChartTable m_table;
};

}  // namespace otafleet::ui
