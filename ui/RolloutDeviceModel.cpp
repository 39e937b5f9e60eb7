#include "ui/RolloutDeviceModel.h"

namespace otafleet::ui {

RolloutDeviceModel::RolloutDeviceModel(fleet::RolloutService& rollouts, fleet::FleetService& fleet,
                                       QObject* parent)
    : QAbstractTableModel(parent), m_rollouts(rollouts), m_fleet(fleet) {
    connect(&m_rollouts, &fleet::RolloutService::rolloutChanged, this,
            &RolloutDeviceModel::onChanged);
    const auto renamed = [this](qint64 deviceId) {
        if (!m_names.contains(deviceId))
            return;
        m_names.insert(deviceId, nameOf(deviceId));
        for (int row = 0; row < m_rows.size(); ++row)
            if (m_rows.at(row).deviceId == deviceId)
                Q_EMIT dataChanged(index(row, Device), index(row, Device));
    };
    connect(&m_fleet, &fleet::FleetService::deviceChanged, this, renamed);
    // A server's rollout may name a device before the fleet's mirror has it.
    connect(&m_fleet, &fleet::FleetService::deviceAdded, this, renamed);
}

void RolloutDeviceModel::setRollout(qint64 id) {
    if (id == m_rolloutId)
        return;
    m_rolloutId = id;
    reload();
}

void RolloutDeviceModel::reload() {
    beginResetModel();
    m_rows = m_rolloutId ? m_rollouts.rolloutDevices(m_rolloutId) : QList<fleet::RolloutDevice>();
    m_names.clear();
    for (const fleet::RolloutDevice& d : std::as_const(m_rows))
        m_names.insert(d.deviceId, nameOf(d.deviceId));
    endResetModel();
}

QString RolloutDeviceModel::nameOf(qint64 deviceId) const {
    const auto device = m_fleet.device(deviceId);
    return device ? device->displayName() : tr("device %1 (removed)").arg(deviceId);
}

void RolloutDeviceModel::onChanged(qint64 id) {
    if (id != m_rolloutId || m_rolloutId == 0)
        return;
    const QList<fleet::RolloutDevice> next = m_rollouts.rolloutDevices(id);
    const bool sameDevices =
        next.size() == m_rows.size() &&
        std::equal(next.cbegin(), next.cend(), m_rows.cbegin(),
                   [](const auto& a, const auto& b) { return a.deviceId == b.deviceId; });
    if (!sameDevices) {  // a late joiner, or a different rollout behind the same id
        reload();
        return;
    }
    // One dataChanged per run of changed rows keeps a view's repaint small.
    int first = -1;
    for (int row = 0; row <= m_rows.size(); ++row) {
        const bool changed = row < m_rows.size() && !(m_rows.at(row) == next.at(row));
        if (changed && first < 0)
            first = row;
        if (!changed && first >= 0) {
            for (int r = first; r < row; ++r)
                m_rows[r] = next.at(r);
            Q_EMIT dataChanged(index(first, 0), index(row - 1, ColumnCount - 1));
            first = -1;
        }
    }
}

int RolloutDeviceModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int RolloutDeviceModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RolloutDeviceModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const fleet::RolloutDevice& d = m_rows.at(index.row());
    if (role == DeviceIdRole)
        return d.deviceId;
    if (role == Qt::ToolTipRole && index.column() == Reason && !d.reason.isEmpty())
        return d.reason;
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
        case Device:
            return m_names.value(d.deviceId);
        case Wave:
            return d.wave > 0 ? QVariant(d.wave) : QVariant(tr("none yet"));
        case State:
            return rollout::deviceStateName(d.state);
        case Attempts:
            return d.attempts;
        case Reason:
            return d.reason;
        default:
            return {};
    }
}

QVariant RolloutDeviceModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
        case Device:
            return tr("Device");
        case Wave:
            return tr("Wave");
        case State:
            return tr("State");
        case Attempts:
            return tr("Attempts");
        case Reason:
            return tr("Reason");
        default:
            return {};
    }
}

}  // namespace otafleet::ui
