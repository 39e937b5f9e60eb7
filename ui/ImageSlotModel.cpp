#include "ui/ImageSlotModel.h"

#include <QFont>

namespace otafleet::ui {

namespace {
constexpr int kShortHash = 8;  // as git shows commits: enough to tell two images apart
}

void ImageSlotModel::setDevice(const std::optional<fleet::FleetDevice>& device) {
    QList<link::SlotSnapshot> slots;
    if (device && device->snapshot) {
        for (const link::SlotSnapshot& slot : device->snapshot->slots) {
            if (slot.image)
                slots.append(slot);
        }
    }
    if (slots == m_slots)
        return;
    if (slots.size() == m_slots.size() && !slots.isEmpty()) {
        // Same rows, new values: keep the view's selection and scroll position.
        m_slots = slots;
        Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
        Q_EMIT headerDataChanged(Qt::Vertical, 0, rowCount() - 1);
        return;
    }
    beginResetModel();
    m_slots = slots;
    endResetModel();
}

int ImageSlotModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_slots.size());
}

int ImageSlotModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ImageSlotModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const link::SlotSnapshot& s = m_slots.at(index.row());
    const link::ImageSlotState& st = *s.image;
    const auto flag = [&]() -> std::optional<bool> {
        switch (index.column()) {
            case Active:
                return st.active;
            case Confirmed:
                return st.confirmed;
            case Pending:
                return st.pending;
            case Permanent:
                return st.permanent;
            default:
                return std::nullopt;
        }
    }();
    switch (role) {
        case Qt::DisplayRole:
            if (flag)
                return *flag ? tr("yes") : tr("no");
            switch (index.column()) {
                case Slot:
                    return st.image == 0
                               ? tr("%1 (%2)").arg(st.slot).arg(s.name)
                               : tr("%1 (%2, image %3)").arg(st.slot).arg(s.name).arg(st.image);
                case Version:
                    return s.version.isEmpty() ? tr("empty") : s.version;
                case Hash:
                    return s.sha256.left(kShortHash);
                default:
                    return {};
            }
        case Qt::ToolTipRole:
            return index.column() == Hash ? s.sha256 : QVariant();
        case Qt::FontRole:
            if (index.column() == Hash) {
                QFont mono(QStringLiteral("monospace"));
                mono.setStyleHint(QFont::Monospace);
                return mono;
            }
            return {};
        case Qt::TextAlignmentRole:
            return flag ? QVariant(Qt::AlignCenter) : QVariant();
        case FullHashRole:
            return s.sha256;
        case FlagRole:
            return flag ? QVariant(*flag) : QVariant();
        default:
            return {};
    }
}

QVariant ImageSlotModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (orientation == Qt::Vertical) {
        // Each row's slot, so a transposed view (one column per slot) is headed by it.
        if (section < 0 || section >= m_slots.size())
            return {};
        const link::SlotSnapshot& s = m_slots.at(section);
        return tr("%1 %2").arg(s.image->slot).arg(s.name);
    }
    switch (section) {
        case Slot:
            return tr("Slot");
        case Version:
            return tr("Version");
        case Hash:
            return tr("Hash");
        case Active:
            return tr("Active");
        case Confirmed:
            return tr("Confirmed");
        case Pending:
            return tr("Pending");
        case Permanent:
            return tr("Permanent");
        default:
            return {};
    }
}

}  // namespace otafleet::ui
