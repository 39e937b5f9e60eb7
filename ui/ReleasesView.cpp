#include "ui/ReleasesView.h"

#include "ui/ReleaseTableModel.h"
#include "ui/ReportText.h"
#include "ui/SignReleaseDialog.h"

#include <QAction>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLocale>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

namespace otafleet::ui {

namespace {

constexpr int kProgressSteps = 1000;

QLabel* detailLabel(const QString& name) {
    auto* label = new QLabel;
    label->setObjectName(name);
    label->setWordWrap(true);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    label->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    return label;
}

}  // namespace

ReleasesView::ReleasesView(fleet::ReleaseService& releases, QWidget* parent)
    : QWidget(parent), m_releases(releases) {
    m_model = new ReleaseTableModel(releases, this);
    m_table = new QTableView;
    m_table->setObjectName(QStringLiteral("releases"));
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setShowGrid(false);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    m_table->setColumnWidth(ReleaseTableModel::Version, 90);
    m_table->setColumnWidth(ReleaseTableModel::Product, 150);
    m_table->setColumnWidth(ReleaseTableModel::SecurityVersion, 65);
    m_table->setColumnWidth(ReleaseTableModel::Hardware, 120);
    m_table->setColumnWidth(ReleaseTableModel::Signers, 230);
    m_table->setColumnWidth(ReleaseTableModel::Size, 80);
    m_table->setColumnWidth(ReleaseTableModel::Imported, 125);
    m_table->setColumnWidth(ReleaseTableModel::ImportedBy, 80);

    m_import = new QPushButton(tr("&Import bundle…"));
    m_import->setObjectName(QStringLiteral("importRelease"));
    m_create = new QPushButton(tr("New &release…"));
    m_create->setObjectName(QStringLiteral("newRelease"));
    m_revoke = new QPushButton(tr("Re&voke…"));
    m_revoke->setObjectName(QStringLiteral("revokeRelease"));
    connect(m_import, &QPushButton::clicked, this, &ReleasesView::chooseImport);
    connect(m_create, &QPushButton::clicked, this, &ReleasesView::openSignDialog);
    connect(m_revoke, &QPushButton::clicked, this, &ReleasesView::revokeSelected);

    m_progress = new QProgressBar;
    m_progress->setObjectName(QStringLiteral("progress"));
    m_progress->setRange(0, kProgressSteps);
    m_progress->setMaximumWidth(240);
    m_progress->hide();
    m_cancel = new QPushButton(tr("Cancel"));
    m_cancel->setObjectName(QStringLiteral("cancelWork"));
    m_cancel->hide();
    connect(m_cancel, &QPushButton::clicked, this, &ReleasesView::cancelWork);
    m_message = new QLabel;
    m_message->setObjectName(QStringLiteral("message"));
    m_message->setWordWrap(true);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_import);
    buttons->addWidget(m_create);
    buttons->addWidget(m_revoke);
    buttons->addSpacing(12);
    buttons->addWidget(m_progress);
    buttons->addWidget(m_cancel);
    buttons->addWidget(m_message, 1);

    // The details of the selected release.
    m_verdict = detailLabel(QStringLiteral("verdict"));
    m_manifest = detailLabel(QStringLiteral("manifest"));
    m_signers = detailLabel(QStringLiteral("signers"));
    m_signers->setTextFormat(Qt::RichText);
    auto* facts = new QFormLayout;
    facts->addRow(tr("Verdict:"), m_verdict);
    facts->addRow(tr("Release:"), m_manifest);
    facts->addRow(tr("Signed by:"), m_signers);
    auto* factsBox = new QGroupBox(tr("Signature and contents"));
    factsBox->setLayout(facts);

    m_signedNotes = new QPlainTextEdit;
    m_signedNotes->setObjectName(QStringLiteral("signedNotes"));
    m_signedNotes->setReadOnly(true);
    m_signedNotes->setPlaceholderText(tr("No release notes were signed into this release."));
    m_notes = new QPlainTextEdit;
    m_notes->setObjectName(QStringLiteral("notes"));
    m_notes->setPlaceholderText(
        tr("Notes kept beside the release: what changed, known issues, who asked for it…"));
    m_saveNotes = new QPushButton(tr("&Save notes"));
    m_saveNotes->setObjectName(QStringLiteral("saveNotes"));
    m_saveNotes->setEnabled(false);
    connect(m_saveNotes, &QPushButton::clicked, this, &ReleasesView::saveNotes);
    connect(m_notes, &QPlainTextEdit::textChanged, this, [this] {
        const auto shown = m_releases.release(m_shownId);
        m_saveNotes->setEnabled(shown && m_notes->toPlainText() != shown->notes && m_work == 0 &&
                                !m_releases.actionBlocker(fleet::ReleaseAction::EditNotes));
    });
    auto* notesLayout = new QVBoxLayout;
    notesLayout->addWidget(new QLabel(tr("Signed release notes (part of the signature):")));
    notesLayout->addWidget(m_signedNotes);
    notesLayout->addWidget(new QLabel(tr("Notes:")));
    notesLayout->addWidget(m_notes);
    auto* saveRow = new QHBoxLayout;
    saveRow->addStretch();
    saveRow->addWidget(m_saveNotes);
    notesLayout->addLayout(saveRow);
    auto* notesBox = new QGroupBox(tr("Release notes"));
    notesBox->setLayout(notesLayout);

    auto* details = new QWidget;
    auto* detailsLayout = new QHBoxLayout(details);
    detailsLayout->setContentsMargins(0, 0, 0, 0);
    detailsLayout->addWidget(factsBox, 3);
    detailsLayout->addWidget(notesBox, 2);

    auto* top = new QWidget;
    auto* topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    topLayout->addLayout(buttons);
    topLayout->addWidget(m_table);
    auto* splitter = new QSplitter(Qt::Vertical);
    splitter->addWidget(top);
    splitter->addWidget(details);
    splitter->setStretchFactor(0, 2);
    splitter->setStretchFactor(1, 3);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(splitter);

    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &ReleasesView::onSelection);
    connect(&m_releases, &fleet::ReleaseService::releaseInspected, this,
            &ReleasesView::onInspected);
    connect(&m_releases, &fleet::ReleaseService::requestProgress, this, &ReleasesView::onProgress);
    connect(&m_releases, &fleet::ReleaseService::requestFinished, this, &ReleasesView::onFinished);
    connect(&m_releases, &fleet::ReleaseService::permissionsChanged, this,
            &ReleasesView::updateActions);
    connect(m_model, &QAbstractItemModel::rowsInserted, this, [this] {
        if (!m_importedId.isEmpty() && m_model->rowOf(m_importedId) >= 0) {
            selectRelease(m_importedId);
            m_importedId.clear();
        } else if (selectedRelease().isEmpty()) {
            m_table->selectRow(0);
        }
    });
    connect(m_model, &QAbstractItemModel::dataChanged, this, [this] {
        // The selected release changed (revoked, notes saved): show it as it is now.
        if (!m_shownId.isEmpty())
            showDetails();
        updateActions();
    });
    const auto action = [this](const QString& name, const QString& text, const QString& keys) {
        auto* a = new QAction(text, this);
        a->setObjectName(name);
        a->setShortcut(QKeySequence(keys));
        m_actions.append(a);
        return a;
    };
    action(QStringLiteral("showReleases"), tr("&Show releases"), tr("Ctrl+Shift+B"));
    connect(action(QStringLiteral("newReleaseAction"), tr("&New release…"), tr("Ctrl+Shift+R")),
            &QAction::triggered, this, &ReleasesView::openSignDialog);
    connect(
        action(QStringLiteral("importReleaseAction"), tr("&Import bundle…"), tr("Ctrl+Shift+I")),
        &QAction::triggered, this, &ReleasesView::chooseImport);
    if (m_model->rowCount() > 0)
        m_table->selectRow(0);
    showDetails();
    updateActions();
}

QString ReleasesView::selectedRelease() const {
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    return rows.isEmpty() ? QString()
                          : rows.first().data(ReleaseTableModel::ReleaseIdRole).toString();
}

void ReleasesView::selectRelease(const QString& id) {
    if (const int row = m_model->rowOf(id); row >= 0)
        m_table->selectRow(row);
}

QString ReleasesView::verdictText() const {
    return m_verdict->text();
}

QString ReleasesView::signersText() const {
    return m_signers->text();
}

QString ReleasesView::messageText() const {
    return m_message->text();
}

void ReleasesView::chooseImport() {
    auto* dialog = new QFileDialog(this, tr("Import a signed bundle"), QString(),
                                   tr("otafleet bundles (*.otab);;All files (*)"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setFileMode(QFileDialog::ExistingFile);
    connect(dialog, &QFileDialog::fileSelected, this, &ReleasesView::importBundle);
    dialog->open();
}

void ReleasesView::importBundle(const QString& path) {
    if (m_work != 0) {
        showMessage(tr("Wait for the current work to finish, or cancel it."), true);
        return;
    }
    track(m_releases.requestImport(path, QString()), tr("Importing %1").arg(path),
          tr("Imported: the bundle verified and is kept as a release."));
}

SignReleaseDialog* ReleasesView::openSignDialog() {
    if (const auto blocker = m_releases.actionBlocker(fleet::ReleaseAction::Create)) {
        showMessage(*blocker, true);
        return nullptr;
    }
    if (m_signDialog) {
        m_signDialog->raise();
        return m_signDialog;
    }
    m_signDialog = new SignReleaseDialog(m_releases, this);
    m_signDialog->setAttribute(Qt::WA_DeleteOnClose);
    if (!m_developmentToken.isEmpty())
        m_signDialog->setDevelopmentPin(m_developmentToken, m_developmentPin);
    connect(m_signDialog, &SignReleaseDialog::releaseCreated, this, [this](const QString& id) {
        showMessage(tr("Release created, signed and imported."), false);
        if (m_model->rowOf(id) >= 0)
            selectRelease(id);
        else
            m_importedId = id;
    });
    m_signDialog->open();
    return m_signDialog;
}

void ReleasesView::revokeSelected() {
    const auto release = m_releases.release(selectedRelease());
    if (!release || release->revoked || m_work != 0)
        return;
    const QString id = release->id;
    if (!m_confirmRevoke) {
        track(m_releases.requestRevoke(id, tr("revoked from the console")),
              tr("Revoking %1").arg(release->version), tr("Revoked."));
        return;
    }
    auto* ask = new QInputDialog(this);
    ask->setAttribute(Qt::WA_DeleteOnClose);
    ask->setWindowTitle(tr("Revoke release"));
    ask->setLabelText(tr("Revoke %1 %2? It stays listed, but no new rollout can use it. This "
                         "cannot be undone.\n\nReason (kept in the audit log):")
                          .arg(release->product, release->version));
    ask->setOkButtonText(tr("Revoke"));
    connect(ask, &QInputDialog::textValueSelected, this, [this, id](const QString& reason) {
        const auto r = m_releases.release(id);
        track(m_releases.requestRevoke(
                  id, reason.trimmed().isEmpty() ? tr("revoked from the console") : reason),
              tr("Revoking %1").arg(r ? r->version : id), tr("Revoked."));
    });
    ask->open();
}

void ReleasesView::saveNotes() {
    if (m_shownId.isEmpty() || m_work != 0)
        return;
    track(m_releases.requestSetNotes(m_shownId, m_notes->toPlainText()), tr("Saving the notes"),
          tr("Notes saved."));
}

void ReleasesView::cancelWork() {
    if (m_work != 0)
        m_releases.cancel(m_work);
}

void ReleasesView::track(quint64 request, const QString& what, const QString& done) {
    m_work = request;
    m_workDone = done;
    m_progress->setRange(0, 0);
    m_progress->show();
    m_cancel->show();
    showMessage(what + QStringLiteral("…"), false);
    updateActions();
}

void ReleasesView::onSelection() {
    m_shownId = selectedRelease();
    m_report.reset();
    m_inspect = m_shownId.isEmpty() ? 0 : m_releases.requestInspect(m_shownId);
    const auto release = m_releases.release(m_shownId);
    m_notes->setPlainText(release ? release->notes : QString());
    showDetails();
    updateActions();
}

void ReleasesView::onInspected(const QString& id, const fleet::BundleReport& report) {
    if (id != m_shownId)
        return;
    m_report = report;
    showDetails();
    Q_EMIT reportShown();
}

void ReleasesView::onProgress(quint64 request, const QString& phase, qint64 done, qint64 total) {
    if (request != m_work || request == 0)
        return;
    showMessage(phase + QStringLiteral("…"), false);
    if (total > 0) {
        m_progress->setRange(0, kProgressSteps);
        m_progress->setValue(static_cast<int>(done * kProgressSteps / total));
    }
}

void ReleasesView::onFinished(quint64 request, const QString& result,
                              const std::optional<Error>& error) {
    if (request == m_inspect) {
        m_inspect = 0;
        if (error)
            showMessage(error->toString(), true);
        return;
    }
    if (request != m_work || request == 0)
        return;
    m_work = 0;
    m_progress->hide();
    m_cancel->hide();
    if (error) {
        showMessage(error->toString(), true);
    } else {
        showMessage(m_workDone, false);
        if (m_model->rowOf(result) >= 0 && result != m_shownId)
            selectRelease(result);
        else if (m_model->rowOf(result) < 0)
            m_importedId = result;  // selected when the reloaded list has it
    }
    updateActions();
    Q_EMIT workFinished(error);
}

void ReleasesView::showDetails() {
    const auto release = m_releases.release(m_shownId);
    if (!release) {
        m_verdict->setText(m_model->rowCount() == 0
                               ? tr("No releases yet: import a signed bundle, or make a new "
                                    "release from payload files.")
                               : tr("Select a release."));
        m_verdict->setStyleSheet({});
        m_manifest->clear();
        m_signers->clear();
        m_signedNotes->clear();
        return;
    }
    const QLocale locale;
    m_manifest->setText(tr("%1 %2 · security version %3 · for %4 · %5\nid %6\nimported %7 by %8 "
                           "from %9 · %10")
                            .arg(release->product, release->version)
                            .arg(release->securityVersion)
                            .arg(release->hardware.join(QStringLiteral(", ")),
                                 locale.formattedDataSize(release->size), release->id,
                                 utcText(release->imported), release->importedBy, release->fileName,
                                 release->stateText()));
    m_signedNotes->setPlainText(release->signedNotes);
    QString text;
    QString color = QStringLiteral("#5a5a5a");
    if (!m_report) {
        text = tr("Checking the bundle's signature and contents…");
        QStringList names;
        for (const QString& s : release->signers)
            names << QStringLiteral("<b>%1</b>").arg(commonNameOf(s).toHtmlEscaped());
        m_signers->setText(names.join(QStringLiteral("<br>")));
    } else {
        text = m_report->verdictSentence();
        if (m_report->verified()) {
            color = QStringLiteral("#1c6b2a");
            text = QStringLiteral("✔ ") + text;
        } else {
            color = QStringLiteral("#b01c1c");
            text = QStringLiteral("✖ ") + text;
        }
        QStringList signers;
        for (const fleet::BundleSignerInfo& s : m_report->signers)
            signers.append(signerHtml(s));
        m_signers->setText(signers.isEmpty() ? tr("<i>nobody this fleet trusts</i>")
                                             : signers.join(QStringLiteral("<br><br>")));
    }
    if (release->revoked) {
        // Revocation outranks the signature: say it first, then what the check found.
        text = tr("✖ Revoked %1: no new rollout may use it.\n%2")
                   .arg(utcText(release->revokedAt),
                        m_report
                            ? tr("Its signature still checks: %1").arg(m_report->verdictSentence())
                            : QString());
        color = QStringLiteral("#b01c1c");
    }
    m_verdict->setText(text);
    m_verdict->setStyleSheet(QStringLiteral("QLabel { color: %1; }").arg(color));
}

void ReleasesView::showMessage(const QString& text, bool error) {
    m_message->setText(text);
    m_message->setStyleSheet(error ? QStringLiteral("QLabel { color: #b01c1c; }") : QString());
}

void ReleasesView::updateActions() {
    const bool idle = m_work == 0;
    const auto apply = [this, idle](QPushButton* button, fleet::ReleaseAction action,
                                    const QString& tip, bool applicable) {
        const auto blocker = m_releases.actionBlocker(action);
        button->setEnabled(idle && applicable && !blocker);
        button->setToolTip(blocker ? *blocker : tip);
    };
    const auto release = m_releases.release(selectedRelease());
    apply(m_import, fleet::ReleaseAction::Import,
          tr("Verify a signed bundle (.otab) against the fleet's trust and keep it as a release"),
          true);
    apply(m_create, fleet::ReleaseAction::Create,
          tr("Make a bundle from payload files and sign it with the HSM (Ctrl+Shift+R)"), true);
    apply(m_revoke, fleet::ReleaseAction::Revoke,
          release && release->revoked ? tr("This release is revoked already")
                                      : tr("Withdraw the selected release"),
          release && !release->revoked);
    const auto notesBlocker = m_releases.actionBlocker(fleet::ReleaseAction::EditNotes);
    m_notes->setReadOnly(!release || notesBlocker.has_value());
    m_notes->setToolTip(notesBlocker.value_or(QString()));
    m_saveNotes->setEnabled(idle && release && !notesBlocker &&
                            m_notes->toPlainText() != release->notes);
    if (m_actions.size() == 3) {
        m_actions.at(1)->setEnabled(m_create->isEnabled());
        m_actions.at(1)->setToolTip(m_create->toolTip());
        m_actions.at(2)->setEnabled(m_import->isEnabled());
        m_actions.at(2)->setToolTip(m_import->toolTip());
    }
}

}  // namespace otafleet::ui
