#include "ui/AuditTableModel.h"

#include <QBrush>
#include <QColor>
#include <QFont>

#include <algorithm>

namespace otafleet::ui {

AuditTableModel::AuditTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void AuditTableModel::setEntries(QList<fleet::AuditRecord> entries) {
    beginResetModel();
    m_entries = std::move(entries);
    endResetModel();
}

void AuditTableModel::setAltered(qint64 id, const QString& reason) {
    const int before = rowOf(m_altered);
    m_altered = id;
    m_alteredReason = reason;
    for (const int row : {before, rowOf(id)}) {
        if (row >= 0)
            Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
    }
}

int AuditTableModel::rowOf(qint64 id) const {
    if (id <= 0)
        return -1;
    // Entries are in id order.
    const auto it =
        std::lower_bound(m_entries.cbegin(), m_entries.cend(), id,
                         [](const fleet::AuditRecord& e, qint64 wanted) { return e.id < wanted; });
    return it != m_entries.cend() && it->id == id ? int(it - m_entries.cbegin()) : -1;
}

int AuditTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(m_entries.size());
}

int AuditTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant AuditTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const fleet::AuditRecord& e = m_entries.at(index.row());
    const bool altered = m_altered != 0 && e.id == m_altered;
    switch (role) {
        case EntryIdRole:
            return e.id;
        case AlteredRole:
            return altered;
        case Qt::DisplayRole:
            switch (index.column()) {
                case Id:
                    return e.id;
                case Time:
                    return e.time.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
                case Actor:
                    return e.actor;
                case Action:
                    return e.action;
                case Subject:
                    return e.subject;
                case Detail:
                    return e.detail;
                default:
                    return {};
            }
        case Qt::ToolTipRole:
            if (altered)
                return m_alteredReason;
            if (index.column() == Time)
                return e.time.toUTC().toString(Qt::ISODateWithMs);
            return index.column() == Detail && !e.detail.isEmpty() ? QVariant(e.detail)
                                                                   : QVariant();
        // Both colours set, so the row reads in light and dark palettes alike.
        case Qt::ForegroundRole:
            return altered ? QVariant(QBrush(QColor(0x6d, 0x0b, 0x0b))) : QVariant();
        case Qt::BackgroundRole:
            return altered ? QVariant(QBrush(QColor(0xfb, 0xd0, 0xd0))) : QVariant();
        case Qt::FontRole:
            if (altered) {
                QFont bold;
                bold.setBold(true);
                return bold;
            }
            return {};
        case Qt::TextAlignmentRole:
            return index.column() == Id ? QVariant(int(Qt::AlignRight | Qt::AlignVCenter))
                                        : QVariant();
        default:
            return {};
    }
}

QVariant AuditTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
        case Id:
            return tr("#");
        case Time:
            return tr("Time");
        case Actor:
            return tr("Actor");
        case Action:
            return tr("Action");
        case Subject:
            return tr("Subject");
        case Detail:
            return tr("Detail");
        default:
            return {};
    }
}

}  // namespace otafleet::ui
