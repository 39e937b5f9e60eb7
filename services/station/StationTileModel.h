// The station's ports as an item model, one row per port (its current unit, or the last one
// that ended there), for the console's Station view (a tile per row) or any table: columns port,
// serial number, stage, progress and result; the same values under the roles below on column
// 0. Fed by a Station's signals through attach(); keeps a running summary of this run.
#pragma once

#include "station/Station.h"
#include "station/UnitRecord.h"

#include <QAbstractTableModel>
#include <QPointer>

namespace otafleet::station {

class StationTileModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column { PortColumn, SerialColumn, StageColumn, ProgressColumn, ResultColumn, Columns };
    enum Role {
        PortRole = Qt::UserRole + 1,
        SerialRole,
        StageRole,
        ProgressRole,  // 0..100 of the upload
        ResultRole,    // "running", "pass", "fail"
        ReasonRole,    // the failure sentence and code
    };

    explicit StationTileModel(QObject* parent = nullptr);

    // Follows `station` from now on (a new run may attach again: the rows stay until then).
    void attach(Station& station);
    void clear();

    [[nodiscard]] int rowCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] int columnCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex& index, int role) const override;
    [[nodiscard]] QVariant headerData(int section, Qt::Orientation orientation,
                                      int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    [[nodiscard]] const QList<UnitRecord>& records() const { return m_records; }

    // The Station's signals, public so that tests can feed the model without devices.
    void onUnitStarted(const QString& port);
    void onUnitStage(const QString& port, const QString& serial, const QString& stage);
    void onUnitProgress(const QString& port, qint64 done, qint64 total);
    void onUnitFinished(const otafleet::station::UnitRecord& record);

Q_SIGNALS:
    void summaryChanged(const otafleet::station::StationSummary& summary);

private:
    struct Tile {
        QString port;
        QString serial;
        QString stage;
        int progress = 0;
        QString result;
        QString reason;
    };
    int rowOf(const QString& port);  // appends a row for a new port
    void changed(int row);

    QList<Tile> m_tiles;
    QList<UnitRecord> m_records;
    QPointer<Station> m_station;
};

}  // namespace otafleet::station
