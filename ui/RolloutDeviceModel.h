// The target devices of one rollout (fleet::RolloutService::rolloutDevices) as a table: device
// name, wave, state, attempts and the last failure reason, in offer order. It follows the
// rollout live: a change of the rollout updates the rows whose device moved on (dataChanged),
// and only a different device list resets the model. Fixed columns, no children.
#pragma once

#include "fleet/FleetService.h"
#include "fleet/RolloutService.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QList>

namespace otafleet::ui {

class RolloutDeviceModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Device, Wave, State, Attempts, Reason, ColumnCount };
    enum Role { DeviceIdRole = Qt::UserRole + 1 };

    RolloutDeviceModel(fleet::RolloutService& rollouts, fleet::FleetService& fleet,
                       QObject* parent = nullptr);

    // 0 shows nothing.
    void setRollout(qint64 id);
    [[nodiscard]] qint64 rolloutId() const { return m_rolloutId; }

    [[nodiscard]] int rowCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] int columnCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex& index,
                                int role = Qt::DisplayRole) const override;
    [[nodiscard]] QVariant headerData(int section, Qt::Orientation orientation,
                                      int role = Qt::DisplayRole) const override;

private:
    void reload();
    void onChanged(qint64 id);
    [[nodiscard]] QString nameOf(qint64 deviceId) const;

    fleet::RolloutService& m_rollouts;
    fleet::FleetService& m_fleet;
    qint64 m_rolloutId = 0;
    QList<fleet::RolloutDevice> m_rows;
    QHash<qint64, QString> m_names;  // the fleet's names of m_rows' devices, at reload
};

}  // namespace otafleet::ui
