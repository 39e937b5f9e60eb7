#include "ui/BleScanDialog.h"

#include "ui/UiLogging.h"

#include <QDialogButtonBox>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

namespace otafleet::ui {

BleScanDialog::BleScanDialog(fleet::FleetService& fleet, ScannerFactory factory, QWidget* parent)
    : QDialog(parent), m_fleet(fleet), m_factory(std::move(factory)) {
    setWindowTitle(tr("Bluetooth LE devices"));
    setMinimumSize(520, 340);
    auto* layout = new QVBoxLayout(this);
    auto* intro =
        new QLabel(tr("Devices nearby that offer MCUmgr (SMP) over Bluetooth LE. Put the device in "
                      "range and make sure it advertises, then choose it and Add."));
    intro->setWordWrap(true);
    layout->addWidget(intro);

    m_model = new ScannedDeviceModel(this);
    m_view = new QTableView;
    m_view->setObjectName(QStringLiteral("scannedDevices"));
    m_view->setModel(m_model);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->verticalHeader()->hide();
    m_view->setWordWrap(false);
    m_view->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 8);
    m_view->horizontalHeader()->setSectionResizeMode(ScannedDeviceModel::Name,
                                                     QHeaderView::Stretch);
    m_view->horizontalHeader()->setMinimumSectionSize(
        m_view->fontMetrics().horizontalAdvance(QStringLiteral("-100 dBm  ")));
    layout->addWidget(m_view, 1);

    auto* statusRow = new QHBoxLayout;
    m_status = new QLabel;
    m_status->setObjectName(QStringLiteral("scanStatus"));
    m_status->setWordWrap(true);
    m_status->setTextFormat(Qt::PlainText);
    m_busy = new QProgressBar;
    m_busy->setRange(0, 0);
    m_busy->setMaximumWidth(120);
    m_busy->setTextVisible(false);
    statusRow->addWidget(m_status, 1);
    statusRow->addWidget(m_busy);
    layout->addLayout(statusRow);

    auto* buttons = new QDialogButtonBox;
    m_scan = buttons->addButton(tr("&Scan again"), QDialogButtonBox::ActionRole);
    m_add = buttons->addButton(tr("&Add device"), QDialogButtonBox::AcceptRole);
    m_add->setObjectName(QStringLiteral("add"));
    buttons->addButton(QDialogButtonBox::Close);
    layout->addWidget(buttons);

    connect(m_scan, &QPushButton::clicked, this, &BleScanDialog::startScan);
    connect(m_add, &QPushButton::clicked, this, &BleScanDialog::addSelected);
    connect(buttons, &QDialogButtonBox::rejected, this, &BleScanDialog::reject);
    connect(m_view, &QTableView::doubleClicked, this, &BleScanDialog::addSelected);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &BleScanDialog::updateButtons);
    connect(m_model, &QAbstractItemModel::rowsInserted, this, [this] {
        // The first device found is the likely choice: select it so Add works at once.
        if (!m_view->selectionModel()->hasSelection())
            m_view->selectRow(0);
        m_view->resizeColumnToContents(ScannedDeviceModel::Address);
        m_view->resizeColumnToContents(ScannedDeviceModel::Signal);
        updateButtons();
    });
    m_busy->hide();
    updateButtons();
}

BleScanDialog::~BleScanDialog() {
    if (m_scanner)
        m_scanner->disconnect(this);
}

QString BleScanDialog::statusText() const {
    return m_status->text();
}

void BleScanDialog::showStatus(const QString& text, bool isError) {
    m_status->setStyleSheet(isError ? QStringLiteral("QLabel { color: #b01c1c; }") : QString());
    m_status->setText(text);
}

void BleScanDialog::updateButtons() {
    m_scan->setEnabled(!m_scanning);
    m_add->setEnabled(m_view->selectionModel()->hasSelection());
    m_busy->setVisible(m_scanning);
}

void BleScanDialog::startScan() {
    if (m_scanning)
        return;
    m_model->clear();
    auto scanner = m_factory ? m_factory()
                             : Result<std::unique_ptr<link::DeviceScanner>>(
                                   fail(QStringLiteral("mcu.ble-unavailable"),
                                        tr("This console has no Bluetooth LE transport; reinstall "
                                           "otafleet with the ble plugin.")));
    if (!scanner || !*scanner) {
        const Error error = scanner ? Error{QStringLiteral("mcu.ble-unavailable"),
                                            tr("The Bluetooth LE transport offers no scanner; "
                                               "reinstall otafleet.")}
                                    : scanner.error();
        showStatus(error.toString(), true);
        Q_EMIT scanFinished();
        return;
    }
    m_scanner = std::move(*scanner);
    connect(m_scanner.get(), &link::DeviceScanner::found, m_model, &ScannedDeviceModel::add);
    connect(m_scanner.get(), &link::DeviceScanner::finished, this, &BleScanDialog::onFinished);
    if (const Status started = m_scanner->start(m_scanMs); !started) {
        showStatus(started.error().toString(), true);
        m_scanner.reset();
        Q_EMIT scanFinished();
        return;
    }
    m_scanning = true;
    const int seconds = (m_scanMs + 999) / 1000;
    showStatus(
        seconds == 1 ? tr("Scanning for 1 second…") : tr("Scanning for %1 seconds…").arg(seconds),
        false);
    updateButtons();
}

void BleScanDialog::onFinished(const std::optional<Error>& error) {
    m_scanning = false;
    if (error) {
        showStatus(error->toString(), true);
    } else if (m_model->rowCount() == 0) {
        showStatus(tr("No device offering SMP answered. Check that it is powered, in range and "
                      "advertising, then scan again."),
                   false);
    } else {
        const int found = m_model->rowCount();
        showStatus(found == 1 ? tr("Found 1 device. Choose it and Add.")
                              : tr("Found %1 devices. Choose one and Add.").arg(found),
                   false);
    }
    qCInfo(lcUi) << "BLE scan found" << m_model->rowCount() << "devices";
    updateButtons();
    Q_EMIT scanFinished();
}

void BleScanDialog::addSelected() {
    const QModelIndexList rows = m_view->selectionModel()->selectedRows();
    if (rows.isEmpty())
        return;
    const link::ScannedDevice device = m_model->deviceAt(rows.first().row());
    auto id = m_fleet.addDevice(device.uri, device.name);
    if (!id) {
        showStatus(id.error().toString(), true);
        return;
    }
    m_addedId = *id;
    if (m_scanner && m_scanning)
        m_scanner->stop();
    QDialog::accept();
}

void BleScanDialog::reject() {
    if (m_scanner && m_scanning)
        m_scanner->stop();
    QDialog::reject();
}

}  // namespace otafleet::ui
