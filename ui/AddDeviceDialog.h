// Asks for a device's address (HOST:PORT for the LAN, udp://HOST:PORT for an MCU over UDP, or
// another full URI) and an optional name, checks the address as it is typed, and adds the
// device to the fleet. Problems appear as a sentence with its code under the fields; the dialog
// stays open until the device is added or cancelled.
#pragma once

#include "fleet/FleetService.h"

#include <QDialog>

class QDialogButtonBox;
class QLabel;
class QLineEdit;

namespace otafleet::ui {

class AddDeviceDialog : public QDialog {
    Q_OBJECT
public:
    explicit AddDeviceDialog(fleet::FleetService& fleet, QWidget* parent = nullptr);

    void setAddress(const QString& address);
    void setDeviceName(const QString& name);
    [[nodiscard]] QString messageText() const;
    [[nodiscard]] qint64 addedDeviceId() const { return m_addedId; }

public Q_SLOTS:
    void accept() override;

private:
    void validate();
    void showMessage(const QString& text);

    fleet::FleetService& m_fleet;
    QLineEdit* m_address = nullptr;
    QLineEdit* m_name = nullptr;
    QLabel* m_message = nullptr;
    QDialogButtonBox* m_buttons = nullptr;
    qint64 m_addedId = 0;
};

}  // namespace otafleet::ui
