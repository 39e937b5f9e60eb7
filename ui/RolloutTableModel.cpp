#include "ui/RolloutTableModel.h"

namespace otafleet::ui {

RolloutTableModel::RolloutTableModel(fleet::RolloutService& rollouts, QObject* parent)
    : QAbstractTableModel(parent), m_rollouts(rollouts), m_rows(rollouts.rollouts()) {
    connect(&m_rollouts, &fleet::RolloutService::rolloutAdded, this, &RolloutTableModel::onAdded);
    connect(&m_rollouts, &fleet::RolloutService::rolloutChanged, this,
            &RolloutTableModel::onChanged);
}

int RolloutTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int RolloutTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RolloutTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const fleet::RolloutSummary& r = m_rows.at(index.row());
    const rollout::RolloutStatus& s = r.status;
    const qint64 succeeded = s.count(rollout::DeviceState::Succeeded);
    switch (role) {
        case RolloutIdRole:
            return r.id;
        case SucceededRole:
            return succeeded;
        case TotalRole:
            return s.total;
        case AwaitsApprovalRole:
            return fleet::awaitsApproval(r);
        case Qt::DisplayRole:
            switch (index.column()) {
                case Name:
                    return r.name;
                case State:
                    return rollout::rolloutStateName(s.state);
                case Progress:
                    return tr("%1 of %2 succeeded").arg(succeeded).arg(s.total);
                case Wave:
                    return s.currentWave == 0
                               ? tr("not started")
                               : tr("%1 of %2").arg(s.currentWave).arg(s.waves.size());
                case Author:
                    return s.author;
                case PauseReason:
                    return s.pauseReason;
                default:
                    return {};
            }
        case Qt::ToolTipRole:
            return index.column() == PauseReason && !s.pauseReason.isEmpty()
                       ? QVariant(s.pauseReason)
                       : QVariant();
        default:
            return {};
    }
}

QVariant RolloutTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
        case Name:
            return tr("Rollout");
        case State:
            return tr("State");
        case Progress:
            return tr("Progress");
        case Wave:
            return tr("Wave");
        case Author:
            return tr("Author");
        case PauseReason:
            return tr("Paused because");
        default:
            return {};
    }
}

int RolloutTableModel::rowOf(qint64 rolloutId) const {
    for (int row = 0; row < m_rows.size(); ++row)
        if (m_rows.at(row).id == rolloutId)
            return row;
    return -1;
}

void RolloutTableModel::onAdded(qint64 id) {
    const auto rollout = m_rollouts.rollout(id);
    if (!rollout || rowOf(id) >= 0)
        return;
    const int row = static_cast<int>(m_rows.size());
    beginInsertRows({}, row, row);
    m_rows.append(*rollout);
    endInsertRows();
}

void RolloutTableModel::onChanged(qint64 id) {
    const int row = rowOf(id);
    const auto rollout = m_rollouts.rollout(id);
    if (row < 0 || !rollout)
        return;
    m_rows[row] = *rollout;
    Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

}  // namespace otafleet::ui
