// A device that reports tampering reaches the technician: a real otafleet-agent whose slot A no
// longer matches its signed manifest (a byte changed in the slot file while it was stopped)
// boots, its own boot verifier says agent.tamper-detected, the embedded fleet hears it at the
// first contact, and the Notifier puts it in the notice bar and the notification log, once.
#include "AgentProcess.h"
#include "TestPki.h"
#include "VerifyOk.h"

#include "fleet/EmbeddedAudit.h"
#include "fleet/EmbeddedFleet.h"
#include "fleet/Notifier.h"
#include "link/DeviceHub.h"
#include "store/FleetStore.h"
#include "ui/AdministrationPanels.h"
#include "ui/MainWindow.h"
#include "ui/NotificationBar.h"
#include "ui/NotificationLogModel.h"

#include <QAbstractItemModelTester>
#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;

class TestTamperNotice : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void tamperedSlotIsAnnounced() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        auto pki = test::TestPki::create(tmp.path(), false);
        VERIFY_OK(pki);
        auto agent = test::AgentProcess::setUp(QStringLiteral(OTAFLEET_BIN_DIR),
                                               tmp.filePath(QStringLiteral("agent")), pki->pkiDir,
                                               QStringLiteral("bench-7"));
        VERIFY_OK(agent);
        {
            QFile slotA(QDir((*agent)->dir()).filePath(QStringLiteral("slots/slot-a.img")));
            QVERIFY(slotA.open(QIODevice::ReadWrite));
            QVERIFY(slotA.seek(4096));
            QVERIFY(slotA.putChar('X'));
        }
        VERIFY_OK((*agent)->start());

        const QString path = tmp.filePath(QStringLiteral("fleet.sqlite"));
        auto store = store::FleetStore::open(path);
        VERIFY_OK(store);
        link::DeviceHub hub(link::LinkContext{pki->pkiDir, {}, {}, {}},
                            QStringList{QStringLiteral(OTAFLEET_PLUGIN_DIR)});
        auto fleet = fleet::EmbeddedFleet::create(std::move(*store), hub);
        VERIFY_OK(fleet);
        fleet::EmbeddedAudit audit(path, QStringLiteral("tess"));
        fleet::Notifier notifier;
        notifier.watchFleet(**fleet);
        ui::MainWindow window(**fleet);
        ui::AdministrationPanels* panels =
            ui::AdministrationPanels::attach(window, audit, nullptr, notifier);
        QAbstractItemModelTester tester(panels->notificationModel(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        window.resize(1100, 700);
        window.show();

        QSignalSpy notified(&notifier, &fleet::Notifier::notified);
        auto id = (*fleet)->addDevice((*agent)->target(), QStringLiteral("bench-7"));
        VERIFY_OK(id);
        QVERIFY2(notified.wait(20000), (*agent)->output().constData());
        const auto n = notified.first().first().value<fleet::Notification>();
        QCOMPARE(n.kind, fleet::NotificationKind::DeviceTampered);
        QCOMPARE(n.title, QStringLiteral("Device bench-7 reports tampering"));
        QVERIFY2(n.text.contains(QStringLiteral("agent.tamper-detected")), qPrintable(n.text));
        QVERIFY(panels->notificationBar()->isVisible());
        QVERIFY(panels->notificationBar()->text().contains(QStringLiteral("reports tampering")));
        QCOMPARE(panels->notificationModel()->rowCount(), 1);
        const QString dir = qEnvironmentVariable("OTAFLEET_GRAB_DIR");
        if (!dir.isEmpty())
            window.grab().save(QDir(dir).filePath(QStringLiteral("tamper-notice.png")));

        // Asking the device again does not announce the same report twice.
        QSignalSpy changed(fleet->get(), &fleet::FleetService::operationFinished);
        VERIFY_OK((*fleet)->refresh(*id));
        QVERIFY(changed.wait(20000));
        QCOMPARE(notified.size(), 1);
    }
};

QTEST_MAIN(TestTamperNotice)
#include "tst_tampernotice.moc"
