// The rollouts the console runs (embedded mode): a table (RolloutTableModel) and, for the
// selected rollout, one progress bar per wave (succeeded of its size), the engine's reason when
// it paused itself, and Pause, Resume and Abort, each enabled only when the engine allows it.
// Not yet a tab of MainWindow (the console does not create EmbeddedRollouts yet).
#pragma once

#include "fleet/EmbeddedRollouts.h"

#include <QWidget>

class QLabel;
class QPushButton;
class QTableView;
class QVBoxLayout;

namespace otafleet::ui {

class RolloutTableModel;

class RolloutsView : public QWidget {
    Q_OBJECT
public:
    // `user` is who the engine records for Pause, Resume and Abort.
    RolloutsView(fleet::EmbeddedRollouts& rollouts, QString user, QWidget* parent = nullptr);

    [[nodiscard]] QTableView* table() const { return m_table; }
    [[nodiscard]] RolloutTableModel* model() const { return m_model; }
    [[nodiscard]] qint64 selectedRollout() const;
    void selectRollout(qint64 id);

private:
    void showSelected();
    void act(const std::function<Status(qint64)>& action);

    fleet::EmbeddedRollouts& m_rollouts;
    QString m_user;
    RolloutTableModel* m_model = nullptr;
    QTableView* m_table = nullptr;
    QLabel* m_reason = nullptr;
    QLabel* m_message = nullptr;
    QVBoxLayout* m_waves = nullptr;
    QPushButton* m_pause = nullptr;
    QPushButton* m_resume = nullptr;
    QPushButton* m_abort = nullptr;
};

}  // namespace otafleet::ui
