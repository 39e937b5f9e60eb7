#include "ui/SignReleaseDialog.h"

#include "ui/PinDialog.h"
#include "ui/ReportText.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QVBoxLayout>

namespace otafleet::ui {

namespace {

constexpr int kProgressSteps = 1000;
constexpr int kDefaultValidDays = 365;  // as `bundle create` without --expires
constexpr int kMaxValidDays = 3650;
constexpr int kPathRole = Qt::UserRole + 1;
constexpr int kNameRole = Qt::UserRole + 2;

// A payload name from a file name: "rootfs.img" -> "rootfs".
QString payloadNameFor(const QString& path) {
    QString name = QFileInfo(path).completeBaseName();
    name.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9._-]")), QStringLiteral("-"));
    return name.left(64).isEmpty() ? QStringLiteral("rootfs") : name.left(64);
}

}  // namespace

SignReleaseDialog::SignReleaseDialog(fleet::ReleaseService& releases, QWidget* parent)
    : QDialog(parent), m_releases(releases) {
    setWindowTitle(tr("New release"));
    setMinimumWidth(640);
    auto* layout = new QVBoxLayout(this);

    auto* form = new QFormLayout;
    m_product = new QLineEdit(QStringLiteral("otafleet-firmware"));
    m_product->setObjectName(QStringLiteral("product"));
    form->addRow(tr("&Product:"), m_product);
    m_version = new QLineEdit;
    m_version->setObjectName(QStringLiteral("version"));
    m_version->setPlaceholderText(tr("SemVer, e.g. 1.4.0"));
    form->addRow(tr("&Version:"), m_version);
    m_hardware = new QLineEdit;
    m_hardware->setObjectName(QStringLiteral("hardware"));
    m_hardware->setPlaceholderText(tr("compatible hardware revisions, e.g. rev-a, rev-b"));
    form->addRow(tr("&Hardware:"), m_hardware);
    m_securityVersion = new QSpinBox;
    m_securityVersion->setObjectName(QStringLiteral("securityVersion"));
    m_securityVersion->setRange(0, 1'000'000);
    m_securityVersion->setToolTip(
        tr("Anti-rollback counter: devices refuse any release with a lower one afterwards"));
    form->addRow(tr("&Security version:"), m_securityVersion);
    m_validDays = new QSpinBox;
    m_validDays->setObjectName(QStringLiteral("validDays"));
    m_validDays->setRange(0, kMaxValidDays);
    m_validDays->setValue(kDefaultValidDays);
    m_validDays->setSuffix(tr(" days"));
    m_validDays->setSpecialValueText(tr("never expires (can be replayed forever)"));
    form->addRow(tr("&Expires after:"), m_validDays);
    m_notes = new QPlainTextEdit;
    m_notes->setObjectName(QStringLiteral("releaseNotes"));
    m_notes->setPlaceholderText(tr("Signed into the manifest; devices and consoles show them"));
    m_notes->setFixedHeight(70);
    form->addRow(tr("Release &notes:"), m_notes);

    m_payloads = new QListWidget;
    m_payloads->setObjectName(QStringLiteral("payloads"));
    m_payloads->setMinimumHeight(84);  // takes the room a larger dialog has
    m_addPayload = new QPushButton(tr("&Add payload…"));
    m_addPayload->setObjectName(QStringLiteral("addPayload"));
    m_removePayload = new QPushButton(tr("Remo&ve"));
    m_removePayload->setObjectName(QStringLiteral("removePayload"));
    auto* payloadButtons = new QVBoxLayout;
    payloadButtons->addWidget(m_addPayload);
    payloadButtons->addWidget(m_removePayload);
    payloadButtons->addStretch();
    auto* payloadRow = new QHBoxLayout;
    payloadRow->addWidget(m_payloads, 1);
    payloadRow->addLayout(payloadButtons);
    form->addRow(tr("Payloads:"), payloadRow);

    m_signer = new QComboBox;
    m_signer->setObjectName(QStringLiteral("signer"));
    form->addRow(tr("&Signed by:"), m_signer);
    m_twoPerson = new QCheckBox(tr("&Two-person release: a second signature by"));
    m_twoPerson->setObjectName(QStringLiteral("twoPerson"));
    m_twoPerson->setToolTip(
        tr("Devices that require two signers (signers_required = 2) accept only releases "
           "signed by two different release signers"));
    m_secondSigner = new QComboBox;
    m_secondSigner->setObjectName(QStringLiteral("secondSigner"));
    m_secondSigner->setEnabled(false);
    auto* second = new QHBoxLayout;
    second->addWidget(m_twoPerson);
    second->addWidget(m_secondSigner, 1);
    form->addRow(QString(), second);
    layout->addLayout(form);

    m_status = new QLabel(tr("Reading the release signers…"));
    m_status->setObjectName(QStringLiteral("status"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_status);
    m_progress = new QProgressBar;
    m_progress->setObjectName(QStringLiteral("progress"));
    m_progress->setRange(0, kProgressSteps);
    m_progress->hide();
    layout->addWidget(m_progress);

    m_buttons = new QDialogButtonBox(QDialogButtonBox::Cancel);
    m_create = m_buttons->addButton(tr("&Create and sign"), QDialogButtonBox::AcceptRole);
    m_create->setObjectName(QStringLiteral("createAndSign"));
    m_create->setEnabled(false);
    layout->addWidget(m_buttons);

    connect(m_create, &QPushButton::clicked, this, &SignReleaseDialog::start);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &SignReleaseDialog::reject);
    connect(m_addPayload, &QPushButton::clicked, this, &SignReleaseDialog::chooseFile);
    connect(m_removePayload, &QPushButton::clicked, this, [this] {
        delete m_payloads->currentItem();
        updateButtons();
    });
    connect(m_twoPerson, &QCheckBox::toggled, this, [this] { updateButtons(); });
    // A choice of signers that was refused is changed: the refusal is no longer true.
    const auto signersChanged = [this] {
        if (m_step == Step::Idle && !m_signers.isEmpty())
            showStatus({});
    };
    connect(m_twoPerson, &QCheckBox::toggled, this, signersChanged);
    connect(m_signer, &QComboBox::currentIndexChanged, this, signersChanged);
    connect(m_secondSigner, &QComboBox::currentIndexChanged, this, signersChanged);
    connect(m_version, &QLineEdit::textChanged, this, [this] { updateButtons(); });
    connect(m_hardware, &QLineEdit::textChanged, this, [this] { updateButtons(); });
    connect(&m_releases, &fleet::ReleaseService::requestProgress, this,
            &SignReleaseDialog::onProgress);
    connect(&m_releases, &fleet::ReleaseService::requestFinished, this,
            &SignReleaseDialog::onFinished);

    auto* watcher = new QFutureWatcher<Result<QList<fleet::ReleaseSigner>>>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher] {
        onSigners(watcher->result());
        watcher->deleteLater();
    });
    watcher->setFuture(m_releases.signers());
}

SignReleaseDialog::~SignReleaseDialog() {
    if (m_request != 0)
        m_releases.cancel(m_request);
    if (!m_bundlePath.isEmpty())
        m_releases.discard(m_bundlePath);
}

void SignReleaseDialog::addPayload(const QString& name, const QString& path) {
    auto* item = new QListWidgetItem(
        tr("%1 ← %2").arg(name, QDir::toNativeSeparators(QFileInfo(path).absoluteFilePath())));
    item->setData(kNameRole, name);
    item->setData(kPathRole, path);
    m_payloads->addItem(item);
    updateButtons();
}

void SignReleaseDialog::setDevelopmentPin(const QString& tokenLabel, const QString& pin) {
    m_developmentToken = tokenLabel;
    m_developmentPin = pin;
}

PinDialog* SignReleaseDialog::pinDialog() const {
    return m_pinDialog.data();
}

QString SignReleaseDialog::statusText() const {
    return m_status->text();
}

void SignReleaseDialog::chooseFile() {
    auto* dialog = new QFileDialog(this, tr("Payload file"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setFileMode(QFileDialog::ExistingFile);
    connect(dialog, &QFileDialog::fileSelected, this, [this](const QString& path) {
        // The first payload is the root file system unless the user renames it later.
        addPayload(m_payloads->count() == 0 ? QStringLiteral("rootfs") : payloadNameFor(path),
                   path);
    });
    dialog->open();
}

void SignReleaseDialog::onSigners(const Result<QList<fleet::ReleaseSigner>>& signers) {
    if (!signers) {
        showStatus(tr("No release can be signed here: %1").arg(signers.error().toString()), true);
        Q_EMIT signersLoaded();
        return;
    }
    for (const fleet::ReleaseSigner& s : *signers) {
        if (!s.usable())
            continue;  // revoked and expired signers cannot make a release devices accept
        m_signers.append(s);
        const QString label =
            tr("%1 (%2)").arg(s.commonName.isEmpty() ? s.name : s.commonName,
                              s.keyInToken ? tr("token %1").arg(s.tokenLabel) : tr("key file"));
        m_signer->addItem(label, s.name);
        m_secondSigner->addItem(label, s.name);
        m_signer->setItemData(m_signer->count() - 1, s.subject, Qt::ToolTipRole);
        m_secondSigner->setItemData(m_secondSigner->count() - 1, s.subject, Qt::ToolTipRole);
    }
    if (m_signers.size() > 1)
        m_secondSigner->setCurrentIndex(1);
    showStatus(m_signers.isEmpty()
                   ? tr("This PKI has no valid release signer; issue one with 'otafleetctl pki "
                        "issue release-signer'.")
                   : QString());
    updateButtons();
    Q_EMIT signersLoaded();
}

void SignReleaseDialog::updateButtons() {
    const bool idle = m_step == Step::Idle;
    m_secondSigner->setEnabled(idle && m_twoPerson->isChecked());
    m_twoPerson->setEnabled(idle && m_signers.size() > 1);
    if (m_signers.size() < 2)
        m_twoPerson->setToolTip(
            tr("A two-person release needs a second release signer in the "
               "PKI ('otafleetctl pki issue release-signer')"));
    const bool complete = !m_version->text().trimmed().isEmpty() &&
                          !m_hardware->text().trimmed().isEmpty() && m_payloads->count() > 0 &&
                          !m_signers.isEmpty();
    m_create->setEnabled(idle && complete);
    m_removePayload->setEnabled(idle && m_payloads->count() > 0);
}

Result<fleet::ReleaseDraft> SignReleaseDialog::draft() const {
    fleet::ReleaseDraft d;
    d.product = m_product->text().trimmed();
    d.version = m_version->text().trimmed();
    d.securityVersion = static_cast<quint64>(m_securityVersion->value());
    for (const QString& h : m_hardware->text().split(u',', Qt::SkipEmptyParts))
        d.hardware << h.trimmed();
    if (m_validDays->value() > 0)
        d.expires = QDateTime::currentDateTimeUtc().addDays(m_validDays->value());
    d.releaseNotes = m_notes->toPlainText();
    for (int i = 0; i < m_payloads->count(); ++i) {
        const QListWidgetItem* item = m_payloads->item(i);
        fleet::ReleasePayloadFile p;
        p.name = item->data(kNameRole).toString();
        p.path = item->data(kPathRole).toString();
        d.payloads.append(p);
    }
    if (m_twoPerson->isChecked() &&
        m_signer->currentData().toString() == m_secondSigner->currentData().toString()) {
        return fail(QStringLiteral("release.same-signer"),
                    tr("A two-person release needs two different signers; choose another "
                       "second signer."));
    }
    return d;
}

void SignReleaseDialog::start() {
    if (m_step != Step::Idle)
        return;
    auto d = draft();
    if (!d) {
        showStatus(d.error().toString(), true);
        Q_EMIT failed(d.error());
        return;
    }
    m_pendingSigners = {m_signer->currentData().toString()};
    if (m_twoPerson->isChecked())
        m_pendingSigners << m_secondSigner->currentData().toString();
    m_signaturesTotal = static_cast<int>(m_pendingSigners.size());
    m_step = Step::Building;
    setWorking(true);
    showStatus(tr("Building the bundle…"));
    m_request = m_releases.requestBuild(*d);
}

void SignReleaseDialog::onProgress(quint64 request, const QString& phase, qint64 done,
                                   qint64 total) {
    if (request != m_request || request == 0)
        return;
    m_status->setText(phase + QStringLiteral("…"));
    if (total <= 0) {
        m_progress->setRange(0, 0);  // busy
        return;
    }
    m_progress->setRange(0, kProgressSteps);
    m_progress->setValue(static_cast<int>(done * kProgressSteps / total));
}

void SignReleaseDialog::onFinished(quint64 request, const QString& result,
                                   const std::optional<Error>& error) {
    if (request != m_request || request == 0)
        return;
    m_request = 0;
    // Cancel was pressed while a step that cannot stop midway (a signature) ran: stop after it.
    if (m_cancelling && !error) {
        stop(Error{QStringLiteral("release.cancelled"),
                   tr("Cancelled; nothing was kept. Start again when you are ready.")});
        return;
    }
    switch (m_step) {
        case Step::Building:
            if (error) {
                stop(error);
                return;
            }
            m_bundlePath = result;
            m_step = Step::Signing;
            nextSignature();
            return;
        case Step::Signing:
            if (error) {
                // A PIN the token refused is asked again; the built bundle stays.
                if (error->code == QLatin1String("crypto.pin-incorrect")) {
                    showStatus(error->message, true);
                    Q_EMIT failed(*error);
                    nextSignature(error->message);
                    return;
                }
                stop(error);
                return;
            }
            m_pendingSigners.removeFirst();
            nextSignature();
            return;
        case Step::Importing:
            if (error) {
                stop(error);
                return;
            }
            m_bundlePath.clear();  // it is the release now
            m_step = Step::Idle;
            setWorking(false);
            Q_EMIT releaseCreated(result);
            accept();
            return;
        case Step::Idle:
            return;
    }
}

void SignReleaseDialog::nextSignature(const QString& refusal) {
    if (m_pendingSigners.isEmpty()) {
        m_step = Step::Importing;
        showStatus(tr("Verifying and keeping the release…"));
        m_request = m_releases.requestImport(m_bundlePath, QString());
        return;
    }
    const auto signer = signerNamed(m_pendingSigners.first());
    if (!signer) {
        stop(Error{QStringLiteral("pki.unknown-name"),
                   tr("The signer %1 is no longer in the PKI.").arg(m_pendingSigners.first())});
        return;
    }
    const int number = m_signaturesTotal - static_cast<int>(m_pendingSigners.size()) + 1;
    const QString who = signer->commonName.isEmpty() ? signer->name : signer->commonName;
    if (!signer->keyInToken) {
        showStatus(
            tr("Signing as %1 (signature %2 of %3)…").arg(who).arg(number).arg(m_signaturesTotal));
        sign(*signer, {});
        return;
    }
    QString purpose = tr("Sign release %1 %2 as %3 (signature %4 of %5). The key never leaves "
                         "the token.")
                          .arg(m_product->text().trimmed(), m_version->text().trimmed(), who)
                          .arg(number)
                          .arg(m_signaturesTotal);
    if (!refusal.isEmpty())
        purpose = refusal + QStringLiteral("\n\n") + purpose;
    showStatus(refusal.isEmpty()
                   ? tr("Waiting for the PIN of token %1…").arg(signer->tokenLabel)
                   : tr("%1 Enter the PIN of token %2 again.").arg(refusal, signer->tokenLabel),
               !refusal.isEmpty());
    m_pinDialog = new PinDialog(signer->tokenLabel, purpose, this);
    m_pinDialog->setObjectName(QStringLiteral("pinDialog"));
    m_pinDialog->setAttribute(Qt::WA_DeleteOnClose);
    if (!m_developmentToken.isEmpty() && signer->tokenLabel == m_developmentToken &&
        refusal.isEmpty()) {
        m_pinDialog->setDevelopmentPin(m_developmentPin);
    }
    connect(m_pinDialog.data(), &QDialog::finished, this, [this, chosen = *signer](int result) {
        PinDialog* dialog = m_pinDialog;
        if (dialog == nullptr)
            return;
        if (result != QDialog::Accepted) {
            stop(Error{QStringLiteral("console.pin-cancelled"),
                       tr("No PIN was entered, so the release was not signed and nothing was "
                          "kept.")});
            return;
        }
        const QString name = chosen.commonName.isEmpty() ? chosen.name : chosen.commonName;
        showStatus(tr("Signing as %1 in token %2…").arg(name, chosen.tokenLabel));
        sign(chosen, dialog->takePin());
    });
    m_pinDialog->open();
}

void SignReleaseDialog::sign(const fleet::ReleaseSigner& signer, QByteArray pin) {
    m_progress->setRange(0, 0);
    m_request = m_releases.requestSign(m_bundlePath, signer.name, std::move(pin));
}

void SignReleaseDialog::stop(const std::optional<Error>& error) {
    if (!m_bundlePath.isEmpty()) {
        m_releases.discard(m_bundlePath);
        m_bundlePath.clear();
    }
    m_pendingSigners.clear();
    m_step = Step::Idle;
    m_request = 0;
    m_cancelling = false;
    setWorking(false);
    if (error) {
        showStatus(error->toString(), true);
        Q_EMIT failed(*error);
    }
}

void SignReleaseDialog::reject() {
    if (m_step == Step::Idle) {
        QDialog::reject();
        return;
    }
    // Cancel while working stops the work first; the dialog stays to say so.
    if (m_pinDialog)
        m_pinDialog->reject();  // stops everything at once: nothing runs while a PIN is asked
    if (m_step == Step::Idle)
        return;
    m_cancelling = true;
    if (m_request != 0)
        m_releases.cancel(m_request);
    showStatus(tr("Cancelling…"));
}

void SignReleaseDialog::setWorking(bool working) {
    m_progress->setVisible(working);
    m_progress->setRange(0, kProgressSteps);
    m_progress->setValue(0);
    for (QWidget* w :
         std::initializer_list<QWidget*>{m_product, m_version, m_hardware, m_securityVersion,
                                         m_validDays, m_notes, m_payloads, m_addPayload, m_signer})
        w->setEnabled(!working);
    updateButtons();
}

void SignReleaseDialog::showStatus(const QString& text, bool error) {
    m_status->setText(text);
    m_status->setStyleSheet(error ? QStringLiteral("QLabel { color: #b01c1c; }") : QString());
}

std::optional<fleet::ReleaseSigner> SignReleaseDialog::signerNamed(const QString& name) const {
    for (const fleet::ReleaseSigner& s : m_signers) {
        if (s.name == name)
            return s;
    }
    return std::nullopt;
}

}  // namespace otafleet::ui
