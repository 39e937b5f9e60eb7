// The log of past notifications (fleet::Notifier), newest first: time, what happened, and why.
// Rows follow Notifier::notified().
#pragma once

#include "fleet/Notifier.h"

#include <QAbstractTableModel>

namespace otafleet::ui {

class NotificationLogModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Time, Kind, Title, Text, ColumnCount };
    enum Role { NotificationIdRole = Qt::UserRole + 1, SubjectRole };

    explicit NotificationLogModel(fleet::Notifier& notifier, QObject* parent = nullptr);

    [[nodiscard]] int rowCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] int columnCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex& index,
                                int role = Qt::DisplayRole) const override;
    [[nodiscard]] QVariant headerData(int section, Qt::Orientation orientation,
                                      int role = Qt::DisplayRole) const override;

    // "Rollout paused", "Tampering", "New release".
    [[nodiscard]] static QString kindTitle(fleet::NotificationKind kind);

private:
    void onNotified(const fleet::Notification& notification);

    QList<fleet::Notification> m_rows;  // newest first
};

}  // namespace otafleet::ui
