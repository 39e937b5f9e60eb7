// The audit entries the audit view shows (fleet::AuditService's answer to its filter), one row
// each, oldest first: id, time (local), actor, action, subject, detail. After a verification that
// failed, the entry it named is marked (red, its tooltip the reason).
#pragma once

#include "fleet/AuditService.h"

#include <QAbstractTableModel>

namespace otafleet::ui {

class AuditTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Id, Time, Actor, Action, Subject, Detail, ColumnCount };
    enum Role { EntryIdRole = Qt::UserRole + 1, AlteredRole };

    explicit AuditTableModel(QObject* parent = nullptr);

    void setEntries(QList<fleet::AuditRecord> entries);
    [[nodiscard]] const QList<fleet::AuditRecord>& entries() const { return m_entries; }
    // Marks entry `id` as the first altered one (0: none), with `reason` as its tooltip.
    void setAltered(qint64 id, const QString& reason);
    [[nodiscard]] int rowOf(qint64 id) const;  // -1 if not shown

    [[nodiscard]] int rowCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] int columnCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex& index,
                                int role = Qt::DisplayRole) const override;
    [[nodiscard]] QVariant headerData(int section, Qt::Orientation orientation,
                                      int role = Qt::DisplayRole) const override;

private:
    QList<fleet::AuditRecord> m_entries;
    qint64 m_altered = 0;
    QString m_alteredReason;
};

}  // namespace otafleet::ui
