// The fleet's rollouts: a table of every rollout (RolloutTableModel), "New rollout…" (which the
// main window answers with the RolloutWizard) and, below, the monitor of the selected one
// (RolloutMonitor: waves, device states, the engine's pause reason, the commands).
#pragma once

#include "fleet/FleetService.h"
#include "fleet/RolloutService.h"

#include <QWidget>

class QPushButton;
class QTableView;

namespace otafleet::ui {

class RolloutMonitor;
class RolloutTableModel;

class RolloutsView : public QWidget {
    Q_OBJECT
public:
    // `user` is who the rollouts record for Start, Pause, Resume, Abort and Retry.
    RolloutsView(fleet::RolloutService& rollouts, fleet::FleetService& fleet, QString user,
                 QWidget* parent = nullptr);

    [[nodiscard]] QTableView* table() const { return m_table; }
    [[nodiscard]] RolloutTableModel* model() const { return m_model; }
    [[nodiscard]] RolloutMonitor* monitor() const { return m_monitor; }
    [[nodiscard]] qint64 selectedRollout() const;
    void selectRollout(qint64 id);

Q_SIGNALS:
    void newRolloutRequested();

private:
    RolloutTableModel* m_model = nullptr;
    QTableView* m_table = nullptr;
    QPushButton* m_new = nullptr;
    RolloutMonitor* m_monitor = nullptr;
};

}  // namespace otafleet::ui
