// The side pane for the selected device: identity, both A/B slots (version, state, security
// version), the trial flag, and the last error as the sentence the device or link gave.
#pragma once

#include "fleet/FleetService.h"

#include <QWidget>

#include <optional>

class QFormLayout;
class QGroupBox;
class QLabel;

namespace otafleet::ui {

class DeviceDetailsPane : public QWidget {
    Q_OBJECT
public:
    explicit DeviceDetailsPane(QWidget* parent = nullptr);

    void setDevice(const std::optional<fleet::FleetDevice>& device);

    // For tests and accessibility: what the error line says now (empty when none).
    [[nodiscard]] QString errorText() const;

private:
    struct SlotBox {
        QGroupBox* box = nullptr;
        QLabel* version = nullptr;
        QLabel* state = nullptr;
        QLabel* security = nullptr;
    };
    SlotBox makeSlotBox(const QString& title);
    void showSlot(SlotBox& box, const fleet::FleetDevice& device, const QString& name);

    QLabel* m_title = nullptr;
    QLabel* m_uri = nullptr;
    QLabel* m_model = nullptr;
    QLabel* m_hardware = nullptr;
    QLabel* m_agent = nullptr;
    QLabel* m_lastSeen = nullptr;
    QLabel* m_boot = nullptr;
    QLabel* m_state = nullptr;
    SlotBox m_slotA;
    SlotBox m_slotB;
    QLabel* m_error = nullptr;
    QWidget* m_content = nullptr;
    QLabel* m_placeholder = nullptr;
};

}  // namespace otafleet::ui
