#include "ui/AuditView.h"

#include "ui/AuditTableModel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTimeEdit>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSet>
#include <QTableView>
#include <QVBoxLayout>

namespace otafleet::ui {
namespace {

constexpr int kDebounceMs = 250;

// The action families worth offering before any entry was read (free text is allowed too).
const QStringList kActions{QString(),
                           QStringLiteral("denied:"),
                           QStringLiteral("device."),
                           QStringLiteral("login"),
                           QStringLiteral("release."),
                           QStringLiteral("rollout."),
                           QStringLiteral("user.")};

QLineEdit* filterEdit(const QString& name, const QString& placeholder) {
    auto* edit = new QLineEdit;
    edit->setObjectName(name);
    edit->setPlaceholderText(placeholder);
    edit->setClearButtonEnabled(true);
    return edit;
}

}  // namespace

AuditView::AuditView(fleet::AuditService& audit, QWidget* parent)
    : QWidget(parent), m_audit(audit), m_model(new AuditTableModel(this)) {
    m_actor = filterEdit(QStringLiteral("auditActor"), tr("Actor"));
    m_subject = filterEdit(QStringLiteral("auditSubject"), tr("Subject"));
    m_text = filterEdit(QStringLiteral("auditText"), tr("Search all fields"));
    m_action = new QComboBox;
    m_action->setObjectName(QStringLiteral("auditAction"));
    m_action->setEditable(true);
    m_action->addItems(kActions);
    m_action->lineEdit()->setPlaceholderText(tr("Action"));
    m_action->setMinimumContentsLength(14);
    const QDateTime now = QDateTime::currentDateTime();
    m_fromOn = new QCheckBox(tr("From"));
    m_fromOn->setObjectName(QStringLiteral("auditFromOn"));
    m_from = new QDateTimeEdit(now.addDays(-7));
    m_from->setObjectName(QStringLiteral("auditFrom"));
    m_toOn = new QCheckBox(tr("to"));
    m_toOn->setObjectName(QStringLiteral("auditToOn"));
    m_to = new QDateTimeEdit(now);
    m_to->setObjectName(QStringLiteral("auditTo"));
    for (QDateTimeEdit* edit : {m_from, m_to}) {
        edit->setCalendarPopup(true);
        edit->setDisplayFormat(QStringLiteral("yyyy-MM-dd HH:mm"));
        edit->setEnabled(false);
    }
    m_verify = new QPushButton(tr("&Verify chain"));
    m_verify->setObjectName(QStringLiteral("auditVerify"));
    m_verify->setToolTip(
        tr("Check every entry's hash against the one before it and name the "
           "first entry that was changed, inserted or deleted."));
    auto* reloadButton = new QPushButton(tr("&Reload"));
    reloadButton->setObjectName(QStringLiteral("auditReload"));
    reloadButton->setToolTip(tr("Read the log again (a server's log grows while you look)."));
    connect(reloadButton, &QPushButton::clicked, this, &AuditView::reload);
    m_export = new QPushButton(tr("E&xport…"));
    m_export->setObjectName(QStringLiteral("auditExport"));
    m_export->setToolTip(tr("Save the shown entries as CSV or JSON."));

    auto* filters = new QHBoxLayout;
    filters->addWidget(m_actor, 2);
    filters->addWidget(m_action, 2);
    filters->addWidget(m_subject, 2);
    filters->addWidget(m_fromOn);
    filters->addWidget(m_from);
    filters->addWidget(m_toOn);
    filters->addWidget(m_to);
    filters->addWidget(m_text, 3);
    filters->addWidget(reloadButton);
    filters->addWidget(m_verify);
    filters->addWidget(m_export);

    m_verdict = new QLabel;
    m_verdict->setObjectName(QStringLiteral("auditVerdict"));
    m_verdict->setWordWrap(true);
    m_verdict->setVisible(false);
    m_verdict->setContentsMargins(8, 6, 8, 6);
    m_status = new QLabel;
    m_status->setObjectName(QStringLiteral("auditStatus"));
    m_status->setWordWrap(true);

    m_table = new QTableView;
    m_table->setObjectName(QStringLiteral("auditTable"));
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setColumnWidth(AuditTableModel::Id, 60);
    m_table->setColumnWidth(AuditTableModel::Time, 150);
    m_table->setColumnWidth(AuditTableModel::Actor, 130);
    m_table->setColumnWidth(AuditTableModel::Action, 170);
    m_table->setColumnWidth(AuditTableModel::Subject, 200);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(filters);
    layout->addWidget(m_verdict);
    layout->addWidget(m_status);
    layout->addWidget(m_table, 1);

    m_debounce.setSingleShot(true);
    m_debounce.setInterval(kDebounceMs);
    connect(&m_debounce, &QTimer::timeout, this, &AuditView::reload);
    const auto later = [this] { m_debounce.start(); };
    for (QLineEdit* edit : {m_actor, m_subject, m_text})
        connect(edit, &QLineEdit::textChanged, this, later);
    connect(m_action, &QComboBox::currentTextChanged, this, later);
    for (QCheckBox* box : {m_fromOn, m_toOn})
        connect(box, &QCheckBox::toggled, this, later);
    connect(m_fromOn, &QCheckBox::toggled, m_from, &QWidget::setEnabled);
    connect(m_toOn, &QCheckBox::toggled, m_to, &QWidget::setEnabled);
    for (QDateTimeEdit* edit : {m_from, m_to})
        connect(edit, &QDateTimeEdit::dateTimeChanged, this, later);
    connect(m_verify, &QPushButton::clicked, this, &AuditView::verify);
    connect(m_export, &QPushButton::clicked, this, &AuditView::chooseExport);

    connect(&m_audit, &fleet::AuditService::entriesReady, this, &AuditView::onEntries);
    connect(&m_audit, &fleet::AuditService::verified, this, &AuditView::onVerified);
    connect(&m_audit, &fleet::AuditService::requestFailed, this, &AuditView::onFailed);
    connect(&m_audit, &fleet::AuditService::logChanged, this, later);
    connect(&m_audit, &fleet::AuditService::permissionsChanged, this, [this] {
        updatePermissions();
        reload();
    });
    updatePermissions();
    reload();
}

fleet::AuditFilter AuditView::filter() const {
    fleet::AuditFilter f;
    f.actor = m_actor->text();
    f.action = m_action->currentText();
    f.subject = m_subject->text();
    f.text = m_text->text();
    if (m_fromOn->isChecked())
        f.from = m_from->dateTime().toUTC();
    if (m_toOn->isChecked())
        f.to = m_to->dateTime().toUTC();
    return f;
}

void AuditView::setFilter(const fleet::AuditFilter& f) {
    m_actor->setText(f.actor);
    m_action->setCurrentText(f.action);
    m_subject->setText(f.subject);
    m_text->setText(f.text);
    m_fromOn->setChecked(f.from.isValid());
    if (f.from.isValid())
        m_from->setDateTime(f.from.toLocalTime());
    m_toOn->setChecked(f.to.isValid());
    if (f.to.isValid())
        m_to->setDateTime(f.to.toLocalTime());
    m_debounce.stop();
    reload();
}

void AuditView::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    m_debounce.start();
}

QString AuditView::statusText() const {
    return m_status->text();
}

QString AuditView::verdictText() const {
    return m_verdict->isVisible() ? m_verdict->text() : QString();
}

void AuditView::updatePermissions() {
    const std::optional<QString> blocker = m_audit.readBlocker();
    for (QWidget* w : std::initializer_list<QWidget*>{m_verify, m_export, m_actor, m_action,
                                                      m_subject, m_text, m_fromOn, m_toOn}) {
        w->setEnabled(!blocker);
    }
    m_verify->setToolTip(blocker ? *blocker
                                 : tr("Check every entry's hash against the one before it and "
                                      "name the first entry that was changed, inserted or "
                                      "deleted."));
    m_export->setToolTip(blocker ? *blocker : tr("Save the shown entries as CSV or JSON."));
    if (blocker) {
        m_model->setEntries({});
        m_status->setText(*blocker);
    }
}

void AuditView::reload() {
    m_debounce.stop();
    if (m_audit.readBlocker())
        return;
    m_entriesRequest = m_audit.requestEntries(filter());
    if (m_model->rowCount() == 0)
        m_status->setText(tr("Reading the audit log…"));
}

void AuditView::verify() {
    if (m_audit.readBlocker())
        return;
    m_verify->setEnabled(false);
    showVerdict(tr("Verifying the audit log's hash chain…"), true);
    m_verifyRequest = m_audit.requestVerify();
}

void AuditView::onEntries(quint64 request, const fleet::AuditEntries& entries) {
    if (request != m_entriesRequest)
        return;  // an older filter's answer
    m_model->setEntries(entries.entries);
    if (m_lastCheck && !m_lastCheck->intact)
        m_model->setAltered(m_lastCheck->firstBadId, m_lastCheck->reason);
    // The action chooser learns the actions the log holds.
    QSet<QString> known;
    for (int i = 0; i < m_action->count(); ++i)
        known.insert(m_action->itemText(i));
    for (const fleet::AuditRecord& e : entries.entries) {
        if (!known.contains(e.action)) {
            known.insert(e.action);
            const QSignalBlocker quiet(m_action);
            const QString typed = m_action->currentText();
            m_action->addItem(e.action);
            m_action->setCurrentText(typed);
        }
    }
    const qsizetype shown = entries.entries.size();
    QString text = tr("%n entries shown", nullptr, int(shown));
    text += tr(" of %1 in the log").arg(entries.scanned);
    if (entries.truncated)
        text += tr(" (the newest %1 that match; narrow the filter to see older ones)")
                    .arg(fleet::AuditService::kMaxShown);
    m_status->setText(text + u'.');
    m_table->scrollToBottom();
    Q_EMIT entriesShown();
}

void AuditView::onVerified(quint64 request, const fleet::AuditCheck& check) {
    if (request != m_verifyRequest)
        return;
    m_verify->setEnabled(!m_audit.readBlocker());
    m_lastCheck = check;
    showVerdict(check.sentence(), check.intact);
    m_model->setAltered(check.intact ? 0 : check.firstBadId, check.reason);
    if (!check.intact) {
        const int row = m_model->rowOf(check.firstBadId);
        if (row >= 0) {
            m_table->selectRow(row);
            m_table->scrollTo(m_model->index(row, 0), QAbstractItemView::PositionAtCenter);
        }
    }
    Q_EMIT verificationShown();
}

void AuditView::onFailed(quint64 request, const Error& error) {
    if (request == m_verifyRequest) {
        m_verify->setEnabled(!m_audit.readBlocker());
        showVerdict(tr("The audit log could not be verified: %1").arg(error.toString()), false);
        Q_EMIT verificationShown();
    } else if (request == m_entriesRequest) {
        m_status->setText(tr("The audit log could not be read: %1").arg(error.toString()));
        Q_EMIT entriesShown();
    }
}

void AuditView::showVerdict(const QString& text, bool good) {
    m_verdict->setText(text);
    m_verdict->setStyleSheet(good ? QStringLiteral("QLabel { background: #dff3e0; color: #124d18; "
                                                   "border: 1px solid #8cc890; }")
                                  : QStringLiteral("QLabel { background: #fbe0e0; color: #6d0b0b; "
                                                   "border: 1px solid #e08a8a; }"));
    m_verdict->setVisible(true);
}

Status AuditView::exportShown(const QString& path) const {
    return fleet::writeAuditExport(path, m_model->entries());
}

void AuditView::chooseExport() {
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Export audit entries"), QStringLiteral("audit.csv"),
                                     tr("CSV (*.csv);;JSON (*.json)"));
    if (path.isEmpty())
        return;
    if (auto written = exportShown(path); !written)
        QMessageBox::warning(this, tr("Export audit entries"), written.error().toString());
}

}  // namespace otafleet::ui
