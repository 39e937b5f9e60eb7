#include "ui/AddDeviceDialog.h"

#include "link/DeviceHub.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace otafleet::ui {

AddDeviceDialog::AddDeviceDialog(fleet::FleetService& fleet, QWidget* parent)
    : QDialog(parent), m_fleet(fleet) {
    setWindowTitle(tr("Add device"));
    auto* layout = new QVBoxLayout(this);
    auto* intro = new QLabel(
        tr("Enter the address of a device: HOST:PORT for one running otafleet-agent, "
           "udp://HOST:PORT for a microcontroller answering MCUmgr over UDP (IPv4, or IPv6 in "
           "brackets). USB devices appear by themselves; Bluetooth ones through Scan."));
    intro->setWordWrap(true);
    layout->addWidget(intro);

    auto* form = new QFormLayout;
    m_address = new QLineEdit;
    m_address->setObjectName(QStringLiteral("address"));
    m_address->setPlaceholderText(tr("HOST:PORT, lan://HOST:PORT or udp://HOST:PORT"));
    m_address->setMaxLength(static_cast<int>(link::DeviceHub::kMaxUriLength));
    m_name = new QLineEdit;
    m_name->setObjectName(QStringLiteral("name"));
    m_name->setPlaceholderText(tr("optional; the device's own name otherwise"));
    form->addRow(tr("&Address:"), m_address);
    form->addRow(tr("&Name:"), m_name);
    layout->addLayout(form);

    m_message = new QLabel;
    m_message->setObjectName(QStringLiteral("message"));
    m_message->setWordWrap(true);
    m_message->setStyleSheet(QStringLiteral("QLabel { color: #b01c1c; }"));
    m_message->setMinimumWidth(420);
    m_message->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    // Room for the longest sentence from the start, so the dialog never jumps or clips it.
    m_message->setMinimumHeight(m_message->fontMetrics().lineSpacing() * 4);
    layout->addWidget(m_message);

    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("&Add"));
    layout->addWidget(m_buttons);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &AddDeviceDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &AddDeviceDialog::reject);
    connect(m_address, &QLineEdit::textChanged, this, &AddDeviceDialog::validate);
    validate();
}

void AddDeviceDialog::setAddress(const QString& address) {
    m_address->setText(address);
}

void AddDeviceDialog::setDeviceName(const QString& name) {
    m_name->setText(name);
}

QString AddDeviceDialog::messageText() const {
    return m_message->text();
}

void AddDeviceDialog::showMessage(const QString& text) {
    m_message->setText(text);
}

void AddDeviceDialog::validate() {
    const QString text = m_address->text().trimmed();
    auto uri = link::DeviceHub::normalizeUri(text);
    // An empty field is not an error yet; it just cannot be added.
    // The code too: it is what a technician quotes to support.
    showMessage(text.isEmpty() || uri ? QString() : uri.error().toString());
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(uri.has_value());
}

void AddDeviceDialog::accept() {
    auto id = m_fleet.addDevice(m_address->text(), m_name->text());
    if (!id) {
        showMessage(id.error().toString());
        return;
    }
    m_addedId = *id;
    QDialog::accept();
}

}  // namespace otafleet::ui
