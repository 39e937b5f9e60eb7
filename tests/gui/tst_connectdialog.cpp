// "Connect to server…" (ui::ConnectDialog) offscreen: bad addresses and incomplete sign-ins
// keep the dialog open with a sentence; a complete one is handed to the window's
// connectRequested(); recent connections come back without their passwords.
#include "ui/ConnectDialog.h"
#include "ui/MainWindow.h"

#include "fleet/FleetService.h"

#include <QCoreApplication>
#include <QFile>
#include <QLabel>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;

namespace {

// The smallest fleet a window can show: no devices, here on the workstation.
class EmptyFleet final : public fleet::FleetService {
public:
    QList<fleet::FleetDevice> devices() const override { return {}; }
    std::optional<fleet::FleetDevice> device(qint64) const override { return std::nullopt; }
    Result<qint64> addDevice(const QString&, const QString&) override { return 0; }
    Status removeDevice(qint64) override { return {}; }
    Status refresh(qint64) override { return {}; }
    void refreshAll() override {}
    Status startUpdate(qint64, const QString&, const link::UpdateOptions&) override { return {}; }
    Status commit(qint64) override { return {}; }
    Status rollback(qint64) override { return {}; }
    Status reboot(qint64) override { return {}; }
    void cancel(qint64) override {}
    void inspectBundle(const QString&, qint64) override {}
};

}  // namespace

class TestConnectDialog : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    QString m_pki;
    QString m_ca;

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("otafleet-test"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_connectdialog"));
        QSettings().clear();
        QVERIFY(m_tmp.isValid());
        m_pki = m_tmp.filePath(QStringLiteral("pki"));
        QVERIFY(QDir().mkpath(m_pki));
        for (const char* name : {"root-ca.pem", "operator.pem", "operator.key"}) {
            QFile f(QDir(m_pki).filePath(QLatin1String(name)));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("-----BEGIN CERTIFICATE-----\n");
        }
        m_ca = QDir(m_pki).filePath(QStringLiteral("root-ca.pem"));
    }

    void refusesIncompleteChoices_data() {
        QTest::addColumn<QString>("address");
        QTest::addColumn<bool>("pki");
        QTest::addColumn<QString>("user");
        QTest::addColumn<QString>("password");
        QTest::addColumn<QString>("expected");
        QTest::newRow("no port") << "fleet.example.com" << true << ""
                                 << ""
                                 << "HOST:PORT";
        QTest::newRow("port out of range") << "fleet.example.com:70000" << true << ""
                                           << ""
                                           << "HOST:PORT";
        QTest::newRow("spaces") << "fleet example:7443" << true << ""
                                << ""
                                << "HOST:PORT";
        QTest::newRow("no password") << "127.0.0.1:7443" << false << "tech"
                                     << ""
                                     << "password";
        QTest::newRow("no user") << "127.0.0.1:7443" << false << ""
                                 << "secret"
                                 << "user name";
    }
    void refusesIncompleteChoices() {
        QFETCH(QString, address);
        QFETCH(bool, pki);
        QFETCH(QString, user);
        QFETCH(QString, password);
        QFETCH(QString, expected);
        ui::ConnectDialog dialog;
        dialog.setAddress(address);
        if (pki)
            dialog.usePki(m_pki);
        else
            dialog.usePassword(m_ca, user, password);
        dialog.show();
        dialog.accept();
        QVERIFY(dialog.isVisible());
        QCOMPARE(dialog.result(), int(QDialog::Rejected));
        QVERIFY2(dialog.messageText().contains(expected), qPrintable(dialog.messageText()));
    }

    void refusesAPkiFolderWithoutTheOperatorCertificate() {
        ui::ConnectDialog dialog;
        dialog.setAddress(QStringLiteral("127.0.0.1:7443"));
        dialog.usePki(m_tmp.path());  // holds no root-ca.pem
        dialog.accept();
        QVERIFY(dialog.messageText().contains(u"operator.key"));
    }

    void handsTheChoiceToTheWindowAndRemembersIt() {
        EmptyFleet fleet;
        ui::MainWindow window(fleet);
        QVERIFY(window.connectionLabel()->text().contains(u"This workstation"));
        QSignalSpy requested(&window, &ui::MainWindow::connectRequested);
        ui::ConnectDialog* dialog = window.openConnectDialog();
        QVERIFY(dialog);
        dialog->setAddress(QStringLiteral("[::1]:7443"));
        dialog->usePassword(m_ca, QStringLiteral("tech"), QStringLiteral("s3cret"));
        dialog->accept();
        QCOMPARE(requested.count(), 1);
        const auto choice = requested.first().first().value<ui::ServerChoice>();
        QCOMPARE(choice.address, QStringLiteral("[::1]:7443"));
        QCOMPARE(choice.user, QStringLiteral("tech"));
        QCOMPARE(choice.password, QByteArrayLiteral("s3cret"));
        QVERIFY(choice.pkiDir.isEmpty());

        // Remembered, newest first, never with the password.
        ui::ConnectDialog::remember(
            ui::ServerChoice{QStringLiteral("10.0.0.2:7443"), m_pki, {}, {}, {}});
        const auto recent = ui::ConnectDialog::recent();
        QCOMPARE(recent.size(), 2);
        QCOMPARE(recent.at(0).address, QStringLiteral("10.0.0.2:7443"));
        QCOMPARE(recent.at(1).address, QStringLiteral("[::1]:7443"));
        QVERIFY(recent.at(1).password.isEmpty());
        const QString stored = QSettings().value(QStringLiteral("connections/recent")).toString() +
                               QVariant(QSettings().allKeys()).toString();
        QVERIFY(!stored.contains(u"s3cret"));
        QFile file(QSettings().fileName());
        QVERIFY(file.open(QIODevice::ReadOnly));
        QVERIFY(!file.readAll().contains("s3cret"));

        // A new dialog starts on the newest one.
        ui::ConnectDialog next;
        next.accept();  // PKI mode with the remembered folder: complete
        QCOMPARE(next.result(), int(QDialog::Accepted));
        QCOMPARE(next.choice().address, QStringLiteral("10.0.0.2:7443"));
        QCOMPARE(next.choice().pkiDir, m_pki);
    }
};

QTEST_MAIN(TestConnectDialog)
#include "tst_connectdialog.moc"
