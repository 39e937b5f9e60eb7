// "Connect to server…": where otafleetd is (HOST:PORT) and how to sign in, with the operator
// certificate of a PKI folder or with the fleet's root CA, a user name and a password. The last
// connections are offered again (never their passwords). The dialog only collects and checks
// the fields; the console opens the connection and shows its state in the window it opens.
#pragma once

#include <QByteArray>
#include <QDialog>
#include <QList>
#include <QString>

class QButtonGroup;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QRadioButton;

namespace otafleet::ui {

struct ServerChoice {
    QString address;
    QString pkiDir;  // set: operator certificate; else caFile, user and password
    QString caFile;
    QString user;
    QByteArray password;  // UTF-8, never stored

    // "127.0.0.1:7443 as admin" / "127.0.0.1:7443 with PKI /srv/pki".
    [[nodiscard]] QString label() const;
};

class ConnectDialog : public QDialog {
    Q_OBJECT
public:
    static constexpr int kMaxRecent = 8;

    explicit ConnectDialog(QWidget* parent = nullptr);
    ~ConnectDialog() override;

    // Filled in once accepted. The password is wiped when the dialog goes.
    [[nodiscard]] const ServerChoice& choice() const { return m_choice; }
    [[nodiscard]] QString messageText() const;

    // The recent connections (newest first) kept in QSettings under "connections/recent".
    [[nodiscard]] static QList<ServerChoice> recent();
    static void remember(const ServerChoice& choice);

    // Fields, for tests and for a recent entry.
    void setAddress(const QString& address);
    void usePki(const QString& pkiDir);
    void usePassword(const QString& caFile, const QString& user, const QString& password);

public Q_SLOTS:
    void accept() override;

private:
    void pickRecent(int index);
    void updateMode();
    void showMessage(const QString& text);

    QComboBox* m_recent = nullptr;
    QLineEdit* m_address = nullptr;
    QRadioButton* m_pkiMode = nullptr;
    QRadioButton* m_passwordMode = nullptr;
    QLineEdit* m_pki = nullptr;
    QLineEdit* m_ca = nullptr;
    QLineEdit* m_user = nullptr;
    QLineEdit* m_password = nullptr;
    QLabel* m_message = nullptr;
    QDialogButtonBox* m_buttons = nullptr;
    QList<ServerChoice> m_recentChoices;
    ServerChoice m_choice;
};

}  // namespace otafleet::ui
