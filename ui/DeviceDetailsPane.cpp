#include "ui/DeviceDetailsPane.h"

#include "ui/DeviceTableModel.h"
#include "ui/ImageSlotModel.h"

#include <QFormLayout>
#include <QGroupBox>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QTableView>
#include <QTransposeProxyModel>
#include <QVBoxLayout>

#include <algorithm>

namespace otafleet::ui {

namespace {
QLabel* valueLabel() {
    auto* label = new QLabel;
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    label->setWordWrap(true);
    return label;
}

QString orDash(const QString& text) {
    return text.isEmpty() ? QStringLiteral("—") : text;
}
}  // namespace

DeviceDetailsPane::DeviceDetailsPane(QWidget* parent) : QWidget(parent) {
    auto* outer = new QVBoxLayout(this);
    m_placeholder = new QLabel(tr("Select a device to see its slots and state."));
    m_placeholder->setWordWrap(true);
    m_placeholder->setAlignment(Qt::AlignCenter);
    m_placeholder->setEnabled(false);
    outer->addWidget(m_placeholder);

    m_content = new QWidget;
    auto* layout = new QVBoxLayout(m_content);
    layout->setContentsMargins(0, 0, 0, 0);
    m_title = new QLabel;
    QFont titleFont = m_title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.3);
    titleFont.setBold(true);
    m_title->setFont(titleFont);
    m_uri = valueLabel();
    layout->addWidget(m_title);
    layout->addWidget(m_uri);

    auto* form = new QFormLayout;
    m_form = form;
    m_model = valueLabel();
    m_hardware = valueLabel();
    m_agent = valueLabel();
    m_lastSeen = valueLabel();
    m_boot = valueLabel();
    m_state = valueLabel();
    form->addRow(tr("Model:"), m_model);
    form->addRow(tr("Hardware:"), m_hardware);
    form->addRow(tr("Agent:"), m_agent);
    form->addRow(tr("State:"), m_state);
    form->addRow(tr("Boot:"), m_boot);
    form->addRow(tr("Last seen:"), m_lastSeen);
    layout->addLayout(form);

    m_slotA = makeSlotBox(tr("Slot A"));
    m_slotB = makeSlotBox(tr("Slot B"));
    layout->addWidget(m_slotA.box);
    layout->addWidget(m_slotB.box);

    m_images = new QGroupBox(tr("Image slots"));
    m_images->setObjectName(QStringLiteral("imageSlots"));
    auto* imagesLayout = new QVBoxLayout(m_images);
    m_imageModel = new ImageSlotModel(this);
    // One column per slot, one row per property: seven properties do not fit side by side in
    // a side pane, two slots do.
    auto* transposed = new QTransposeProxyModel(this);
    transposed->setSourceModel(m_imageModel);
    m_imageView = new QTableView;
    m_imageView->setObjectName(QStringLiteral("imageSlotView"));
    m_imageView->setModel(transposed);
    m_imageView->setSelectionMode(QAbstractItemView::NoSelection);
    m_imageView->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_imageView->setFocusPolicy(Qt::NoFocus);
    m_imageView->setWordWrap(false);
    m_imageView->setShowGrid(false);
    m_imageView->setAlternatingRowColors(true);
    // The slot number heads the column already.
    m_imageView->setRowHidden(ImageSlotModel::Slot, true);
    const int rowHeight = m_imageView->fontMetrics().height() + 6;
    m_imageView->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_imageView->verticalHeader()->setDefaultSectionSize(rowHeight);
    m_imageView->verticalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    m_imageView->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_imageView->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_imageView->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    // Rows hidden above are re-shown by a reset of the transposed model: hide them again.
    connect(transposed, &QAbstractItemModel::modelReset, m_imageView,
            [this] { m_imageView->setRowHidden(ImageSlotModel::Slot, true); });
    imagesLayout->addWidget(m_imageView);
    layout->addWidget(m_images);

    m_error = valueLabel();
    m_error->setObjectName(QStringLiteral("lastError"));
    m_error->setStyleSheet(QStringLiteral("QLabel { color: #b01c1c; }"));
    layout->addWidget(m_error);
    layout->addStretch(1);
    outer->addWidget(m_content);
    setDevice(std::nullopt);
}

DeviceDetailsPane::SlotBox DeviceDetailsPane::makeSlotBox(const QString& title) {
    SlotBox slot;
    slot.box = new QGroupBox(title);
    auto* form = new QFormLayout(slot.box);
    slot.version = valueLabel();
    slot.state = valueLabel();
    slot.security = valueLabel();
    form->addRow(tr("Version:"), slot.version);
    form->addRow(tr("State:"), slot.state);
    form->addRow(tr("Security version:"), slot.security);
    return slot;
}

void DeviceDetailsPane::showSlot(SlotBox& box, const fleet::FleetDevice& device,
                                 const QString& name) {
    const link::SlotSnapshot* slot = device.snapshot ? device.snapshot->slot(name) : nullptr;
    const bool active = device.snapshot && device.snapshot->activeSlot == name;
    box.box->setTitle(active ? tr("Slot %1 — running").arg(name) : tr("Slot %1").arg(name));
    box.version->setText(slot ? orDash(slot->version) : QStringLiteral("—"));
    box.state->setText(slot ? orDash(slot->state) : QStringLiteral("—"));
    box.security->setText(slot ? QString::number(slot->securityVersion) : QStringLiteral("—"));
}

void DeviceDetailsPane::setDevice(const std::optional<fleet::FleetDevice>& device) {
    m_placeholder->setVisible(!device);
    m_content->setVisible(device.has_value());
    if (!device)
        return;
    const fleet::FleetDevice& d = *device;
    m_title->setText(d.displayName());
    m_uri->setText(d.uri);
    const link::DeviceSnapshot* s = d.snapshot ? &*d.snapshot : nullptr;
    m_model->setText(s ? orDash(s->model) : QStringLiteral("—"));
    m_hardware->setText(s ? orDash(s->hardware) : QStringLiteral("—"));
    m_agent->setText(s ? orDash(s->agentVersion) : QStringLiteral("—"));
    QString state = DeviceTableModel::stateText(d);
    if (s && s->trial)
        state += tr(" — trial boot, %n tries left", nullptr, static_cast<int>(s->triesLeft));
    m_state->setText(state);
    m_boot->setText(
        s ? tr("boot #%1, health %2").arg(s->bootCount).arg(s->healthOk ? tr("ok") : tr("not ok"))
          : QStringLiteral("—"));
    m_lastSeen->setText(d.lastSeen.isValid()
                            ? QLocale().toString(d.lastSeen.toLocalTime(), QLocale::ShortFormat)
                            : tr("never"));
    const bool mcu = d.isMcu();
    // An MCU reports no agent and no boot counter; its slots are MCUboot's, not A/B.
    m_form->setRowVisible(m_agent, !mcu);
    m_form->setRowVisible(m_boot, !mcu);
    m_slotA.box->setVisible(!mcu);
    m_slotB.box->setVisible(!mcu);
    m_images->setVisible(mcu);
    m_imageModel->setDevice(mcu ? device : std::nullopt);
    if (mcu) {
        // Tall enough for every property row and no more: the pane has other things to show.
        const int rows = ImageSlotModel::ColumnCount - 1;  // the Slot row is the header
        m_imageView->setFixedHeight(m_imageView->horizontalHeader()->sizeHint().height() +
                                    rows * m_imageView->verticalHeader()->defaultSectionSize() +
                                    2 * m_imageView->frameWidth());
        if (s && s->trial)
            state = DeviceTableModel::stateText(d) +
                    tr(" — test boot: confirm it, or it reverts at the next reset");
        m_state->setText(state);
    }
    showSlot(m_slotA, d, QStringLiteral("A"));
    showSlot(m_slotB, d, QStringLiteral("B"));
    m_error->setText(d.lastError ? tr("Last error: %1").arg(d.lastError->toString()) : QString());
    m_error->setVisible(d.lastError.has_value());
}

QString DeviceDetailsPane::errorText() const {
    return m_error->isVisible() || !m_error->text().isEmpty() ? m_error->text() : QString();
}

}  // namespace otafleet::ui
