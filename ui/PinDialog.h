// Asks for a PKCS#11 token's user PIN: the token's label, why it is needed, a masked field.
// The PIN leaves the dialog once, through takePin(), and the dialog keeps no copy after that or
// after a cancel. It is never logged. The console's app/ layer turns it into the services' PIN
// provider (crypto::SecretString), so no service ever includes a widget and ui/ never includes
// crypto/.
#pragma once

#include <QByteArray>
#include <QDialog>
#include <QString>

class QDialogButtonBox;
class QLabel;
class QLineEdit;

namespace otafleet::ui {

class PinDialog : public QDialog {
    Q_OBJECT
public:
    PinDialog(const QString& tokenLabel, const QString& purpose, QWidget* parent = nullptr);
    ~PinDialog() override;

    // Pre-fills a documented development PIN and says so in plain words. Only for the demo's
    // development token: a real token's PIN is never pre-filled.
    void setDevelopmentPin(const QString& pin);

    [[nodiscard]] QString tokenLabel() const { return m_tokenLabel; }
    [[nodiscard]] bool hasPin() const;
    // Moves the entered PIN out as UTF-8 and wipes the field; empty on every later call. The
    // caller wipes what it got (QByteArray::fill) or moves it into a SecretString.
    [[nodiscard]] QByteArray takePin();

public Q_SLOTS:
    void done(int result) override;

private:
    void wipe();

    QString m_tokenLabel;
    QLineEdit* m_pin = nullptr;
    QLabel* m_note = nullptr;
    QDialogButtonBox* m_buttons = nullptr;
};

}  // namespace otafleet::ui
