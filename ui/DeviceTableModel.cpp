#include "ui/DeviceTableModel.h"

#include <QBrush>
#include <QColor>

namespace otafleet::ui {

namespace {

QString runningText(link::LinkOperation operation) {
    switch (operation) {
        case link::LinkOperation::Refresh:
            return DeviceTableModel::tr("Contacting…");
        case link::LinkOperation::Update:
            return DeviceTableModel::tr("Updating…");
        case link::LinkOperation::Commit:
            return DeviceTableModel::tr("Committing…");
        case link::LinkOperation::Rollback:
            return DeviceTableModel::tr("Rolling back…");
        case link::LinkOperation::Reboot:
            return DeviceTableModel::tr("Rebooting…");
    }
    return DeviceTableModel::tr("Busy…");
}

QString deviceStateText(const QString& state) {
    if (state == QLatin1String("idle"))
        return DeviceTableModel::tr("Idle");
    if (state == QLatin1String("receiving"))
        return DeviceTableModel::tr("Receiving");
    if (state == QLatin1String("installing"))
        return DeviceTableModel::tr("Installing");
    if (state == QLatin1String("pending-reboot"))
        return DeviceTableModel::tr("Reboot pending");
    if (state == QLatin1String("trial"))
        return DeviceTableModel::tr("On trial (commit pending)");
    if (state == QLatin1String("reverted"))
        return DeviceTableModel::tr("Reverted");
    if (state == QLatin1String("error"))
        return DeviceTableModel::tr("Device error");
    return state;
}

}  // namespace

DeviceTableModel::DeviceTableModel(fleet::FleetService& fleet, QObject* parent)
    : QAbstractTableModel(parent), m_fleet(fleet) {
    m_rows = m_fleet.devices();
    connect(&m_fleet, &fleet::FleetService::deviceAdded, this, &DeviceTableModel::onAdded);
    connect(&m_fleet, &fleet::FleetService::deviceChanged, this, &DeviceTableModel::onChanged);
    connect(&m_fleet, &fleet::FleetService::deviceRemoved, this, &DeviceTableModel::onRemoved);
    connect(&m_fleet, &fleet::FleetService::fleetReset, this, &DeviceTableModel::reload);
}

int DeviceTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int DeviceTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QString DeviceTableModel::slotText(const fleet::FleetDevice& device, const QString& slotName) {
    if (!device.snapshot)
        return QString();
    const link::SlotSnapshot* slot = device.snapshot->slot(slotName);
    if (!slot)
        return QString();
    const QString version = slot->version.isEmpty() ? tr("empty") : slot->version;
    if (slot->state.isEmpty() || slot->state == QLatin1String("empty"))
        return version;
    return QStringLiteral("%1 (%2)").arg(version, slot->state);
}

QString DeviceTableModel::stateText(const fleet::FleetDevice& device) {
    if (device.running)
        return runningText(*device.running);
    if (device.lastError) {
        const QString& code = device.lastError->code;
        if (code == QLatin1String("link.unreachable") || code == QLatin1String("link.timeout"))
            return tr("Unreachable");
        return tr("Failed: %1").arg(code);
    }
    if (!device.snapshot)
        return tr("Not contacted yet");
    return deviceStateText(device.snapshot->state);
}

QVariant DeviceTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const fleet::FleetDevice& d = m_rows.at(index.row());
    switch (role) {
        case Qt::DisplayRole:
            switch (index.column()) {
                case Name:
                    return d.displayName();
                case Model:
                    return d.snapshot ? d.snapshot->model : QString();
                case Hardware:
                    return d.snapshot ? d.snapshot->hardware : QString();
                case ActiveSlot:
                    if (!d.snapshot || d.snapshot->activeSlot.isEmpty())
                        return QString();
                    return d.snapshot->trial ? tr("%1 (trial)").arg(d.snapshot->activeSlot)
                                             : d.snapshot->activeSlot;
                // An MCU's MCUboot slots sit in the same two columns: primary, secondary.
                case SlotA:
                    return slotText(d, d.isMcu() ? QStringLiteral("primary") : QStringLiteral("A"));
                case SlotB:
                    return slotText(d,
                                    d.isMcu() ? QStringLiteral("secondary") : QStringLiteral("B"));
                case State:
                    return stateText(d);
                default:
                    return {};
            }
        case Qt::ToolTipRole:
            if (d.lastError)
                return d.lastError->toString();
            if (d.isMcu() && (index.column() == SlotA || index.column() == SlotB))
                return index.column() == SlotA ? tr("MCUboot primary slot")
                                               : tr("MCUboot secondary slot");
            return index.column() == Name ? d.uri : QVariant();
        case Qt::ForegroundRole:
            if (index.column() == State && d.lastError)
                return QBrush(QColor(0xb0, 0x1c, 0x1c));
            return {};
        case DeviceIdRole:
            return d.id;
        case HasErrorRole:
            return d.lastError.has_value();
        default:
            return {};
    }
}

QVariant DeviceTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
        case Name:
            return tr("Name");
        case Model:
            return tr("Model");
        case Hardware:
            return tr("Hardware");
        case ActiveSlot:
            return tr("Active slot");
        case SlotA:
            return tr("Slot A");
        case SlotB:
            return tr("Slot B");
        case State:
            return tr("State");
        default:
            return {};
    }
}

qint64 DeviceTableModel::deviceIdAt(int row) const {
    return row >= 0 && row < m_rows.size() ? m_rows.at(row).id : 0;
}

int DeviceTableModel::rowOf(qint64 deviceId) const {
    for (int row = 0; row < m_rows.size(); ++row) {
        if (m_rows.at(row).id == deviceId)
            return row;
    }
    return -1;
}

void DeviceTableModel::reload() {
    beginResetModel();
    m_rows = m_fleet.devices();
    endResetModel();
}

void DeviceTableModel::onAdded(qint64 id) {
    const auto device = m_fleet.device(id);
    if (!device || rowOf(id) >= 0)
        return;
    const int row = static_cast<int>(m_rows.size());
    beginInsertRows({}, row, row);
    m_rows.append(*device);
    endInsertRows();
}

void DeviceTableModel::onChanged(qint64 id) {
    const int row = rowOf(id);
    const auto device = m_fleet.device(id);
    if (row < 0 || !device) {
        // Out of step with the fleet (a signal was missed): start again from its truth.
        reload();
        return;
    }
    m_rows[row] = *device;
    Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

void DeviceTableModel::onRemoved(qint64 id) {
    const int row = rowOf(id);
    if (row < 0)
        return;
    beginRemoveRows({}, row, row);
    m_rows.removeAt(row);
    endRemoveRows();
}

}  // namespace otafleet::ui
