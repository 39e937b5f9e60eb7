#include "ui/UpdateDialog.h"

#include "link/DeviceLink.h"
#include "ui/ReportText.h"
#include "ui/UiLogging.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

#include <algorithm>

namespace otafleet::ui {

namespace {

constexpr int kProgressSteps = 1000;

// "5caffc54a7c77675 35d22e6bb2cf4652 ...": a 64-digit hash a person can read and that wraps.
QString hexGroups(const QString& hex) {
    constexpr int kGroup = 16;
    QStringList groups;
    for (qsizetype i = 0; i < hex.size(); i += kGroup)
        groups.append(hex.mid(i, kGroup));
    return groups.isEmpty() ? QStringLiteral("—") : groups.join(QLatin1Char(' '));
}

}  // namespace

UpdateDialog::UpdateDialog(fleet::FleetService& fleet, qint64 deviceId, QWidget* parent)
    : QDialog(parent), m_fleet(fleet), m_deviceId(deviceId) {
    const auto target = m_fleet.device(deviceId);
    m_mcu = target && target->isMcu();
    setWindowTitle(deviceId == 0 ? tr("Bundle report")
                   : m_mcu       ? tr("Update MCU device")
                                 : tr("Update device"));
    setMinimumWidth(560);
    auto* layout = new QVBoxLayout(this);

    m_device = new QLabel;
    m_device->setWordWrap(true);
    showDevice();
    layout->addWidget(m_device);

    auto* fileRow = new QHBoxLayout;
    m_file = new QLineEdit;
    m_file->setObjectName(QStringLiteral("bundleFile"));
    m_file->setReadOnly(true);
    m_file->setPlaceholderText(m_mcu ? tr("Choose a signed MCUboot image (.bin)")
                                     : tr("Choose a signed bundle (.otab)"));
    m_choose = new QPushButton(tr("&Choose…"));
    fileRow->addWidget(m_file, 1);
    fileRow->addWidget(m_choose);
    auto* form = new QFormLayout;
    form->addRow(m_mcu ? tr("Image:") : tr("Bundle:"), fileRow);
    layout->addLayout(form);

    m_reportBox = new QGroupBox(tr("What this bundle is"));
    auto* reportForm = new QFormLayout(m_reportBox);
    m_reportForm = reportForm;
    reportForm->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    const auto makeField = [reportForm](const QString& label, const char* name) {
        auto* field = new QLabel;
        // Manifest text is outside data shown before it is trusted: never let QLabel guess
        // that it is rich text.
        field->setTextFormat(Qt::PlainText);
        field->setObjectName(QString::fromLatin1(name));
        field->setWordWrap(true);
        field->setTextInteractionFlags(Qt::TextSelectableByMouse);
        reportForm->addRow(label, field);
        return field;
    };
    m_release = makeField(tr("Release:"), "reportRelease");
    m_target = makeField(tr("For hardware:"), "reportHardware");
    m_dates = makeField(tr("Dates:"), "reportDates");
    m_payloads = makeField(tr("Payloads:"), "reportPayloads");
    m_signers = makeField(tr("Signed by:"), "reportSigners");
    m_signers->setTextFormat(Qt::RichText);  // built by signerHtml(), every field escaped
    layout->addWidget(m_reportBox);
    m_verdict = new QLabel;
    m_verdict->setObjectName(QStringLiteral("verdict"));
    m_verdict->setTextFormat(Qt::PlainText);  // error sentences may quote manifest fields
    m_verdict->setWordWrap(true);
    m_verdict->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_verdict);
    layout->addSpacing(4);

    m_reboot = new QCheckBox(m_mcu ? tr("Reset into the new image for a test boot")
                                   : tr("Reboot into the new firmware"));
    m_reboot->setObjectName(QStringLiteral("reboot"));
    m_reboot->setChecked(true);
    m_commit = new QCheckBox(m_mcu ? tr("Confirm it once it runs (otherwise it reverts at the "
                                        "next reset)")
                                   : tr("Commit it after a healthy trial boot"));
    m_commit->setObjectName(QStringLiteral("commit"));
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
    m_result->setTextFormat(Qt::PlainText);
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
    connect(&m_fleet, &fleet::FleetService::bundleInspected, this, &UpdateDialog::onInspected);
    showReport();
    setStage(Stage::Choosing);
}

void UpdateDialog::showDevice() {
    const auto d = m_fleet.device(m_deviceId);
    if (!d) {
        m_device->setText(
            tr("No device is selected: the bundle is checked against the fleet's "
               "release trust only. Select a device and choose Update… to install "
               "it there."));
        return;
    }
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
    m_report.reset();
    m_checking = !path.isEmpty();
    showReport();
    setStage(Stage::Choosing);
    if (m_checking)
        m_fleet.inspectBundle(path, m_deviceId);
}

void UpdateDialog::onInspected(const QString& path, const fleet::BundleReport& report) {
    // Results of an earlier choice, or of another dialog's device, are not ours.
    if (path != m_bundlePath || report.deviceId != m_deviceId || !m_checking)
        return;
    m_checking = false;
    m_report = report;
    showReport();
    if (m_stage != Stage::Running)
        setStage(m_stage);
    fitToContents();
    Q_EMIT bundleChecked();
}

void UpdateDialog::showReport() {
    const bool have = m_report && m_report->manifestRead;
    m_reportBox->setVisible(have);
    const bool image = have && m_report->format == fleet::BundleReport::Format::McubootImage;
    m_reportBox->setTitle(image ? tr("What this image is") : tr("What this bundle is"));
    // An image has no hardware list and no dates; those two rows carry its hashes instead.
    const auto label = [this](QWidget* field, const QString& text) {
        if (auto* l = qobject_cast<QLabel*>(m_reportForm->labelForField(field)))
            l->setText(text);
    };
    label(m_target, image ? tr("SHA-256:") : tr("For hardware:"));
    label(m_dates, image ? tr("Key hash:") : tr("Dates:"));
    if (image) {
        const fleet::BundleReport& r = *m_report;
        const QLocale locale;
        m_release->setText(tr("MCUboot image, version %1").arg(r.version));
        m_target->setText(hexGroups(r.imageHash));
        m_target->setToolTip(r.imageHash);
        m_dates->setText(hexGroups(r.keyHash));
        m_dates->setToolTip(r.keyHash);
        const quint64 size = r.payloads.isEmpty() ? 0 : r.payloads.first().size;
        m_payloads->setText(tr("%1 → secondary slot, then tested and confirmed")
                                .arg(locale.formattedDataSize(static_cast<qint64>(size))));
        QString signer;
        if (!r.signers.isEmpty())
            signer = tr("<b>%1</b>").arg(r.signers.first().commonName.toHtmlEscaped());
        else if (r.verdict == fleet::BundleReport::Verdict::Refused)
            signer = tr("<i>a key this fleet does not trust</i>");
        else
            signer = tr("<i>not checked: the console has no release key</i>");
        m_signers->setText(signer);
    } else if (have) {
        const fleet::BundleReport& r = *m_report;
        const QLocale locale;
        m_release->setText(tr("%1 %2 · security version %3")
                               .arg(r.product.isEmpty() ? tr("(no product)") : r.product, r.version)
                               .arg(r.securityVersion));
        m_target->setText(r.hardware.join(QStringLiteral(", ")));
        m_target->setToolTip({});
        m_dates->setToolTip({});
        m_dates->setText(
            tr("created %1 · %2")
                .arg(utcText(r.created),
                     r.expires ? tr("expires %1").arg(utcText(*r.expires)) : tr("never expires")));
        QStringList payloads;
        for (const fleet::BundlePayloadInfo& p : r.payloads) {
            QString line =
                tr("%1 → %2 slot, %3, %4")
                    .arg(p.name, p.slotClass, locale.formattedDataSize(static_cast<qint64>(p.size)),
                         p.encoding);
            if (p.targetSize != p.size) {
                line += tr(" (%1 installed)")
                            .arg(locale.formattedDataSize(static_cast<qint64>(p.targetSize)));
            }
            payloads.append(line);
        }
        m_payloads->setText(payloads.join(QLatin1Char('\n')));
        QStringList signers;
        for (const fleet::BundleSignerInfo& signer : r.signers)
            signers.append(signerHtml(signer));
        m_signers->setText(signers.isEmpty() ? tr("<i>nobody this fleet trusts</i>")
                                             : signers.join(QStringLiteral("<br><br>")));
    }

    QString text;
    QString color = QStringLiteral("#5a5a5a");
    if (m_checking) {
        text = m_mcu ? tr("Checking the image's structure, hash and signature…")
                     : tr("Checking the bundle's signature and contents…");
    } else if (m_report) {
        text = m_report->verdictSentence();
        switch (m_report->verdict) {
            case fleet::BundleReport::Verdict::Verified:
                color = QStringLiteral("#1c6b2a");
                text = QStringLiteral("✔ ") + text;
                break;
            case fleet::BundleReport::Verdict::Refused:
                color = QStringLiteral("#b01c1c");
                text = tr("✖ Not for this device, so it cannot be started. %1").arg(text);
                break;
            case fleet::BundleReport::Verdict::Unchecked:
                color = QStringLiteral("#8a5a00");
                text = tr("⚠ Not checked here: %1").arg(text);
                break;
        }
    }
    m_verdict->setStyleSheet(QStringLiteral("QLabel { color: %1; font-weight: bold; }").arg(color));
    m_verdict->setText(text);
    m_verdict->setVisible(!text.isEmpty());
}

void UpdateDialog::fitToContents() {
    // adjustSize() sizes word-wrapped labels for a narrower width than the dialog has and leaves
    // a gap below them; ask the layout for the height at the width the dialog really has.
    layout()->activate();
    const int w = std::max(width(), minimumSizeHint().width());
    resize(w,
           layout()->hasHeightForWidth() ? layout()->totalHeightForWidth(w) : sizeHint().height());
}

QString UpdateDialog::verdictText() const {
    return m_verdict->text();
}

QString UpdateDialog::signersText() const {
    if (!m_report)
        return {};
    QStringList lines;
    for (const fleet::BundleSignerInfo& signer : m_report->signers) {
        lines.append(tr("%1 (key id %2; chain: %3; valid until %4)")
                         .arg(signer.subject, signer.keyId,
                              signer.chain.join(QStringLiteral(" → ")), utcText(signer.notAfter)));
    }
    return lines.join(QLatin1Char('\n'));
}

bool UpdateDialog::canStart() const {
    // A refusal is final for this bundle on this device; an unchecked bundle may still go (the
    // device verifies everything itself before it writes a byte).
    return m_deviceId != 0 && !m_bundlePath.isEmpty() && !m_checking && m_report &&
           m_report->verdict != fleet::BundleReport::Verdict::Refused;
}

void UpdateDialog::chooseBundle() {
    const QString dir = m_bundlePath.isEmpty() ? QString() : QFileInfo(m_bundlePath).absolutePath();
    const QString path =
        m_mcu ? QFileDialog::getOpenFileName(
                    this, tr("Choose a signed MCUboot image"), dir,
                    tr("MCUboot images (*.bin *.signed.bin *.img);;All files (*)"))
              : QFileDialog::getOpenFileName(this, tr("Choose an update bundle"), dir,
                                             tr("otafleet bundles (*.otab);;All files (*)"));
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
    m_start->setEnabled(!running && canStart() && stage != Stage::Succeeded);
    m_start->setText(stage == Stage::Failed ? tr("&Try again") : tr("&Start update"));
    m_choose->setEnabled(!running);
    m_reboot->setEnabled(!running);
    m_commit->setEnabled(!running && m_reboot->isChecked());
    m_cancel->setText(running ? tr("Cancel update") : tr("Close"));
    // Nothing to measure before the first start.
    m_phase->setVisible(stage != Stage::Choosing);
    m_progress->setVisible(stage != Stage::Choosing);
    if (stage == Stage::Succeeded)
        m_result->setStyleSheet(QStringLiteral("QLabel { color: #1c6b2a; }"));
    else
        m_result->setStyleSheet(QStringLiteral("QLabel { color: #b01c1c; }"));
}

void UpdateDialog::start() {
    if (m_stage == Stage::Running || !canStart())
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
    // Only a transfer can be cancelled: once the device verifies and writes, it finishes on its
    // own, and a "cancelled" here would hide that it ends up pending a reboot.
    const bool transferring = phase == link::phaseText(link::UpdatePhase::Transferring);
    m_cancel->setEnabled(transferring);
    m_cancel->setToolTip(transferring ? QString()
                                      : tr("The device is installing; it finishes on its own."));
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
        fitToContents();  // the sentence may need more lines than the dialog had
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
    fitToContents();
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
