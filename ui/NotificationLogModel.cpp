#include "ui/NotificationLogModel.h"

#include <algorithm>

namespace otafleet::ui {

NotificationLogModel::NotificationLogModel(fleet::Notifier& notifier, QObject* parent)
    : QAbstractTableModel(parent), m_rows(notifier.notifications()) {
    std::reverse(m_rows.begin(), m_rows.end());
    connect(&notifier, &fleet::Notifier::notified, this, &NotificationLogModel::onNotified);
}

QString NotificationLogModel::kindTitle(fleet::NotificationKind kind) {
    switch (kind) {
        case fleet::NotificationKind::RolloutPaused:
            return tr("Rollout paused");
        case fleet::NotificationKind::DeviceTampered:
            return tr("Tampering");
        case fleet::NotificationKind::ReleaseArrived:
            return tr("New release");
    }
    return {};
}

void NotificationLogModel::onNotified(const fleet::Notification& n) {
    beginInsertRows({}, 0, 0);
    m_rows.prepend(n);
    endInsertRows();
    if (m_rows.size() > fleet::Notifier::kMaxKept) {
        const int last = int(m_rows.size()) - 1;
        beginRemoveRows({}, last, last);
        m_rows.removeLast();
        endRemoveRows();
    }
}

int NotificationLogModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(m_rows.size());
}

int NotificationLogModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant NotificationLogModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const fleet::Notification& n = m_rows.at(index.row());
    switch (role) {
        case NotificationIdRole:
            return n.id;
        case SubjectRole:
            return n.subject;
        case Qt::DisplayRole:
            switch (index.column()) {
                case Time:
                    return n.time.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
                case Kind:
                    return kindTitle(n.kind);
                case Title:
                    return n.title;
                case Text:
                    return n.text;
                default:
                    return {};
            }
        case Qt::ToolTipRole:
            return index.column() == Text ? QVariant(n.text) : QVariant();
        default:
            return {};
    }
}

QVariant NotificationLogModel::headerData(int section, Qt::Orientation orientation,
                                          int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
        case Time:
            return tr("Time");
        case Kind:
            return tr("Kind");
        case Title:
            return tr("What happened");
        case Text:
            return tr("Details");
        default:
            return {};
    }
}

}  // namespace otafleet::ui
