// User management for admins of an otafleetd: the users (UserTableModel), "Add user…"
// (AddUserDialog), a role chooser with "Set role" and "Disable" for the selected user. A user who
// is not an admin sees the actions disabled, each tooltip saying why (the server refuses them
// anyway). Given no UserService (an embedded fleet), the view says in one sentence that this
// workstation's fleet has no users.
#pragma once

#include "fleet/UserService.h"

#include <QHash>
#include <QWidget>

class QComboBox;
class QLabel;
class QPushButton;
class QTableView;

namespace otafleet::ui {

class AddUserDialog;
class UserTableModel;

class UsersView : public QWidget {
    Q_OBJECT
public:
    // `users` may be null: the fleet has no users.
    explicit UsersView(fleet::UserService* users, QWidget* parent = nullptr);

    [[nodiscard]] UserTableModel* model() const { return m_model; }
    [[nodiscard]] QTableView* table() const { return m_table; }
    [[nodiscard]] QPushButton* addButton() const { return m_add; }
    [[nodiscard]] QPushButton* setRoleButton() const { return m_setRole; }
    [[nodiscard]] QPushButton* disableButton() const { return m_disable; }
    [[nodiscard]] QComboBox* roleBox() const { return m_role; }
    // The outcome of the last command, or why the list is empty.
    [[nodiscard]] QString statusText() const;
    // Asking before disabling a user is right for people; tests switch it off.
    void setConfirmDisable(bool confirm) { m_confirmDisable = confirm; }

public Q_SLOTS:
    // Window-modal; deletes itself when closed. Null without a UserService.
    AddUserDialog* openAddDialog();
    void setRoleOfSelected();
    void disableSelected();
    void selectUser(const QString& name);

Q_SIGNALS:
    // A command ended; statusText() says how.
    void commandFinished();

protected:
    // Users other admins added meanwhile show up when the tab is opened.
    void showEvent(QShowEvent* event) override;

private:
    void updateActions();
    [[nodiscard]] std::optional<fleet::UserAccount> selected() const;
    void onFinished(quint64 request, const std::optional<Error>& error);

    fleet::UserService* m_users = nullptr;
    UserTableModel* m_model = nullptr;
    QTableView* m_table = nullptr;
    QPushButton* m_add = nullptr;
    QComboBox* m_role = nullptr;
    QPushButton* m_setRole = nullptr;
    QPushButton* m_disable = nullptr;
    QLabel* m_status = nullptr;
    QHash<quint64, QString> m_pending;  // request -> what it does, for the status line
    bool m_confirmDisable = true;
};

}  // namespace otafleet::ui
