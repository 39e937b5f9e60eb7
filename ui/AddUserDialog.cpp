#include "ui/AddUserDialog.h"

#include "fleet/UserService.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QVBoxLayout>

namespace otafleet::ui {

AddUserDialog::AddUserDialog(QWidget* parent) : QDialog(parent) {
    setWindowTitle(tr("Add user"));
    setMinimumWidth(380);
    m_name = new QLineEdit;
    m_name->setObjectName(QStringLiteral("userName"));
    m_name->setMaxLength(kMaxName);
    m_role = new QComboBox;
    m_role->setObjectName(QStringLiteral("userRole"));
    m_role->addItems(fleet::userRoles());
    m_password = new QLineEdit;
    m_password->setObjectName(QStringLiteral("userPassword"));
    m_confirm = new QLineEdit;
    m_confirm->setObjectName(QStringLiteral("userConfirm"));
    for (QLineEdit* edit : {m_password, m_confirm}) {
        edit->setEchoMode(QLineEdit::Password);
        edit->setMaxLength(kMaxPassword);
    }
    m_problem = new QLabel;
    m_problem->setObjectName(QStringLiteral("userProblem"));
    m_problem->setWordWrap(true);
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Add user"));

    auto* form = new QFormLayout;
    form->addRow(tr("&Name:"), m_name);
    form->addRow(tr("&Role:"), m_role);
    form->addRow(tr("&Password:"), m_password);
    form->addRow(tr("&Again:"), m_confirm);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_problem);
    layout->addWidget(m_buttons);

    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    for (QLineEdit* edit : {m_name, m_password, m_confirm})
        connect(edit, &QLineEdit::textChanged, this, &AddUserDialog::check);
    check();
}

AddUserDialog::~AddUserDialog() = default;

QString AddUserDialog::name() const {
    return m_name->text().trimmed();
}

QString AddUserDialog::role() const {
    return m_role->currentText();
}

QByteArray AddUserDialog::password() const {
    return m_password->text().toUtf8();
}

QString AddUserDialog::problem() const {
    static const QRegularExpression valid(QStringLiteral("^[A-Za-z0-9._-]+$"));
    if (name().isEmpty())
        return tr("Type the new user's name.");
    if (!valid.match(name()).hasMatch())
        return tr("A name may hold letters, digits, '.', '_' and '-' only.");
    const qsizetype bytes = password().size();
    if (bytes < kMinPassword)
        return tr("The password needs at least %1 characters.").arg(kMinPassword);
    if (bytes > kMaxPassword)
        return tr("The password may be at most %1 bytes long.").arg(kMaxPassword);
    if (m_password->text() != m_confirm->text())
        return tr("The two passwords differ; type the same one twice.");
    return {};
}

void AddUserDialog::check() {
    const QString why = problem();
    m_problem->setText(why);
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(why.isEmpty());
}

void AddUserDialog::done(int result) {
    QDialog::done(result);
    // The passwords do not stay in the widgets once the dialog is closed.
    m_password->clear();
    m_confirm->clear();
}

}  // namespace otafleet::ui
