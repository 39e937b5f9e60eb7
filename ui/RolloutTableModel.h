// The fleet's rollouts (fleet::RolloutService) as a table: one row per rollout, oldest first,
// with its state, progress, current wave, author and the engine's reason when it paused itself.
// Rows follow rolloutAdded/rolloutChanged. The base of the Rollouts view and the approval inbox.
#pragma once

#include "fleet/RolloutService.h"

#include <QAbstractTableModel>
#include <QList>

namespace otafleet::ui {

class RolloutTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Name, State, Progress, Wave, Author, PauseReason, ColumnCount };
    enum Role {
        RolloutIdRole = Qt::UserRole + 1,
        SucceededRole,
        TotalRole,
        AwaitsApprovalRole,  // bool: fleet::awaitsApproval()
    };

    explicit RolloutTableModel(fleet::RolloutService& rollouts, QObject* parent = nullptr);

    [[nodiscard]] int rowCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] int columnCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex& index,
                                int role = Qt::DisplayRole) const override;
    [[nodiscard]] QVariant headerData(int section, Qt::Orientation orientation,
                                      int role = Qt::DisplayRole) const override;
    [[nodiscard]] int rowOf(qint64 rolloutId) const;  // -1 if absent

private:
    void onAdded(qint64 id);
    void onChanged(qint64 id);

    fleet::RolloutService& m_rollouts;
    QList<fleet::RolloutSummary> m_rows;
};

}  // namespace otafleet::ui
