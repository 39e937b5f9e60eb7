// The image slots of an MCU-class device as SMP's image state reports them: one row per slot
// (Slot, Version, Hash, Active, Confirmed, Pending, Permanent), from the device's last report.
// Set a new device with setDevice(). Rows are headed by their slot ("0 primary"), so a
// QTransposeProxyModel shows one column per slot, which is how the narrow device pane shows it.
#pragma once

#include "fleet/FleetService.h"

#include <QAbstractTableModel>
#include <QList>

namespace otafleet::ui {

class ImageSlotModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Slot, Version, Hash, Active, Confirmed, Pending, Permanent, ColumnCount };
    // The full hash, for copying (the column shows its first characters).
    enum Role { FullHashRole = Qt::UserRole + 1, FlagRole };

    using QAbstractTableModel::QAbstractTableModel;

    // Shows the slots of `device` that carry an image state; none for other devices.
    void setDevice(const std::optional<fleet::FleetDevice>& device);

    [[nodiscard]] int rowCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] int columnCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex& index,
                                int role = Qt::DisplayRole) const override;
    [[nodiscard]] QVariant headerData(int section, Qt::Orientation orientation,
                                      int role = Qt::DisplayRole) const override;

private:
    QList<link::SlotSnapshot> m_slots;
};

}  // namespace otafleet::ui
