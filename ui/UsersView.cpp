#include "ui/UsersView.h"

#include "ui/AddUserDialog.h"
#include "ui/UserTableModel.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>

namespace otafleet::ui {

UsersView::UsersView(fleet::UserService* users, QWidget* parent) : QWidget(parent), m_users(users) {
    auto* layout = new QVBoxLayout(this);
    m_status = new QLabel;
    m_status->setObjectName(QStringLiteral("usersStatus"));
    m_status->setWordWrap(true);
    if (!m_users) {
        m_status->setObjectName(QStringLiteral("usersUnavailable"));
        m_status->setText(
            tr("This workstation's fleet has no users: whoever is signed in to this "
               "computer works with it; connect to an otafleetd server (File ▸ "
               "Connect to server…) to manage its users."));
        m_status->setAlignment(Qt::AlignCenter);
        layout->addWidget(m_status, 1);
        return;
    }
    m_model = new UserTableModel(*m_users, this);
    m_add = new QPushButton(tr("&Add user…"));
    m_add->setObjectName(QStringLiteral("addUser"));
    m_role = new QComboBox;
    m_role->setObjectName(QStringLiteral("newRole"));
    m_role->addItems(fleet::userRoles());
    m_setRole = new QPushButton(tr("Set &role"));
    m_setRole->setObjectName(QStringLiteral("setRole"));
    m_disable = new QPushButton(tr("&Disable"));
    m_disable->setObjectName(QStringLiteral("disableUser"));
    auto* actions = new QHBoxLayout;
    actions->addWidget(m_add);
    actions->addSpacing(16);
    actions->addWidget(new QLabel(tr("Selected user:")));
    actions->addWidget(m_role);
    actions->addWidget(m_setRole);
    actions->addWidget(m_disable);
    actions->addStretch(1);

    m_table = new QTableView;
    m_table->setObjectName(QStringLiteral("usersTable"));
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setColumnWidth(UserTableModel::Name, 180);
    m_table->setColumnWidth(UserTableModel::Role, 140);
    m_table->setColumnWidth(UserTableModel::SignIn, 170);

    layout->addLayout(actions);
    layout->addWidget(m_status);
    layout->addWidget(m_table, 1);

    connect(m_add, &QPushButton::clicked, this, &UsersView::openAddDialog);
    connect(m_setRole, &QPushButton::clicked, this, &UsersView::setRoleOfSelected);
    connect(m_disable, &QPushButton::clicked, this, &UsersView::disableSelected);
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        if (const auto u = selected())
            m_role->setCurrentText(u->role);
        updateActions();
    });
    connect(m_role, &QComboBox::currentTextChanged, this, &UsersView::updateActions);
    connect(m_model, &QAbstractItemModel::modelReset, this, &UsersView::updateActions);
    connect(m_users, &fleet::UserService::permissionsChanged, this, &UsersView::updateActions);
    connect(m_users, &fleet::UserService::requestFinished, this, &UsersView::onFinished);
    connect(m_users, &fleet::UserService::listFailed, this, [this](const Error& error) {
        m_status->setText(tr("The users could not be listed: %1").arg(error.toString()));
    });
    updateActions();
}

void UsersView::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    if (m_users)
        m_users->refresh();
}

QString UsersView::statusText() const {
    return m_status->text();
}

std::optional<fleet::UserAccount> UsersView::selected() const {
    if (!m_table)
        return std::nullopt;
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    return rows.isEmpty() ? std::nullopt : m_model->user(rows.first().row());
}

void UsersView::updateActions() {
    if (!m_users)
        return;
    const std::optional<QString> blocker = m_users->manageBlocker();
    const auto user = selected();
    m_add->setEnabled(!blocker);
    m_add->setToolTip(blocker ? *blocker : tr("Add a user who signs in with a password."));
    const QString self = m_users->signedInUser();
    QString roleWhy;
    QString disableWhy;
    if (blocker) {
        roleWhy = disableWhy = *blocker;
    } else if (!user) {
        roleWhy = disableWhy = tr("Select a user first.");
    } else if (user->disabled) {
        roleWhy = disableWhy = tr("%1 is disabled.").arg(user->name);
    } else if (user->name == self) {
        roleWhy = disableWhy = tr("You cannot change your own account; ask another admin.");
    } else if (user->role == m_role->currentText()) {
        roleWhy =
            tr("%1 already has the role %2; choose another role.").arg(user->name, user->role);
    }
    m_setRole->setEnabled(roleWhy.isEmpty());
    m_setRole->setToolTip(roleWhy.isEmpty() ? tr("Give the selected user the chosen role.")
                                            : roleWhy);
    m_disable->setEnabled(disableWhy.isEmpty());
    m_disable->setToolTip(disableWhy.isEmpty()
                              ? tr("The selected user can no longer sign in (users are kept, "
                                   "so the audit log keeps its actors).")
                              : disableWhy);
    m_role->setEnabled(!blocker);
    if (blocker && m_model->rowCount() == 0)
        m_status->setText(*blocker);
}

AddUserDialog* UsersView::openAddDialog() {
    if (!m_users || m_users->manageBlocker())
        return nullptr;
    auto* dialog = new AddUserDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowModality(Qt::WindowModal);
    connect(dialog, &QDialog::accepted, this, [this, dialog] {
        QByteArray password = dialog->password();
        const QString name = dialog->name();
        const quint64 request = m_users->requestAdd(name, dialog->role(), password);
        std::fill(password.begin(), password.end(), '\0');
        m_pending.insert(request, tr("added %1 as %2").arg(name, dialog->role()));
        m_status->setText(tr("Adding %1…").arg(name));
    });
    dialog->open();
    return dialog;
}

void UsersView::setRoleOfSelected() {
    const auto user = selected();
    if (!user || !m_setRole->isEnabled())
        return;
    const QString role = m_role->currentText();
    const quint64 request = m_users->requestSetRole(user->name, role);
    m_pending.insert(request, tr("%1 is now %2").arg(user->name, role));
    m_status->setText(tr("Changing the role of %1…").arg(user->name));
}

void UsersView::disableSelected() {
    const auto user = selected();
    if (!user || !m_disable->isEnabled())
        return;
    if (m_confirmDisable &&
        QMessageBox::question(this, tr("Disable user"),
                              tr("Disable %1? They can no longer sign in, and a disabled user "
                                 "cannot be enabled again.")
                                  .arg(user->name)) != QMessageBox::Yes)
        return;
    const quint64 request = m_users->requestDisable(user->name);
    m_pending.insert(request, tr("%1 is disabled").arg(user->name));
    m_status->setText(tr("Disabling %1…").arg(user->name));
}

void UsersView::selectUser(const QString& name) {
    const int row = m_model ? m_model->rowOf(name) : -1;
    if (row >= 0)
        m_table->selectRow(row);
}

void UsersView::onFinished(quint64 request, const std::optional<Error>& error) {
    const QString what = m_pending.take(request);
    if (what.isEmpty())
        return;
    m_status->setText(error ? tr("Refused: %1").arg(error->toString()) : tr("Done: %1.").arg(what));
    updateActions();
    Q_EMIT commandFinished();
}

}  // namespace otafleet::ui
