// The devices a scan found, one row each (Name, Address, Signal), in the order they answered.
// A device heard again replaces its row (a new name or signal strength), it is never listed twice.
#pragma once

#include "link/DeviceDiscovery.h"

#include <QAbstractTableModel>
#include <QList>

namespace otafleet::ui {

class ScannedDeviceModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Name, Address, Signal, ColumnCount };
    enum Role { UriRole = Qt::UserRole + 1 };

    using QAbstractTableModel::QAbstractTableModel;

    void add(const link::ScannedDevice& device);
    void clear();
    [[nodiscard]] const link::ScannedDevice& deviceAt(int row) const { return m_devices.at(row); }

    [[nodiscard]] int rowCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] int columnCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex& index,
                                int role = Qt::DisplayRole) const override;
    [[nodiscard]] QVariant headerData(int section, Qt::Orientation orientation,
                                      int role = Qt::DisplayRole) const override;

private:
    QList<link::ScannedDevice> m_devices;
};

}  // namespace otafleet::ui
