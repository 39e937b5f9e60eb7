#include "ui/UpdateDialog.h"

#include "ui/UiLogging.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

namespace otafleet::ui {

namespace {
constexpr int kProgressSteps = 1000;
}

UpdateDialog::UpdateDialog(fleet::FleetService& fleet, qint64 deviceId, QWidget* parent)
    : QDialog(parent), m_fleet(fleet), m_deviceId(deviceId) {
    setWindowTitle(tr("Update device"));
    setMinimumWidth(480);
    auto* layout = new QVBoxLayout(this);

    m_device = new QLabel;
    m_device->setWordWrap(true);
    showDevice();
    layout->addWidget(m_device);

    auto* fileRow = new QHBoxLayout;
    m_file = new QLineEdit;
    m_file->setObjectName(QStringLiteral("bundleFile"));
    m_file->setReadOnly(true);
    m_file->setPlaceholderText(tr("Choose a signed bundle (.otab)"));
    m_choose = new QPushButton(tr("&Choose…"));
    fileRow->addWidget(m_file, 1);
    fileRow->addWidget(m_choose);
    auto* form = new QFormLayout;
    form->addRow(tr("Bundle:"), fileRow);
    layout->addLayout(form);

    m_reboot = new QCheckBox(tr("Reboot into the new firmware"));
    m_reboot->setChecked(true);
    m_commit = new QCheckBox(tr("Commit it after a healthy trial boot"));
    m_commit->setChecked(true);
    connect(m_reboot, &QCheckBox::toggled, m_commit, &QCheckBox::setEnabled);
    layout->addWidget(m_reboot);
    layout->addWidget(m_commit);

    m_phase = new QLabel;
    m_phase->setObjectName(QStringLiteral("phase"));
    m_progress = new QProgressBar;
    m_progress->setRange(0, kProgressSteps);
    m_progress->setValue(0);
    m_result = new QLabel;
    m_result->setObjectName(QStringLiteral("result"));
    m_result->setWordWrap(true);
    m_result->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_phase);
    layout->addWidget(m_progress);
    layout->addWidget(m_result);
    layout->addStretch(1);

    auto* buttons = new QDialogButtonBox;
    m_start = buttons->addButton(tr("&Start update"), QDialogButtonBox::AcceptRole);
    m_start->setObjectName(QStringLiteral("start"));
    m_cancel = buttons->addButton(QDialogButtonBox::Cancel);
    layout->addWidget(buttons);

    connect(m_choose, &QPushButton::clicked, this, &UpdateDialog::chooseBundle);
    connect(m_start, &QPushButton::clicked, this, &UpdateDialog::start);
    connect(m_cancel, &QPushButton::clicked, this, &UpdateDialog::reject);
    connect(&m_fleet, &fleet::FleetService::operationProgress, this, &UpdateDialog::onProgress);
    connect(&m_fleet, &fleet::FleetService::operationFinished, this, &UpdateDialog::onFinished);
    setStage(Stage::Choosing);
}

void UpdateDialog::showDevice() {
    const auto d = m_fleet.device(m_deviceId);
    if (!d)
        return;
    const QString running = d->snapshot ? d->snapshot->activeVersion() : QString();
    m_device->setText(running.isEmpty()
                          ? tr("Update <b>%1</b>").arg(d->displayName().toHtmlEscaped())
                          : tr("Update <b>%1</b>, now running %2")
                                .arg(d->displayName().toHtmlEscaped(), running.toHtmlEscaped()));
}

void UpdateDialog::setBundlePath(const QString& path) {
    m_bundlePath = path;
    m_file->setText(QFileInfo(path).fileName());
    m_file->setToolTip(path);
    setStage(Stage::Choosing);
}

void UpdateDialog::chooseBundle() {
    const QString dir = m_bundlePath.isEmpty() ? QString() : QFileInfo(m_bundlePath).absolutePath();
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Choose an update bundle"), dir, tr("otafleet bundles (*.otab);;All files (*)"));
    if (!path.isEmpty())
        setBundlePath(path);
}

QString UpdateDialog::phaseText() const {
    return m_phase->text();
}

QString UpdateDialog::resultText() const {
    return m_result->text();
}

void UpdateDialog::setStage(Stage stage) {
    m_stage = stage;
    const bool running = stage == Stage::Running;
    m_start->setEnabled(!running && !m_bundlePath.isEmpty() && stage != Stage::Succeeded);
    m_start->setText(stage == Stage::Failed ? tr("&Try again") : tr("&Start update"));
    m_choose->setEnabled(!running);
    m_reboot->setEnabled(!running);
    m_commit->setEnabled(!running && m_reboot->isChecked());
    m_cancel->setText(running ? tr("Cancel update") : tr("Close"));
    if (stage == Stage::Succeeded)
        m_result->setStyleSheet(QStringLiteral("QLabel { color: #1c6b2a; }"));
    else
        m_result->setStyleSheet(QStringLiteral("QLabel { color: #b01c1c; }"));
}

void UpdateDialog::start() {
    if (m_stage == Stage::Running || m_bundlePath.isEmpty())
        return;
    m_result->clear();
    m_lastPhase.clear();
    m_progress->setRange(0, kProgressSteps);
    m_progress->setValue(0);
    m_phase->setText(tr("Starting…"));
    link::UpdateOptions options;
    options.reboot = m_reboot->isChecked();
    options.commit = options.reboot && m_commit->isChecked();
    auto started = m_fleet.startUpdate(m_deviceId, m_bundlePath, options);
    if (!started) {
        m_phase->clear();
        m_result->setText(started.error().message);
        setStage(Stage::Failed);
        return;
    }
    qCInfo(lcUi) << "update started on device" << m_deviceId << m_bundlePath;
    setStage(Stage::Running);
}

void UpdateDialog::onProgress(qint64 id, const QString& phase, qint64 done, qint64 total) {
    if (id != m_deviceId || m_stage != Stage::Running)
        return;
    m_lastPhase = phase;
    if (total > 0) {
        m_progress->setRange(0, kProgressSteps);
        m_progress->setValue(
            static_cast<int>(std::clamp(done, qint64{0}, total) * kProgressSteps / total));
        const QLocale locale;
        m_phase->setText(
            tr("%1 — %2 of %3")
                .arg(phase, locale.formattedDataSize(done), locale.formattedDataSize(total)));
    } else {
        m_progress->setRange(0, 0);  // a step without a measure: show that it is alive
        m_phase->setText(tr("%1…").arg(phase));
    }
}

void UpdateDialog::onFinished(qint64 id, link::LinkOperation operation,
                              const std::optional<Error>& error) {
    if (id != m_deviceId || operation != link::LinkOperation::Update || m_stage != Stage::Running) {
        return;
    }
    m_progress->setRange(0, kProgressSteps);
    showDevice();
    if (error) {
        m_progress->setValue(0);
        m_phase->setText(m_lastPhase.isEmpty()
                             ? tr("The update failed.")
                             : tr("The update failed (last step: %1).").arg(m_lastPhase));
        m_result->setText(error->toString());
        setStage(Stage::Failed);
        adjustSize();  // the sentence may need more lines than the dialog had
        Q_EMIT updateFinished(false);
        return;
    }
    m_progress->setValue(kProgressSteps);
    const auto d = m_fleet.device(m_deviceId);
    const QString version = d && d->snapshot ? d->snapshot->activeVersion() : QString();
    m_phase->setText(tr("Update complete."));
    m_result->setText(version.isEmpty() ? tr("The device was updated.")
                                        : tr("The device now runs %1.").arg(version));
    setStage(Stage::Succeeded);
    Q_EMIT updateFinished(true);
}

void UpdateDialog::reject() {
    if (m_stage == Stage::Running) {
        m_phase->setText(tr("Cancelling…"));
        m_cancel->setEnabled(false);
        m_fleet.cancel(m_deviceId);
        // Re-enabled by the next stage; the dialog closes only once the device answered.
        connect(
            this, &UpdateDialog::updateFinished, m_cancel, [this] { m_cancel->setEnabled(true); },
            Qt::SingleShotConnection);
        return;
    }
    QDialog::reject();
}

}  // namespace otafleet::ui
