// The fleet as a table: one row per device (Name, Model, Hardware, Active slot, Slot A, Slot B,
// State; an MCU-class device shows its primary and secondary MCUboot slots as A and B), kept in
// step with FleetService's signals and rebuilt when the fleet resets. Rows are in the order
// devices were added; a sort proxy can reorder them.
#pragma once

#include "fleet/FleetService.h"

#include <QAbstractTableModel>
#include <QList>

namespace otafleet::ui {

class DeviceTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Name, Model, Hardware, ActiveSlot, SlotA, SlotB, State, ColumnCount };
    enum Role { DeviceIdRole = Qt::UserRole + 1, HasErrorRole };

    explicit DeviceTableModel(fleet::FleetService& fleet, QObject* parent = nullptr);

    [[nodiscard]] int rowCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] int columnCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex& index,
                                int role = Qt::DisplayRole) const override;
    [[nodiscard]] QVariant headerData(int section, Qt::Orientation orientation,
                                      int role = Qt::DisplayRole) const override;

    [[nodiscard]] qint64 deviceIdAt(int row) const;
    [[nodiscard]] int rowOf(qint64 deviceId) const;  // -1 if absent

    // Texts the table shows, also used by the details pane so both read the same.
    [[nodiscard]] static QString slotText(const fleet::FleetDevice& device,
                                          const QString& slotName);
    [[nodiscard]] static QString stateText(const fleet::FleetDevice& device);

private:
    void reload();
    void onAdded(qint64 id);
    void onChanged(qint64 id);
    void onRemoved(qint64 id);

    fleet::FleetService& m_fleet;
    QList<fleet::FleetDevice> m_rows;
};

}  // namespace otafleet::ui
