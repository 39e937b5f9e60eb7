#include "ui/ScannedDeviceModel.h"

namespace otafleet::ui {

void ScannedDeviceModel::add(const link::ScannedDevice& device) {
    for (int row = 0; row < m_devices.size(); ++row) {
        if (m_devices.at(row).address == device.address) {
            m_devices[row] = device;
            Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
            return;
        }
    }
    const int row = static_cast<int>(m_devices.size());
    beginInsertRows({}, row, row);
    m_devices.append(device);
    endInsertRows();
}

void ScannedDeviceModel::clear() {
    if (m_devices.isEmpty())
        return;
    beginResetModel();
    m_devices.clear();
    endResetModel();
}

int ScannedDeviceModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_devices.size());
}

int ScannedDeviceModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ScannedDeviceModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const link::ScannedDevice& d = m_devices.at(index.row());
    switch (role) {
        case Qt::DisplayRole:
            switch (index.column()) {
                case Name:
                    return d.name.isEmpty() ? tr("(no name)") : d.name;
                case Address:
                    return d.address;
                case Signal:
                    return d.rssi == 0 ? tr("unknown") : tr("%1 dBm").arg(d.rssi);
                default:
                    return {};
            }
        case Qt::ToolTipRole:
            return d.uri;
        case UriRole:
            return d.uri;
        default:
            return {};
    }
}

QVariant ScannedDeviceModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
        case Name:
            return tr("Name");
        case Address:
            return tr("Address");
        case Signal:
            return tr("Signal");
        default:
            return {};
    }
}

}  // namespace otafleet::ui
