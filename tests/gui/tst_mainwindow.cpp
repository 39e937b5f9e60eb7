// The real MainWindow (offscreen) over an EmbeddedFleet with one real agent on loopback: add the
// device through AddDeviceDialog, see a bundle's report and verdict in UpdateDialog, update it
// and see the new version in the table and the details pane, roll back, and see the sentences
// of a bad address, of a bundle for other hardware (refused before anything is pushed, and by
// the device when pushed anyway) and of a bundle signed by someone the fleet does not trust.
#include "AgentProcess.h"
#include "TestBundles.h"
#include "TestPki.h"
#include "VerifyOk.h"

#include "fleet/EmbeddedFleet.h"
#include "link/DeviceHub.h"
#include "store/FleetStore.h"
#include "ui/AddDeviceDialog.h"
#include "ui/DeviceDetailsPane.h"
#include "ui/DeviceFilterProxy.h"
#include "ui/DeviceTableModel.h"
#include "ui/MainWindow.h"
#include "ui/UpdateDialog.h"

#include <QAction>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;
using ui::DeviceTableModel;

namespace {
constexpr int kTimeoutMs = 60000;
}

class TestMainWindow : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    std::optional<test::TestPki> m_pki;
    std::optional<test::TestPki> m_otherPki;  // another fleet's: not trusted here
    std::unique_ptr<test::AgentProcess> m_agent;
    std::unique_ptr<link::DeviceHub> m_hub;
    std::unique_ptr<fleet::EmbeddedFleet> m_fleet;
    std::unique_ptr<ui::MainWindow> m_window;
    qint64 m_id = 0;

    QString cell(int column) const {
        const DeviceTableModel* model = m_window->deviceModel();
        return model->data(model->index(model->rowOf(m_id), column)).toString();
    }

    // Saves a picture of `widget` when OTAFLEET_SCREENSHOT_DIR is set (for the README).
    static void screenshot(QWidget* widget, const QString& name) {
        const QString shots = qEnvironmentVariable("OTAFLEET_SCREENSHOT_DIR");
        if (!shots.isEmpty())
            widget->grab().save(shots + QLatin1Char('/') + name);
    }

    // Opens the dialog on the selected device with `bundlePath` and waits for its check.
    QPointer<ui::UpdateDialog> openChecked(const QString& bundlePath) {
        QPointer<ui::UpdateDialog> dialog = m_window->openUpdateDialog();
        if (!dialog)
            return dialog;
        QSignalSpy checked(dialog.data(), &ui::UpdateDialog::bundleChecked);
        dialog->setBundlePath(bundlePath);
        if (!dialog->report() && !checked.wait(kTimeoutMs))
            qWarning("the bundle check did not finish");
        return dialog;
    }

    // Runs the dialog on the selected device and waits for its outcome.
    QPointer<ui::UpdateDialog> runUpdate(const QString& bundlePath, bool expectSuccess) {
        QPointer<ui::UpdateDialog> dialog = openChecked(bundlePath);
        if (!dialog)
            return dialog;
        QSignalSpy done(dialog.data(), &ui::UpdateDialog::updateFinished);
        // OTAFLEET_SCREENSHOT_DIR: keep pictures of the dialog mid-transfer and at the end (for
        // the README); connected after the dialog, so it has drawn the step already.
        const QString shots = qEnvironmentVariable("OTAFLEET_SCREENSHOT_DIR");
        if (!shots.isEmpty()) {
            connect(m_fleet.get(), &fleet::FleetService::operationProgress, dialog.data(),
                    [dialog, shots](qint64, const QString&, qint64 sent, qint64 total) {
                        const QString path = shots + QStringLiteral("/update-progress.png");
                        if (total > 0 && sent * 2 >= total && sent < total && !QFile::exists(path))
                            dialog->grab().save(path);
                    });
            connect(dialog.data(), &ui::UpdateDialog::updateFinished, dialog.data(),
                    [dialog, shots](bool ok) {
                        dialog->grab().save(shots + (ok ? QStringLiteral("/update-done.png")
                                                        : QStringLiteral("/update-failed.png")));
                    });
        }
        dialog->start();
        if (dialog->stage() != ui::UpdateDialog::Stage::Running)
            return dialog;
        if (!done.wait(kTimeoutMs))
            return dialog;
        if (done.first().first().toBool() != expectSuccess)
            qWarning("update ended with: %s", qPrintable(dialog->resultText()));
        return dialog;
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        auto pki = test::TestPki::create(m_tmp.path(), false);
        VERIFY_OK(pki);
        m_pki = std::move(*pki);
        auto agent = test::AgentProcess::setUp(
            QStringLiteral(OTAFLEET_BIN_DIR), m_tmp.filePath(QStringLiteral("agent")),
            m_pki->pkiDir, QStringLiteral("bench-1"), QStringLiteral("rev-a"));
        VERIFY_OK(agent);
        m_agent = std::move(*agent);
        VERIFY_OK(m_agent->start());

        auto store = store::FleetStore::open(m_tmp.filePath(QStringLiteral("fleet.sqlite")));
        VERIFY_OK(store);
        m_hub = std::make_unique<link::DeviceHub>(link::LinkContext{m_pki->pkiDir, {}, {}, {}},
                                                  QStringList{QStringLiteral(OTAFLEET_PLUGIN_DIR)});
        auto fleet = fleet::EmbeddedFleet::create(std::move(*store), *m_hub);
        VERIFY_OK(fleet);
        m_fleet = std::move(*fleet);
        m_fleet->setTrustedRootFile(QDir(m_pki->pkiDir).filePath(QStringLiteral("root-ca.pem")));
        m_window = std::make_unique<ui::MainWindow>(*m_fleet);
        m_window->setConfirmRollback(false);
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    }

    void cleanupTestCase() {
        m_window.reset();
        m_fleet.reset();
        m_hub.reset();
        m_agent.reset();
    }

    void badAddressIsExplainedInline() {
        QPointer<ui::AddDeviceDialog> dialog = m_window->openAddDeviceDialog();
        QVERIFY(dialog);
        dialog->setAddress(QStringLiteral("bench one"));
        QVERIFY(dialog->messageText().contains(QStringLiteral("HOST:PORT")));
        if (const QString shots = qEnvironmentVariable("OTAFLEET_SCREENSHOT_DIR"); !shots.isEmpty())
            dialog->grab().save(shots + QStringLiteral("/add-device-error.png"));
        dialog->accept();  // refused: stays open, nothing added
        QVERIFY(dialog->isVisible());
        QCOMPARE(m_window->deviceModel()->rowCount(), 0);
        dialog->reject();
        QTRY_VERIFY(dialog.isNull());
    }

    void addsDeviceThroughDialog() {
        QSignalSpy finished(m_fleet.get(), &fleet::FleetService::operationFinished);
        QPointer<ui::AddDeviceDialog> dialog = m_window->openAddDeviceDialog();
        QVERIFY(dialog);
        dialog->setAddress(m_agent->target());
        dialog->setDeviceName(QStringLiteral("Bench 1"));
        QVERIFY(dialog->messageText().isEmpty());
        dialog->accept();
        m_id = dialog->addedDeviceId();
        QVERIFY(m_id > 0);
        QCOMPARE(m_window->deviceModel()->rowCount(), 1);
        // The window selected the new device.
        QCOMPARE(m_window->selectedDeviceId(), m_id);
        QVERIFY(finished.wait(kTimeoutMs));
        QCOMPARE(cell(DeviceTableModel::Name), QStringLiteral("Bench 1"));
        QCOMPARE(cell(DeviceTableModel::Hardware), QStringLiteral("rev-a"));
        QCOMPARE(cell(DeviceTableModel::ActiveSlot), QStringLiteral("A"));
        QCOMPARE(cell(DeviceTableModel::SlotA), QStringLiteral("1.0.0 (active)"));
        QCOMPARE(cell(DeviceTableModel::State), QStringLiteral("Idle"));
    }

    void showsReportBeforePush() {
        auto bundle = test::makeSignedBundle(*m_pki, m_tmp.path(), {});
        VERIFY_OK(bundle);
        m_window->selectDevice(m_id);
        QPointer<ui::UpdateDialog> dialog = openChecked(*bundle);
        QVERIFY(dialog);
        QVERIFY(dialog->report());
        QVERIFY2(dialog->report()->verified(), qPrintable(dialog->verdictText()));
        auto signer = m_pki->pki.releaseSignerCertificate();
        VERIFY_OK(signer);
        const QString verdict = dialog->verdictText();
        QVERIFY2(verdict.contains(QStringLiteral("verified for hardware rev-a")),
                 qPrintable(verdict));
        QVERIFY2(verdict.contains(signer->commonName()), qPrintable(verdict));
        QVERIFY(dialog->findChild<QLabel*>(QStringLiteral("reportRelease"))
                    ->text()
                    .contains(QStringLiteral("1.1.0")));
        QVERIFY(dialog->findChild<QLabel*>(QStringLiteral("reportRelease"))->isVisible());
        QVERIFY(dialog->findChild<QLabel*>(QStringLiteral("reportPayloads"))
                    ->text()
                    .contains(QStringLiteral("rootfs")));
        const QString signers = dialog->signersText();
        QVERIFY2(signers.contains(signer->subject()), qPrintable(signers));
        QVERIFY2(signers.contains(signer->subjectKeyId()), qPrintable(signers));
        QVERIFY2(signers.contains(signer->issuer()), qPrintable(signers));  // the chain
        QVERIFY(dialog->canStart());
        QVERIFY(dialog->findChild<QPushButton*>(QStringLiteral("start"))->isEnabled());
        screenshot(dialog, QStringLiteral("update-dialog.png"));
        dialog->reject();
        QTRY_VERIFY(dialog.isNull());
    }

    void updatesThroughDialog() {
        auto bundle = test::makeSignedBundle(*m_pki, m_tmp.path(), {});
        VERIFY_OK(bundle);
        m_window->selectDevice(m_id);
        QPointer<ui::UpdateDialog> dialog = runUpdate(*bundle, true);
        QVERIFY(dialog);
        QCOMPARE(dialog->stage(), ui::UpdateDialog::Stage::Succeeded);
        QVERIFY2(dialog->resultText().contains(QStringLiteral("1.1.0")),
                 qPrintable(dialog->resultText()));
        QCOMPARE(dialog->findChild<QProgressBar*>()->value(),
                 dialog->findChild<QProgressBar*>()->maximum());
        QCOMPARE(dialog->findChild<QLineEdit*>(QStringLiteral("bundleFile"))->text(),
                 QFileInfo(*bundle).fileName());

        QCOMPARE(cell(DeviceTableModel::ActiveSlot), QStringLiteral("B"));
        QVERIFY2(cell(DeviceTableModel::SlotB).startsWith(QStringLiteral("1.1.0")),
                 qPrintable(cell(DeviceTableModel::SlotB)));
        QCOMPARE(cell(DeviceTableModel::State), QStringLiteral("Idle"));
        dialog->reject();
        QTRY_VERIFY(dialog.isNull());
    }

    void rollsBackFromToolbar() {
        QSignalSpy finished(m_fleet.get(), &fleet::FleetService::operationFinished);
        m_window->selectDevice(m_id);
        QAction* rollback = nullptr;
        for (QAction* action : m_window->findChildren<QAction*>()) {
            if (action->text() == QStringLiteral("&Roll back"))
                rollback = action;
        }
        QVERIFY(rollback);
        QVERIFY(rollback->isEnabled());
        rollback->trigger();
        QCOMPARE(cell(DeviceTableModel::State), QStringLiteral("Rolling back…"));
        QVERIFY(!rollback->isEnabled());  // one operation at a time
        QVERIFY(finished.wait(kTimeoutMs));
        QCOMPARE(cell(DeviceTableModel::ActiveSlot), QStringLiteral("A"));
        QVERIFY(cell(DeviceTableModel::SlotA).startsWith(QStringLiteral("1.0.0")));
        QVERIFY(rollback->isEnabled());
    }

    void wrongHardwareIsRefusedBeforePush() {
        test::TestBundleSpec spec;
        spec.version = QStringLiteral("2.0.0");
        spec.hardware = QStringLiteral("rev-z");
        auto bundle = test::makeSignedBundle(*m_pki, m_tmp.path(), spec);
        VERIFY_OK(bundle);
        m_window->selectDevice(m_id);
        QPointer<ui::UpdateDialog> dialog = openChecked(*bundle);
        QVERIFY(dialog);
        QVERIFY(dialog->report());
        QCOMPARE(dialog->report()->verdict, fleet::BundleReport::Verdict::Refused);
        const QString verdict = dialog->verdictText();
        QVERIFY2(verdict.contains(QStringLiteral("[bundle.wrong-hardware]")), qPrintable(verdict));
        QVERIFY(verdict.size() > 60);  // a sentence, not just a code
        // The signature itself is fine, so who signed it is still shown.
        QVERIFY(!dialog->signersText().isEmpty());
        QVERIFY(!dialog->findChild<QPushButton*>(QStringLiteral("start"))->isEnabled());
        screenshot(dialog, QStringLiteral("bundle-refused.png"));
        QSignalSpy started(m_fleet.get(), &fleet::FleetService::operationStarted);
        dialog->start();  // refused: nothing is pushed
        QCOMPARE(dialog->stage(), ui::UpdateDialog::Stage::Choosing);
        QCOMPARE(started.size(), 0);
        dialog->reject();
        QTRY_VERIFY(dialog.isNull());
    }

    // Pushed anyway (another console, a script), the device refuses it and the table says so.
    void wrongHardwarePushedAnywayShowsTheSentence() {
        test::TestBundleSpec spec;
        spec.version = QStringLiteral("2.0.0");
        spec.hardware = QStringLiteral("rev-z");
        auto bundle = test::makeSignedBundle(*m_pki, m_tmp.path(), spec);
        VERIFY_OK(bundle);
        VERIFY_OK(m_fleet->startUpdate(m_id, *bundle, link::UpdateOptions{}));
        // The fleet asks the device where it stands after a failure; the failure stays shown.
        QTRY_COMPARE_WITH_TIMEOUT(cell(DeviceTableModel::State),
                                  QStringLiteral("Failed: bundle.wrong-hardware"), kTimeoutMs);
        QVERIFY(
            m_window->detailsPane()->errorText().contains(QStringLiteral("bundle.wrong-hardware")));
        QVERIFY(cell(DeviceTableModel::SlotA).startsWith(QStringLiteral("1.0.0")));
    }

    void untrustedSignerIsRefusedBeforePush() {
        auto other = test::TestPki::create(m_tmp.filePath(QStringLiteral("other")), false);
        VERIFY_OK(other);
        m_otherPki = std::move(*other);
        test::TestBundleSpec spec;
        spec.version = QStringLiteral("6.6.6");
        auto bundle =
            test::makeSignedBundle(*m_otherPki, m_tmp.filePath(QStringLiteral("other")), spec);
        VERIFY_OK(bundle);
        m_window->selectDevice(m_id);
        QPointer<ui::UpdateDialog> dialog = openChecked(*bundle);
        QVERIFY(dialog);
        const QString verdict = dialog->verdictText();
        QVERIFY2(verdict.contains(QStringLiteral("[crypto.untrusted-signer]")),
                 qPrintable(verdict));
        QVERIFY(dialog->signersText().isEmpty());  // nobody this fleet trusts signed it
        QVERIFY(!dialog->findChild<QPushButton*>(QStringLiteral("start"))->isEnabled());
        screenshot(dialog, QStringLiteral("bundle-untrusted.png"));
        dialog->reject();
        QTRY_VERIFY(dialog.isNull());
    }

    // File > Export devices…: the rows the list shows, filter applied, with stable columns; a
    // name that a spreadsheet would run as a formula is written as text.
    void exportsShownDevicesAsCsv() {
        auto other = m_fleet->addDevice(QStringLiteral("lan://192.0.2.10:50051"),
                                        QStringLiteral("=HYPERLINK(\"x\")"));
        VERIFY_OK(other);
        const auto rows = [this](const QString& path) {
            QFile file(path);
            if (!file.open(QIODevice::ReadOnly))
                return QList<QStringList>{};
            QList<QStringList> out;
            const QString text = QString::fromUtf8(file.readAll());
            for (const QString& line : text.split(QStringLiteral("\r\n"), Qt::SkipEmptyParts))
                out.append(line.split(u','));
            return out;
        };
        const QString all = m_tmp.filePath(QStringLiteral("devices.csv"));
        VERIFY_OK(m_window->exportShownDevices(all));
        const QList<QStringList> table = rows(all);
        QCOMPARE(table.size(), 3);
        QCOMPARE(table[0].join(u','),
                 QStringLiteral("name,address,device_id,model,hardware,version,other_version,"
                                "active_slot,state,online,last_seen,last_error"));
        const auto device = m_fleet->device(m_id);
        QVERIFY(device && device->snapshot);
        const auto rowOf = [&table](const QString& address) {
            for (const QStringList& r : table) {
                if (r.value(1) == address)
                    return r;
            }
            return QStringList{};
        };
        const QStringList bench = rowOf(device->uri);
        QCOMPARE(bench.size(), 12);
        QCOMPARE(bench[2], device->snapshot->deviceId);
        QCOMPARE(bench[4], QStringLiteral("rev-a"));
        QCOMPARE(bench[5], device->snapshot->activeVersion());
        QCOMPARE(bench[7], device->snapshot->activeSlot);
        QCOMPARE(bench[9], QStringLiteral("yes"));
        QCOMPARE(QDateTime::fromString(bench[10], Qt::ISODate).toSecsSinceEpoch(),
                 device->lastSeen.toSecsSinceEpoch());  // whole seconds, UTC
        const QStringList formula = rowOf(QStringLiteral("lan://192.0.2.10:50051"));
        QVERIFY2(formula.value(0).startsWith(QStringLiteral("\"'=HYPERLINK(")),
                 qPrintable(formula.value(0)));

        // With a filter, only what the list shows.
        m_window->showDevicesMatching(QStringLiteral("hardware=rev-a"));
        QTRY_COMPARE(m_window->deviceFilter()->rowCount(), 1);
        const QString filtered = m_tmp.filePath(QStringLiteral("rev-a.csv"));
        VERIFY_OK(m_window->exportShownDevices(filtered));
        const QList<QStringList> only = rows(filtered);
        QCOMPARE(only.size(), 2);
        QCOMPARE(only[1].value(1), device->uri);
        // A place that cannot be written is an error with the path, not a crash.
        const auto refused =
            m_window->exportShownDevices(m_tmp.filePath(QStringLiteral("no/such/dir.csv")));
        QVERIFY(!refused);
        QCOMPARE(refused.error().code, QStringLiteral("io.write-failed"));

        m_window->showDevicesMatching(QString());
        VERIFY_OK(m_fleet->removeDevice(*other));
    }

    void unreachableDeviceIsShownNotFrozen() {
        QSignalSpy finished(m_fleet.get(), &fleet::FleetService::operationFinished);
        m_agent->kill();
        m_window->refreshAll();
        QTRY_COMPARE_WITH_TIMEOUT(cell(DeviceTableModel::State), QStringLiteral("Unreachable"),
                                  kTimeoutMs);
        QVERIFY(!m_window->detailsPane()->errorText().isEmpty());
    }
};

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
