// One rollout, live: its name, state, release and plan (as a sentence), the engine's reason in
// a banner whenever it paused (itself or by a person), one progress bar per wave, the count of
// devices in each state, every target device (RolloutDeviceModel) and the commands the state
// allows: Start, Pause, Resume, Abort, Retry failed (a command the user's role may not use is
// disabled, its tooltip saying why). Follows rolloutChanged, coalesced so a
// burst of device events repaints once.
#pragma once

#include "fleet/FleetService.h"
#include "fleet/RolloutService.h"

#include <QHash>
#include <QSet>
#include <QWidget>

#include <array>
#include <utility>

class QLabel;
class QProgressBar;
class QPushButton;
class QTableView;
class QTimer;
class QVBoxLayout;

namespace otafleet::ui {

class RolloutDeviceModel;

class RolloutMonitor : public QWidget {
    Q_OBJECT
public:
    // `user` is who the rollout records for the commands.
    RolloutMonitor(fleet::RolloutService& rollouts, fleet::FleetService& fleet, QString user,
                   QWidget* parent = nullptr);

    void setRollout(qint64 id);  // 0 shows nothing
    [[nodiscard]] qint64 rolloutId() const { return m_rolloutId; }
    [[nodiscard]] RolloutDeviceModel* deviceModel() const { return m_deviceModel; }
    [[nodiscard]] QTableView* deviceTable() const { return m_devices; }

public Q_SLOTS:
    void refresh();

private:
    void act(fleet::RolloutAction action);
    void showWaves(const rollout::RolloutStatus& status);

    fleet::RolloutService& m_rollouts;
    QString m_user;
    qint64 m_rolloutId = 0;
    QTimer* m_coalesce = nullptr;
    QLabel* m_title = nullptr;
    QLabel* m_state = nullptr;
    QLabel* m_plan = nullptr;
    QLabel* m_reason = nullptr;
    QLabel* m_message = nullptr;
    QVBoxLayout* m_waves = nullptr;
    QList<QProgressBar*> m_waveBars;
    std::array<QLabel*, rollout::kDeviceStateCount> m_counts{};  // by DeviceState
    RolloutDeviceModel* m_deviceModel = nullptr;
    QTableView* m_devices = nullptr;
    QPushButton* m_start = nullptr;
    QPushButton* m_pause = nullptr;
    QPushButton* m_resume = nullptr;
    QPushButton* m_abort = nullptr;
    QPushButton* m_retry = nullptr;
    std::array<std::pair<QPushButton*, fleet::RolloutAction>, 5> m_actions{};
    QHash<QPushButton*, QString> m_toolTips;  // what each does, when the role allows it
    QSet<quint64> m_pending;                  // requests sent from here
};

}  // namespace otafleet::ui
