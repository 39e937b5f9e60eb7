// The Releases tab of the main window (offscreen) over an EmbeddedFleet on a temp SQLite store,
// with the release signers' keys in a real SoftHSM token: import a signed bundle and see its
// verdict with the signer's details; make a release from a payload file through the PIN dialog
// (a wrong PIN is said plainly and asked again, the right one signs); a two-person release that
// the verifier accepts only with both signatures; Cancel while building; notes kept beside a
// release; revoke. The release list passes QAbstractItemModelTester throughout.
#include "CliRun.h"
#include "TestBundles.h"
#include "TestPki.h"
#include "VerifyOk.h"

#include "bundle/BundleVerifier.h"
#include "fleet/EmbeddedFleet.h"
#include "fleet/EmbeddedReleases.h"
#include "link/DeviceHub.h"
#include "store/FleetStore.h"
#include "ui/MainWindow.h"
#include "ui/PinDialog.h"
#include "ui/ReleaseTableModel.h"
#include "ui/ReleasesView.h"
#include "ui/SignReleaseDialog.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;

namespace {

constexpr int kTimeoutMs = 30000;

// With OTAFLEET_GRAB_DIR set, the widget as a person sees it, for a look (not compared).
void grab(QWidget& widget, const char* name) {
    const QString dir = qEnvironmentVariable("OTAFLEET_GRAB_DIR");
    if (dir.isEmpty())
        return;
    QTest::qWait(50);
    widget.grab().save(QDir(dir).filePath(QLatin1String(name)));
}

template <typename T>
T* child(QObject& parent, const char* name) {
    T* found = parent.findChild<T*>(QLatin1String(name));
    if (found == nullptr)
        qWarning("no child %s", name);
    return found;
}

// Types `pin` into the PIN dialog the sign dialog has open and presses Unlock.
bool enterPin(ui::SignReleaseDialog& dialog, const QString& pin) {
    if (!QTest::qWaitFor([&] { return dialog.pinDialog() && dialog.pinDialog()->isVisible(); },
                         kTimeoutMs)) {
        return false;
    }
    ui::PinDialog* pinDialog = dialog.pinDialog();
    auto* field = pinDialog->findChild<QLineEdit*>(QStringLiteral("pin"));
    if (field == nullptr)
        return false;
    QTest::keyClicks(field, pin);
    pinDialog->findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok)->click();
    return true;
}

}  // namespace

class TestReleasesView : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    std::optional<test::TestPki> m_pki;
    std::unique_ptr<link::DeviceHub> m_hub;
    std::unique_ptr<fleet::EmbeddedFleet> m_fleet;
    std::unique_ptr<fleet::EmbeddedReleases> m_releases;
    std::unique_ptr<ui::MainWindow> m_window;
    std::unique_ptr<QAbstractItemModelTester> m_tester;
    ui::ReleasesView* m_view = nullptr;

    QString payloadFile(const QString& name, qint64 size) {
        const QString path = m_tmp.filePath(name);
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly))
            return {};
        QByteArray block(64 * 1024, 'p');
        for (qint64 written = 0; written < size; written += block.size())
            file.write(block.constData(), std::min<qint64>(block.size(), size - written));
        return path;
    }

    // The New release dialog, opened by its shortcut's action, filled in, signers read.
    QPointer<ui::SignReleaseDialog> openFilled(const QString& version) {
        auto* action = m_window->findChild<QAction*>(QStringLiteral("newReleaseAction"));
        if (action == nullptr)
            return {};
        action->trigger();
        QPointer<ui::SignReleaseDialog> dialog = m_view->findChild<ui::SignReleaseDialog*>();
        if (!dialog)
            return dialog;
        QSignalSpy loaded(dialog.data(), &ui::SignReleaseDialog::signersLoaded);
        if (dialog->signers().isEmpty() && !loaded.wait(kTimeoutMs))
            return {};
        child<QLineEdit>(*dialog, "product")->setText(QStringLiteral("gateway-x1"));
        child<QLineEdit>(*dialog, "version")->setText(version);
        child<QLineEdit>(*dialog, "hardware")->setText(QStringLiteral("rev-a"));
        child<QPlainTextEdit>(*dialog, "releaseNotes")
            ->setPlainText(QStringLiteral("Signed notes of %1").arg(version));
        dialog->addPayload(QStringLiteral("rootfs"),
                           payloadFile(QStringLiteral("rootfs-%1.img").arg(version), 256 * 1024));
        return dialog;
    }

    QString blobOf(const QString& id) const {
        return QDir(m_releases->places().releaseDir).filePath(id + QStringLiteral(".otab"));
    }

    Result<bundle::VerifiedBundle> verify(const QString& path, int threshold) const {
        bundle::VerifyPolicy policy;
        auto trust = m_pki->pki.releaseTrust();
        if (!trust)
            return fail(trust.error());
        policy.trust = *trust;
        policy.threshold = threshold;
        return bundle::BundleVerifier::verifyFile(path, policy);
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        auto pki = test::TestPki::create(m_tmp.path(), true);  // keys in a SoftHSM token
        VERIFY_OK(pki);
        m_pki = std::move(*pki);
        // A second release signer in the same token, for two-person releases.
        crypto::IssueOptions bob;
        bob.kind = crypto::IssueKind::ReleaseSigner;
        bob.name = QStringLiteral("bob");
        bob.pinProvider = m_pki->pinProvider();
        VERIFY_OK(m_pki->pki.issue(bob));

        auto store = store::FleetStore::open(m_tmp.filePath(QStringLiteral("fleet.sqlite")));
        VERIFY_OK(store);
        m_hub = std::make_unique<link::DeviceHub>(link::LinkContext{m_pki->pkiDir, {}, {}, {}},
                                                  QStringList{});
        auto fleet = fleet::EmbeddedFleet::create(std::move(*store), *m_hub);
        VERIFY_OK(fleet);
        m_fleet = std::move(*fleet);
        m_releases = std::make_unique<fleet::EmbeddedReleases>(
            *m_fleet, m_pki->pkiDir, m_tmp.filePath(QStringLiteral("releases")),
            QStringLiteral("tester"));
        m_window = std::make_unique<ui::MainWindow>(*m_fleet);
        m_window->addReleases(*m_releases);
        m_view = m_window->releasesView();
        QVERIFY(m_view);
        m_view->setConfirmRevoke(false);
        m_tester = std::make_unique<QAbstractItemModelTester>(
            m_view->model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        m_window->resize(1200, 800);
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
        m_window->findChild<QAction*>(QStringLiteral("showReleases"))->trigger();
        QCOMPARE(m_window->tabs()->currentWidget(), m_view);
    }

    void cleanupTestCase() {
        m_tester.reset();
        m_window.reset();
        m_releases.reset();
        m_fleet.reset();
        m_hub.reset();
    }

    void importShowsVerdictWithSigner() {
        auto bundle = test::makeSignedBundle(*m_pki, m_tmp.path(), {});
        VERIFY_OK(bundle);
        QSignalSpy finished(m_view, &ui::ReleasesView::workFinished);
        QSignalSpy shown(m_view, &ui::ReleasesView::reportShown);
        m_view->importBundle(*bundle);
        QVERIFY(finished.wait(kTimeoutMs));
        const auto error = finished.first().first().value<std::optional<Error>>();
        QVERIFY2(!error, error ? qPrintable(error->toString()) : "");
        QTRY_COMPARE_WITH_TIMEOUT(m_view->model()->rowCount(), 1, kTimeoutMs);
        QTRY_VERIFY_WITH_TIMEOUT(m_view->report().has_value(), kTimeoutMs);
        QVERIFY2(m_view->report()->verified(), qPrintable(m_view->verdictText()));
        QVERIFY(m_view->verdictText().startsWith(QStringLiteral("✔")));
        auto signer = m_pki->pki.releaseSignerCertificate();
        VERIFY_OK(signer);
        QVERIFY2(m_view->signersText().contains(signer->commonName().toHtmlEscaped()),
                 qPrintable(m_view->signersText()));
        QVERIFY2(m_view->signersText().contains(QStringLiteral("key id")),
                 qPrintable(m_view->signersText()));
        const auto release = m_releases->release(m_view->selectedRelease());
        QVERIFY(release);
        QCOMPARE(release->version, QStringLiteral("1.1.0"));
        QCOMPARE(release->importedBy, QStringLiteral("tester"));
        QVERIFY(QFile::exists(blobOf(release->id)));
        grab(*m_window, "releases-imported.png");

        // The same bundle again is named as the release it already is.
        m_view->importBundle(*bundle);
        QVERIFY(finished.wait(kTimeoutMs));
        QVERIFY2(m_view->messageText().contains(QStringLiteral("store.duplicate")),
                 qPrintable(m_view->messageText()));
    }

    void importRefusesWhatIsNotSigned() {
        const QString path = m_tmp.filePath(QStringLiteral("junk.otab"));
        QFile junk(path);
        QVERIFY(junk.open(QIODevice::WriteOnly));
        junk.write("not a bundle at all\n");
        junk.close();
        const int rows = m_view->model()->rowCount();
        QSignalSpy finished(m_view, &ui::ReleasesView::workFinished);
        m_view->importBundle(path);
        QVERIFY(finished.wait(kTimeoutMs));
        const auto error = finished.first().first().value<std::optional<Error>>();
        QVERIFY(error);
        QVERIFY2(error->code.startsWith(QStringLiteral("bundle.")), qPrintable(error->code));
        QVERIFY(m_view->messageText().contains(error->code));
        QCOMPARE(m_view->model()->rowCount(), rows);
    }

    // Cancel in the view stops an import before anything is kept.
    void cancelImport() {
        test::TestBundleSpec big;
        big.version = QStringLiteral("1.9.0");
        big.payloadSize = 64 * 1024 * 1024;
        auto bundle = test::makeSignedBundle(*m_pki, m_tmp.path(), big);
        VERIFY_OK(bundle);
        const int rows = m_view->model()->rowCount();
        QSignalSpy finished(m_view, &ui::ReleasesView::workFinished);
        m_view->importBundle(*bundle);
        auto* cancel = child<QPushButton>(*m_view, "cancelWork");
        QVERIFY(cancel->isVisible());
        cancel->click();
        QVERIFY(finished.wait(kTimeoutMs));
        const auto error = finished.first().first().value<std::optional<Error>>();
        QVERIFY(error);
        QCOMPARE(error->code, QStringLiteral("release.cancelled"));
        QVERIFY(!cancel->isVisible());
        QCOMPARE(m_view->model()->rowCount(), rows);
        QCOMPARE(QDir(m_releases->places().releaseDir).entryList({QStringLiteral("*.otab")}).size(),
                 rows);
    }

    void createWithWrongPinThenRightPin() {
        QPointer<ui::SignReleaseDialog> dialog = openFilled(QStringLiteral("1.4.0"));
        QVERIFY(dialog);
        QCOMPARE(dialog->signers().size(), 2);  // release and bob, both in the token
        auto* create = child<QPushButton>(*dialog, "createAndSign");
        QVERIFY(create->isEnabled());
        QSignalSpy failed(dialog.data(), &ui::SignReleaseDialog::failed);
        QSignalSpy created(dialog.data(), &ui::SignReleaseDialog::releaseCreated);
        create->click();

        QVERIFY(enterPin(*dialog, QStringLiteral("9999")));
        QVERIFY(failed.wait(kTimeoutMs));
        const Error refused = failed.first().first().value<Error>();
        QCOMPARE(refused.code, QStringLiteral("crypto.pin-incorrect"));
        QVERIFY2(dialog->statusText().contains(refused.message), qPrintable(dialog->statusText()));
        // Asked again, saying why; the right PIN signs.
        QTRY_VERIFY_WITH_TIMEOUT(dialog->pinDialog() && dialog->pinDialog()->isVisible(),
                                 kTimeoutMs);
        QVERIFY(child<QLabel>(*dialog->pinDialog(), "purpose")->text().contains(refused.message));
        grab(*dialog, "release-sign-wrong-pin.png");
        QVERIFY(enterPin(*dialog, QString::fromLatin1(test::TestPki::kPin)));
        QVERIFY(created.wait(kTimeoutMs));
        const QString id = created.first().first().toString();
        QTRY_VERIFY_WITH_TIMEOUT(dialog.isNull(), kTimeoutMs);

        QTRY_COMPARE_WITH_TIMEOUT(m_view->selectedRelease(), id, kTimeoutMs);
        const auto release = m_releases->release(id);
        QVERIFY(release);
        QCOMPARE(release->version, QStringLiteral("1.4.0"));
        QCOMPARE(release->signers.size(), 1);
        QCOMPARE(release->signedNotes, QStringLiteral("Signed notes of 1.4.0"));
        VERIFY_OK(verify(blobOf(id), 1));
        QTRY_VERIFY_WITH_TIMEOUT(m_view->report().has_value(), kTimeoutMs);
        QVERIFY2(m_view->report()->verified(), qPrintable(m_view->verdictText()));
        // Nothing of the work is left behind.
        QVERIFY(QDir(m_releases->places().releaseDir + QStringLiteral("/work"))
                    .entryList(QDir::Files)
                    .isEmpty());
    }

    void twoPersonRelease() {
        QPointer<ui::SignReleaseDialog> dialog = openFilled(QStringLiteral("1.5.0"));
        QVERIFY(dialog);
        auto* twoPerson = child<QCheckBox>(*dialog, "twoPerson");
        QVERIFY(twoPerson->isEnabled());
        twoPerson->setChecked(true);
        auto* first = child<QComboBox>(*dialog, "signer");
        auto* second = child<QComboBox>(*dialog, "secondSigner");
        QVERIFY(second->isEnabled());
        // The same signer twice is refused before anything is built.
        second->setCurrentIndex(first->currentIndex());
        QSignalSpy failed(dialog.data(), &ui::SignReleaseDialog::failed);
        child<QPushButton>(*dialog, "createAndSign")->click();
        QCOMPARE(failed.size(), 1);
        QCOMPARE(failed.first().first().value<Error>().code, QStringLiteral("release.same-signer"));
        QVERIFY(!dialog->isWorking());
        second->setCurrentIndex(first->currentIndex() == 0 ? 1 : 0);
        grab(*dialog, "release-sign-two-person.png");

        QSignalSpy created(dialog.data(), &ui::SignReleaseDialog::releaseCreated);
        child<QPushButton>(*dialog, "createAndSign")->click();
        QVERIFY(enterPin(*dialog, QString::fromLatin1(test::TestPki::kPin)));  // first signer
        QTRY_VERIFY_WITH_TIMEOUT(dialog->pinDialog() && dialog->pinDialog()->isVisible() &&
                                     child<QLabel>(*dialog->pinDialog(), "purpose")
                                         ->text()
                                         .contains(QStringLiteral("signature 2 of 2")),
                                 kTimeoutMs);
        QVERIFY(enterPin(*dialog, QString::fromLatin1(test::TestPki::kPin)));  // second signer
        QVERIFY(created.wait(kTimeoutMs));
        const QString id = created.first().first().toString();

        QTRY_VERIFY_WITH_TIMEOUT(m_releases->release(id).has_value(), kTimeoutMs);
        QCOMPARE(m_releases->release(id)->signers.size(), 2);
        // Devices requiring two signers accept it; three would be more than it has.
        auto twoOk = verify(blobOf(id), 2);
        VERIFY_OK(twoOk);
        QCOMPARE(twoOk->signers.size(), 2);
        QVERIFY(!verify(blobOf(id), 3));
        // The command line agrees: what `otafleetctl bundle verify --threshold 2` says.
        const test::ProcessRun cli = test::ctl(
            {"bundle", "verify", blobOf(id), "--pki", m_pki->pkiDir, "--threshold", "2", "--json"});
        QVERIFY2(cli.exitCode == 0, cli.err.constData());
        QVERIFY2(cli.out.contains("\"valid\": true"), cli.out.constData());
        // The one-signature release of the previous case does not satisfy two.
        for (const fleet::ReleaseInfo& r : m_releases->releases()) {
            if (r.version == QLatin1String("1.4.0"))
                QVERIFY(!verify(blobOf(r.id), 2));
        }
        QTRY_COMPARE_WITH_TIMEOUT(m_view->selectedRelease(), id, kTimeoutMs);
        QTRY_VERIFY_WITH_TIMEOUT(m_view->report().has_value(), kTimeoutMs);
        QCOMPARE(m_view->report()->signers.size(), 2);
        grab(*m_window, "releases-two-person.png");
    }

    void cancelWhileBuilding() {
        QPointer<ui::SignReleaseDialog> dialog = openFilled(QStringLiteral("1.6.0"));
        QVERIFY(dialog);
        // A payload big enough that Cancel lands while it is being written.
        dialog->addPayload(QStringLiteral("data"),
                           payloadFile(QStringLiteral("big.img"), 96 * 1024 * 1024));
        const int rows = m_view->model()->rowCount();
        QSignalSpy failed(dialog.data(), &ui::SignReleaseDialog::failed);
        child<QPushButton>(*dialog, "createAndSign")->click();
        QVERIFY(dialog->isWorking());
        dialog->reject();              // Cancel
        QVERIFY(dialog->isVisible());  // stays to say what happened
        QVERIFY(failed.wait(kTimeoutMs));
        QCOMPARE(failed.first().first().value<Error>().code, QStringLiteral("release.cancelled"));
        QVERIFY(!dialog->isWorking());
        QVERIFY(!dialog->pinDialog());
        dialog->reject();
        QTRY_VERIFY_WITH_TIMEOUT(dialog.isNull(), kTimeoutMs);
        QCOMPARE(m_view->model()->rowCount(), rows);
        QTRY_VERIFY_WITH_TIMEOUT(QDir(m_releases->places().releaseDir + QStringLiteral("/work"))
                                     .entryList(QDir::Files)
                                     .isEmpty(),
                                 kTimeoutMs);
    }

    void notesAreKept() {
        const QString id = m_view->selectedRelease();
        QVERIFY(!id.isEmpty());
        auto* notes = child<QPlainTextEdit>(*m_view, "notes");
        auto* save = child<QPushButton>(*m_view, "saveNotes");
        QVERIFY(!save->isEnabled());
        notes->setPlainText(QStringLiteral("Approved by the change board on Tuesday."));
        QVERIFY(save->isEnabled());
        QSignalSpy finished(m_view, &ui::ReleasesView::workFinished);
        save->click();
        QVERIFY(finished.wait(kTimeoutMs));
        QVERIFY(!finished.first().first().value<std::optional<Error>>());
        QTRY_COMPARE_WITH_TIMEOUT(m_releases->release(id)->notes,
                                  QStringLiteral("Approved by the change board on Tuesday."),
                                  kTimeoutMs);
        QTRY_VERIFY(!save->isEnabled());
        // In the store, not only in memory.
        auto stored = store::FleetStore::open(m_fleet->store().path());
        VERIFY_OK(stored);
        auto record = (*stored)->releases().get(id);
        VERIFY_OK(record);
        QCOMPARE(record->notes, QStringLiteral("Approved by the change board on Tuesday."));
    }

    void revoke() {
        const QString id = m_view->selectedRelease();
        QVERIFY(!id.isEmpty());
        auto* revoke = child<QPushButton>(*m_view, "revokeRelease");
        QVERIFY(revoke->isEnabled());
        QSignalSpy finished(m_view, &ui::ReleasesView::workFinished);
        revoke->click();
        QVERIFY(finished.wait(kTimeoutMs));
        QVERIFY(!finished.first().first().value<std::optional<Error>>());
        QTRY_VERIFY_WITH_TIMEOUT(m_releases->release(id)->revoked, kTimeoutMs);
        const int row = m_view->model()->rowOf(id);
        QVERIFY(row >= 0);
        QVERIFY(m_view->model()->index(row, 0).data(ui::ReleaseTableModel::RevokedRole).toBool());
        QVERIFY(m_view->model()
                    ->index(row, ui::ReleaseTableModel::State)
                    .data()
                    .toString()
                    .startsWith(QStringLiteral("Revoked")));
        QTRY_VERIFY(!revoke->isEnabled());
        QVERIFY2(m_view->verdictText().contains(QStringLiteral("Revoked")),
                 qPrintable(m_view->verdictText()));
        // The audit log holds every change made here.
        auto stored = store::FleetStore::open(m_fleet->store().path());
        VERIFY_OK(stored);
        auto entries = (*stored)->audit().list(0, 100);
        VERIFY_OK(entries);
        QStringList actions;
        for (const auto& e : *entries)
            actions << e.action;
        for (const char* action :
             {"release.import", "release.sign", "release.notes", "release.revoke"}) {
            QVERIFY2(actions.contains(QLatin1String(action)), action);
        }
        grab(*m_window, "releases-revoked.png");
    }
};

QTEST_MAIN(TestReleasesView)
#include "tst_releasesview.moc"
