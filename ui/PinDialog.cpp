#include "ui/PinDialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace otafleet::ui {

PinDialog::PinDialog(const QString& tokenLabel, const QString& purpose, QWidget* parent)
    : QDialog(parent), m_tokenLabel(tokenLabel) {
    setWindowTitle(tr("Token PIN"));
    setMinimumWidth(420);
    auto* layout = new QVBoxLayout(this);

    auto* intro = new QLabel(purpose);
    intro->setObjectName(QStringLiteral("purpose"));
    intro->setWordWrap(true);
    layout->addWidget(intro);

    auto* form = new QFormLayout;
    auto* token = new QLabel(QStringLiteral("<b>%1</b>").arg(tokenLabel.toHtmlEscaped()));
    token->setObjectName(QStringLiteral("token"));
    token->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form->addRow(tr("Token:"), token);
    m_pin = new QLineEdit;
    m_pin->setObjectName(QStringLiteral("pin"));
    m_pin->setEchoMode(QLineEdit::Password);
    // No completion, no input-method prediction and no drag out: each would keep or show a copy.
    m_pin->setInputMethodHints(Qt::ImhHiddenText | Qt::ImhSensitiveData | Qt::ImhNoPredictiveText);
    m_pin->setDragEnabled(false);
    m_pin->setContextMenuPolicy(Qt::NoContextMenu);
    m_pin->setMaxLength(256);
    form->addRow(tr("&PIN:"), m_pin);
    layout->addLayout(form);

    m_note = new QLabel;
    m_note->setObjectName(QStringLiteral("developmentNote"));
    m_note->setWordWrap(true);
    m_note->setStyleSheet(QStringLiteral("QLabel { color: #8a5a00; }"));
    m_note->hide();
    layout->addWidget(m_note);

    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("&Unlock"));
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(false);
    layout->addWidget(m_buttons);

    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_pin, &QLineEdit::textChanged, this, [this](const QString& text) {
        m_buttons->button(QDialogButtonBox::Ok)->setEnabled(!text.isEmpty());
    });
    m_pin->setFocus();
}

PinDialog::~PinDialog() {
    wipe();
}

void PinDialog::setDevelopmentPin(const QString& pin) {
    m_pin->setText(pin);
    m_pin->selectAll();
    m_note->setText(
        tr("This is the demo's development token: its PIN is the documented "
           "development PIN, filled in for you. Never keep real release keys on it."));
    m_note->show();
}

bool PinDialog::hasPin() const {
    return !m_pin->text().isEmpty();
}

QByteArray PinDialog::takePin() {
    // text() shares the field's buffer. setText() drops the field's reference (and its undo
    // history, which also holds the typed characters), so `text` becomes the buffer's only
    // owner and fill() zeroes it in place instead of detaching a copy.
    QString text = m_pin->text();
    m_pin->setText(QString());
    QByteArray utf8 = text.toUtf8();
    text.fill(QChar(u'\0'));
    return utf8;
}

void PinDialog::done(int result) {
    if (result != QDialog::Accepted)
        wipe();
    QDialog::done(result);
}

void PinDialog::wipe() {
    // What Qt lets us reach. Its limits, said plainly: QLineEdit may have reallocated its buffer
    // while the PIN was typed, and freed blocks (and the per-keystroke undo records, also in
    // password mode) are released without being zeroed; Qt offers no secure allocator for
    // widgets. So the PIN lives only as long as this dialog, is zeroed where we own the memory,
    // and the console switches its core dumps off at start for this reason (app/otafleet).
    QByteArray gone = takePin();
    gone.fill('\0');
}

}  // namespace otafleet::ui
