// `otafleet FILE.otab` (what the desktop runs for a .otab, see resources/otafleet.desktop): the
// main window opens the bundle report for that file. With no device selected it is the
// workstation check against the fleet's release trust, and nothing can be started from it.
#include "TestBundles.h"
#include "TestPki.h"
#include "VerifyOk.h"

#include "fleet/EmbeddedFleet.h"
#include "link/DeviceHub.h"
#include "store/FleetStore.h"
#include "ui/MainWindow.h"
#include "ui/UpdateDialog.h"

#include <QDir>
#include <QFileOpenEvent>
#include <QLabel>
#include <QPointer>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;

namespace {
constexpr int kTimeoutMs = 30000;
}

class TestOpenBundle : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    std::optional<test::TestPki> m_pki;
    std::unique_ptr<link::DeviceHub> m_hub;
    std::unique_ptr<fleet::EmbeddedFleet> m_fleet;
    std::unique_ptr<ui::MainWindow> m_window;

    QPointer<ui::UpdateDialog> openAndWait(const QString& path) {
        QPointer<ui::UpdateDialog> dialog = m_window->openBundleReport(path);
        if (!dialog)
            return dialog;
        QSignalSpy checked(dialog.data(), &ui::UpdateDialog::bundleChecked);
        if (!dialog->report() && !checked.wait(kTimeoutMs))
            qWarning("the bundle check did not finish");
        return dialog;
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        auto pki = test::TestPki::create(m_tmp.path(), false);
        VERIFY_OK(pki);
        m_pki = std::move(*pki);
        auto store = store::FleetStore::open(m_tmp.filePath(QStringLiteral("fleet.sqlite")));
        VERIFY_OK(store);
        m_hub = std::make_unique<link::DeviceHub>(link::LinkContext{m_pki->pkiDir, {}, {}, {}},
                                                  QStringList{});
        auto fleet = fleet::EmbeddedFleet::create(std::move(*store), *m_hub);
        VERIFY_OK(fleet);
        m_fleet = std::move(*fleet);
        m_fleet->setTrustedRootFile(QDir(m_pki->pkiDir).filePath(QStringLiteral("root-ca.pem")));
        m_window = std::make_unique<ui::MainWindow>(*m_fleet);
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    }

    void cleanupTestCase() {
        m_window.reset();
        m_fleet.reset();
        m_hub.reset();
    }

    void showsReportOfOpenedBundle() {
        auto bundle = test::makeSignedBundle(*m_pki, m_tmp.path(), {});
        VERIFY_OK(bundle);
        QCOMPARE(m_window->selectedDeviceId(), 0);
        QPointer<ui::UpdateDialog> dialog = openAndWait(*bundle);
        QVERIFY(dialog);
        QVERIFY(dialog->isVisible());
        QCOMPARE(dialog->bundlePath(), *bundle);
        QVERIFY(dialog->report());
        QVERIFY2(dialog->report()->verified(), qPrintable(dialog->verdictText()));
        QCOMPARE(dialog->report()->deviceId, 0);
        auto* release = dialog->findChild<QLabel*>(QStringLiteral("reportRelease"));
        QVERIFY(release);
        QVERIFY(release->isVisible());
        QVERIFY2(release->text().contains(QStringLiteral("1.1.0")), qPrintable(release->text()));
        auto signer = m_pki->pki.releaseSignerCertificate();
        VERIFY_OK(signer);
        QVERIFY2(dialog->signersText().contains(signer->subject()),
                 qPrintable(dialog->signersText()));
        // A report without a device: nothing to update, so Start stays off.
        QVERIFY(!dialog->canStart());
        dialog->reject();
        QTRY_VERIFY(dialog.isNull());
    }

    // macOS's Finder (and any desktop that hands a file to a running application) sends a
    // QFileOpenEvent to the application instead of a command-line argument.
    void opensBundleFromFileOpenEvent() {
        auto bundle = test::makeSignedBundle(*m_pki, m_tmp.path(), {});
        VERIFY_OK(bundle);
        m_window->acceptFileOpenEvents(*QCoreApplication::instance());
        QFileOpenEvent event(*bundle);
        QVERIFY(QCoreApplication::sendEvent(QCoreApplication::instance(), &event));
        QPointer<ui::UpdateDialog> dialog = m_window->findChild<ui::UpdateDialog*>();
        QVERIFY(dialog);
        QCOMPARE(dialog->bundlePath(), *bundle);
        QSignalSpy checked(dialog.data(), &ui::UpdateDialog::bundleChecked);
        QVERIFY(dialog->report() || checked.wait(kTimeoutMs));
        QVERIFY2(dialog->report()->verified(), qPrintable(dialog->verdictText()));
        dialog->reject();
        QTRY_VERIFY(dialog.isNull());
        // A URL that is not a local file is not ours: the event is left to others.
        QFileOpenEvent remote(QUrl(QStringLiteral("https://example.org/update.otab")));
        QVERIFY(!QCoreApplication::sendEvent(QCoreApplication::instance(), &remote));
        QVERIFY(!m_window->findChild<ui::UpdateDialog*>());
    }

    void explainsFileThatIsNoBundle() {
        const QString path = m_tmp.filePath(QStringLiteral("notes.otab"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("this is not a bundle\n");
        file.close();
        QPointer<ui::UpdateDialog> dialog = openAndWait(path);
        QVERIFY(dialog);
        QVERIFY(dialog->report());
        QVERIFY(!dialog->report()->manifestRead);
        QVERIFY(dialog->report()->error);
        QVERIFY(!dialog->verdictText().isEmpty());
        QVERIFY(!dialog->canStart());
        dialog->reject();
        QTRY_VERIFY(dialog.isNull());
    }
};

QTEST_MAIN(TestOpenBundle)
#include "tst_openbundle.moc"
