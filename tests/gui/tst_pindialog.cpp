// The token PIN dialog (offscreen): a masked field, the token named, Unlock only with a PIN, the
// PIN handed out exactly once, and nothing left in the dialog after use or cancel.
#include "ui/PinDialog.h"

#include <QApplication>
#include <QDialogButtonBox>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTest>

using otafleet::ui::PinDialog;

namespace {

QLineEdit* pinField(PinDialog& dialog) {
    return dialog.findChild<QLineEdit*>(QStringLiteral("pin"));
}

// Types like a keyboard, also characters QTest::keyClicks cannot (it takes ASCII only).
void typeText(QWidget* widget, const QString& text) {
    for (const QChar c : text) {
        QKeyEvent press(QEvent::KeyPress, Qt::Key_unknown, Qt::NoModifier, QString(c));
        QApplication::sendEvent(widget, &press);
        QKeyEvent release(QEvent::KeyRelease, Qt::Key_unknown, Qt::NoModifier, QString(c));
        QApplication::sendEvent(widget, &release);
    }
}

QPushButton* unlockButton(PinDialog& dialog) {
    return dialog.findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok);
}

}  // namespace

class TestPinDialog : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void accepts_data() {
        QTest::addColumn<QString>("typed");
        QTest::addColumn<QByteArray>("utf8");
        QTest::newRow("digits") << QStringLiteral("4711") << QByteArrayLiteral("4711");
        QTest::newRow("non-ascii") << QStringLiteral("pä55 wörd")
                                   << QByteArrayLiteral(
                                          "p\xc3\xa4"
                                          "55 w\xc3\xb6rd");
    }

    void accepts() {
        QFETCH(QString, typed);
        QFETCH(QByteArray, utf8);
        PinDialog dialog(QStringLiteral("release-hsm"), QStringLiteral("Sign the release."));
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        QLineEdit* field = pinField(dialog);
        QVERIFY(field);
        QCOMPARE(field->echoMode(), QLineEdit::Password);
        QVERIFY(dialog.findChild<QLabel*>(QStringLiteral("token"))
                    ->text()
                    .contains(QStringLiteral("release-hsm")));
        QVERIFY(!dialog.findChild<QLabel*>(QStringLiteral("developmentNote"))->isVisible());
        QVERIFY(!unlockButton(dialog)->isEnabled());  // no empty PIN
        QVERIFY(field->text().isEmpty());             // a real token's PIN is never pre-filled

        typeText(field, typed);
        QVERIFY(unlockButton(dialog)->isEnabled());
        QVERIFY(field->displayText() != typed);  // masked on screen
        QTest::mouseClick(unlockButton(dialog), Qt::LeftButton);
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QVERIFY(dialog.hasPin());

        QByteArray pin = dialog.takePin();
        QCOMPARE(pin, utf8);
        pin.fill('\0');
        // Handed out once: the dialog keeps nothing.
        QVERIFY(field->text().isEmpty());
        QVERIFY(!dialog.hasPin());
        QVERIFY(dialog.takePin().isEmpty());
    }

    void cancelClearsThePin() {
        PinDialog dialog(QStringLiteral("release-hsm"), QStringLiteral("Sign the release."));
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        QTest::keyClicks(pinField(dialog), QStringLiteral("987654"));
        QVERIFY(dialog.hasPin());
        QTest::keyClick(&dialog, Qt::Key_Escape);
        QCOMPARE(dialog.result(), int(QDialog::Rejected));
        QVERIFY(!dialog.isVisible());
        QVERIFY(pinField(dialog)->text().isEmpty());
        QVERIFY(!dialog.hasPin());
        QVERIFY(dialog.takePin().isEmpty());
    }

    void developmentPinIsLabelled() {
        PinDialog dialog(QStringLiteral("otafleet-dev"), QStringLiteral("Set up the demo."));
        dialog.setDevelopmentPin(QStringLiteral("1234"));
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        const QLabel* note = dialog.findChild<QLabel*>(QStringLiteral("developmentNote"));
        QVERIFY(note->isVisible());
        QVERIFY(note->text().contains(QStringLiteral("development")));
        QVERIFY(unlockButton(dialog)->isEnabled());
        QTest::keyClick(pinField(dialog), Qt::Key_Return);
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QCOMPARE(dialog.takePin(), QByteArrayLiteral("1234"));
    }
};

QTEST_MAIN(TestPinDialog)
#include "tst_pindialog.moc"
