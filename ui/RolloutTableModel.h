// Rollouts run by the console (fleet::EmbeddedRollouts) as a table: one row per rollout, oldest
// first, with its state, progress, current wave and the engine's reason when it paused itself.
// Rows follow rolloutAdded/rolloutChanged. The base of the Rollouts view (not built yet).
#pragma once

#include "fleet/EmbeddedRollouts.h"

#include <QAbstractTableModel>
#include <QList>

namespace otafleet::ui {

class RolloutTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Name, State, Progress, Wave, PauseReason, ColumnCount };
    enum Role { RolloutIdRole = Qt::UserRole + 1, SucceededRole, TotalRole };

    explicit RolloutTableModel(fleet::EmbeddedRollouts& rollouts, QObject* parent = nullptr);

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

    fleet::EmbeddedRollouts& m_rollouts;
    QList<fleet::RolloutSummary> m_rows;
};

}  // namespace otafleet::ui
