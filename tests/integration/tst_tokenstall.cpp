// The GUI thread never waits on the HSM: the release keys live in a SoftHSM token that another
// process serves (`p11-kit server`), and the console reaches it through p11-kit's client module,
// as it would reach a network HSM. The test signs a release in the New release dialog, stops the
// token's process (SIGSTOP) before the PIN is entered, so every call the signature makes hangs,
// and then measures the GUI thread with a 5 ms timer while it keeps working the dialog.
// - No gap may reach 500 ms (a wait on the token would last the whole 2 s stall).
// - The event loop answers within 50 ms: 99% of the gaps are shorter (the same work with the
//   token answering is measured and printed beside it).
// The signature was really waiting on the token: the dialog is still signing at the end of the
// stall, and once the token's process runs again the release is made and verifies.
#include "LoopProbe.h"
#include "TestPki.h"
#include "VerifyOk.h"

#include "bundle/BundleVerifier.h"
#include "fleet/EmbeddedFleet.h"
#include "fleet/EmbeddedReleases.h"
#include "link/DeviceHub.h"
#include "store/FleetStore.h"
#include "ui/PinDialog.h"
#include "ui/SignReleaseDialog.h"

#include <QDialogButtonBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using namespace otafleet;
using namespace otafleet::test;

namespace {

constexpr qint64 kAnswerMs = 50;      // 99% of the gaps
constexpr qint64 kNeverWaitMs = 500;  // every gap; a wait on the token would last the stall
constexpr int kStallMs = 2000;
constexpr int kTimeoutMs = 30000;
const QString kClientModule = QStringLiteral("/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so");
const QString kSoftHsmModule = QStringLiteral("/usr/lib/softhsm/libsofthsm2.so");

// What a person does in the dialog for `ms` milliseconds while it signs: moves the mouse over
// it, repaints it, reads its status, one step every 20 ms.
void workTheDialog(ui::SignReleaseDialog& dialog, int ms) {
    QElapsedTimer elapsed;
    elapsed.start();
    int step = 0;
    while (elapsed.elapsed() < ms) {
        QTest::mouseMove(&dialog, QPoint(20 + (step * 7) % 300, 20 + (step * 11) % 200));
        dialog.repaint();
        (void)dialog.statusText();
        ++step;
        QTest::qWait(20);
    }
}

}  // namespace

class TestTokenStall : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    std::optional<TestPki> m_pki;
    QProcess m_tokenServer;
    qint64 m_tokenPid = 0;

private Q_SLOTS:
    void initTestCase() {
        const QString p11kit = QStandardPaths::findExecutable(QStringLiteral("p11-kit"));
        if (p11kit.isEmpty() || !QFile::exists(kClientModule)) {
            QSKIP("p11-kit and p11-kit-modules are missing; run 'bash installer/install-deps.sh'");
        }
        QVERIFY(m_tmp.isValid());
        auto pki = TestPki::create(m_tmp.path(), true);
        VERIFY_OK(pki);
        m_pki = std::move(*pki);

        // The token is served by a process of its own...
        const QString socket = m_tmp.filePath(QStringLiteral("p11-kit.sock"));
        m_tokenServer.setProgram(p11kit);
        m_tokenServer.setArguments(
            {QStringLiteral("server"), QStringLiteral("--foreground"), QStringLiteral("--name"),
             socket, QStringLiteral("--provider"), kSoftHsmModule,
             QStringLiteral("pkcs11:token=%1").arg(QLatin1String(TestPki::kTokenLabel))});
        m_tokenServer.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        m_tokenServer.start();
        QVERIFY(m_tokenServer.waitForStarted());
        m_tokenPid = m_tokenServer.processId();
        QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(socket), 10000);
        qputenv("P11_KIT_SERVER_ADDRESS", QStringLiteral("unix:path=%1").arg(socket).toUtf8());

        // ...and the PKI reaches its keys through p11-kit's client module, as it would reach a
        // network HSM's.
        QFile json(QDir(m_pki->pkiDir).filePath(QStringLiteral("pki.json")));
        QVERIFY(json.open(QIODevice::ReadOnly));
        QJsonObject pkiJson = QJsonDocument::fromJson(json.readAll()).object();
        json.close();
        QCOMPARE(pkiJson.value(QStringLiteral("pkcs11_module")).toString(), kSoftHsmModule);
        pkiJson.insert(QStringLiteral("pkcs11_module"), kClientModule);
        QVERIFY(json.open(QIODevice::WriteOnly | QIODevice::Truncate));
        json.write(QJsonDocument(pkiJson).toJson());
        json.close();
    }

    void cleanupTestCase() {
        if (m_tokenPid > 0) {
            ::kill(static_cast<pid_t>(m_tokenPid), SIGCONT);
            m_tokenServer.terminate();
            if (!m_tokenServer.waitForFinished(5000))
                m_tokenServer.kill();
        }
    }

    void eventLoopAnswersWhileTheTokenIsStalled() {
        auto store = store::FleetStore::open(m_tmp.filePath(QStringLiteral("fleet.sqlite")));
        VERIFY_OK(store);
        link::DeviceHub hub(link::LinkContext{m_pki->pkiDir, {}, {}, {}}, QStringList{});
        auto fleet = fleet::EmbeddedFleet::create(std::move(*store), hub);
        VERIFY_OK(fleet);
        fleet::EmbeddedReleases releases(**fleet, m_pki->pkiDir,
                                         m_tmp.filePath(QStringLiteral("releases")),
                                         QStringLiteral("tester"));
        ui::SignReleaseDialog dialog(releases);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        QSignalSpy loaded(&dialog, &ui::SignReleaseDialog::signersLoaded);
        QVERIFY(!dialog.signers().isEmpty() || loaded.wait(kTimeoutMs));
        QVERIFY(!dialog.signers().isEmpty());
        dialog.findChild<QLineEdit*>(QStringLiteral("version"))->setText(QStringLiteral("2.0.0"));
        dialog.findChild<QLineEdit*>(QStringLiteral("hardware"))->setText(QStringLiteral("rev-a"));
        const QString payload = m_tmp.filePath(QStringLiteral("rootfs.img"));
        QFile file(payload);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QByteArray(128 * 1024, 'r'));
        file.close();
        dialog.addPayload(QStringLiteral("rootfs"), payload);

        LoopProbe probe;
        // The same work with the token answering, while the bundle is built.
        probe.start();
        workTheDialog(dialog, 500);
        probe.stop();
        const qint64 answeringMax = probe.maxGapMs();
        const qint64 answering99 = probe.gapPercentileMs(0.99);

        QSignalSpy created(&dialog, &ui::SignReleaseDialog::releaseCreated);
        QSignalSpy failed(&dialog, &ui::SignReleaseDialog::failed);
        dialog.findChild<QPushButton*>(QStringLiteral("createAndSign"))->click();
        QTRY_VERIFY_WITH_TIMEOUT(dialog.pinDialog() && dialog.pinDialog()->isVisible(), kTimeoutMs);
        // The token stops answering; then the PIN is entered and the signature starts.
        QCOMPARE(::kill(static_cast<pid_t>(m_tokenPid), SIGSTOP), 0);
        ui::PinDialog* pin = dialog.pinDialog();
        QTest::keyClicks(pin->findChild<QLineEdit*>(QStringLiteral("pin")),
                         QString::fromLatin1(TestPki::kPin));
        pin->findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok)->click();
        probe.start();
        workTheDialog(dialog, kStallMs);
        probe.stop();
        // Still signing: the signature waits on the stalled token, not the GUI.
        const bool stillSigning = dialog.isWorking() && created.isEmpty() && failed.isEmpty();
        QCOMPARE(::kill(static_cast<pid_t>(m_tokenPid), SIGCONT), 0);
        qInfo(
            "GUI-thread gaps, 99th percentile / longest: %lld / %lld ms with the token "
            "answering, %lld / %lld ms stalled (%lld ticks)",
            static_cast<long long>(answering99), static_cast<long long>(answeringMax),
            static_cast<long long>(probe.gapPercentileMs(0.99)),
            static_cast<long long>(probe.maxGapMs()), static_cast<long long>(probe.ticks()));
        QVERIFY2(stillSigning, qPrintable(dialog.statusText()));
        QVERIFY(probe.ticks() > 100);
        QVERIFY2(probe.maxGapMs() < kNeverWaitMs,
                 qPrintable(QStringLiteral("the GUI thread stopped for %1 ms while the token "
                                           "was stalled: something waited on the HSM")
                                .arg(probe.maxGapMs())));
        QVERIFY2(probe.gapPercentileMs(0.99) < kAnswerMs,
                 qPrintable(QStringLiteral("1% of the event loop's gaps were %1 ms or longer "
                                           "while the token was stalled")
                                .arg(probe.gapPercentileMs(0.99))));

        // The token answers again: the signature completes and the release verifies.
        QVERIFY2(created.wait(kTimeoutMs) || !created.isEmpty(), qPrintable(dialog.statusText()));
        const QString id = created.first().first().toString();
        bundle::VerifyPolicy policy;
        auto trust = m_pki->pki.releaseTrust();
        VERIFY_OK(trust);
        policy.trust = *trust;
        VERIFY_OK(bundle::BundleVerifier::verifyFile(
            QDir(releases.places().releaseDir).filePath(id + QStringLiteral(".otab")), policy));
    }
};

QTEST_MAIN(TestTokenStall)
#include "tst_tokenstall.moc"
