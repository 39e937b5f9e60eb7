// "Add user…" in the users view: a name, a role and a password typed twice. Checks what the
// server would refuse (name characters and length, password length, the two passwords equal)
// before OK is enabled, with the reason under the fields. password() hands the password out
// (the caller wipes its copy once sent); the fields are cleared when the dialog closes.
#pragma once

#include <QDialog>

class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;

namespace otafleet::ui {

class AddUserDialog : public QDialog {
    Q_OBJECT
public:
    static constexpr int kMinPassword = 8;
    static constexpr int kMaxPassword = 1024;
    static constexpr int kMaxName = 64;

    explicit AddUserDialog(QWidget* parent = nullptr);
    ~AddUserDialog() override;

    [[nodiscard]] QString name() const;
    [[nodiscard]] QString role() const;
    [[nodiscard]] QByteArray password() const;  // UTF-8
    // Why OK is disabled (empty when it is not).
    [[nodiscard]] QString problem() const;

    [[nodiscard]] QLineEdit* nameEdit() const { return m_name; }
    [[nodiscard]] QComboBox* roleBox() const { return m_role; }
    [[nodiscard]] QLineEdit* passwordEdit() const { return m_password; }
    [[nodiscard]] QLineEdit* confirmEdit() const { return m_confirm; }
    [[nodiscard]] QDialogButtonBox* buttons() const { return m_buttons; }

protected:
    void done(int result) override;

private:
    void check();

    QLineEdit* m_name = nullptr;
    QComboBox* m_role = nullptr;
    QLineEdit* m_password = nullptr;
    QLineEdit* m_confirm = nullptr;
    QLabel* m_problem = nullptr;
    QDialogButtonBox* m_buttons = nullptr;
};

}  // namespace otafleet::ui
