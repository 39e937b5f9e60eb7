// The side pane for the selected device: identity, both A/B slots (version, state, security
// version), the trial flag, and the last error as the sentence the device or link gave. For an
// MCU-class device the A/B boxes give way to its image slots as SMP reports them (slot, version,
// hash, active, confirmed, pending, permanent).
#pragma once

#include "fleet/FleetService.h"

#include <QWidget>

#include <optional>

class QFormLayout;
class QGroupBox;
class QLabel;
class QTableView;

namespace otafleet::ui {

class ImageSlotModel;

class DeviceDetailsPane : public QWidget {
    Q_OBJECT
public:
    explicit DeviceDetailsPane(QWidget* parent = nullptr);

    void setDevice(const std::optional<fleet::FleetDevice>& device);

    // For tests and accessibility: what the error line says now (empty when none).
    [[nodiscard]] QString errorText() const;
    // The image slots shown for an MCU-class device (empty for others).
    [[nodiscard]] ImageSlotModel* imageSlotModel() const { return m_imageModel; }
    [[nodiscard]] QTableView* imageSlotView() const { return m_imageView; }

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
    QFormLayout* m_form = nullptr;
    QGroupBox* m_images = nullptr;
    QTableView* m_imageView = nullptr;
    ImageSlotModel* m_imageModel = nullptr;
    QLabel* m_error = nullptr;
    QWidget* m_content = nullptr;
    QLabel* m_placeholder = nullptr;
};

}  // namespace otafleet::ui
