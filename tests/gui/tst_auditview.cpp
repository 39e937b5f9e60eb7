// The audit log, users and notifications in the real MainWindow (offscreen) over an EmbeddedFleet
// on a temporary SQLite file. Devices added through the fleet and a rollout the engine pauses by
// itself land in the fleet file's hash-chained audit log (EmbeddedAudit); the audit view filters
// them by actor, action, subject, time range and free text, verifies the chain, names the row
// altered behind the console's back (an UPDATE on the SQLite file) and exports what it shows.
// The rollout's pause reaches the technician as a notice bar, a log row and (where a tray
// exists; offscreen it does not) a tray message. The Users tab says an embedded fleet has none.
#include "VerifyOk.h"

#include "fleet/EmbeddedAlerts.h"
#include "fleet/EmbeddedAudit.h"
#include "fleet/EmbeddedFleet.h"
#include "fleet/EmbeddedRollouts.h"
#include "fleet/Notifier.h"
#include "link/DeviceHub.h"
#include "store/FleetStore.h"
#include "ui/AdministrationPanels.h"
#include "ui/AuditTableModel.h"
#include "ui/AuditView.h"
#include "ui/MainWindow.h"
#include "ui/NotificationBar.h"
#include "ui/NotificationLogModel.h"
#include "ui/RolloutsView.h"
#include "ui/UsersView.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QFile>
#include <QItemSelectionModel>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QSystemTrayIcon>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;

namespace {

constexpr int kTimeoutMs = 20000;
constexpr int kDevices = 3;

void grab(QWidget& widget, const char* name) {
    const QString dir = qEnvironmentVariable("OTAFLEET_GRAB_DIR");
    if (!dir.isEmpty())
        widget.grab().save(QDir(dir).filePath(QLatin1String(name)));
}

}  // namespace

class TestAuditView : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    QString m_path;
    std::unique_ptr<link::DeviceHub> m_hub;
    std::unique_ptr<fleet::EmbeddedFleet> m_fleet;
    rollout::SystemClock m_clock;
    std::unique_ptr<fleet::EmbeddedRollouts> m_rollouts;
    std::unique_ptr<fleet::EmbeddedAudit> m_audit;
    std::unique_ptr<fleet::Notifier> m_notifier;
    std::unique_ptr<fleet::EmbeddedAlerts> m_alerts;
    std::unique_ptr<ui::MainWindow> m_window;
    ui::AdministrationPanels* m_panels = nullptr;
    QList<std::shared_ptr<QAbstractItemModelTester>> m_testers;

    ui::AuditView* view() const { return m_panels->auditView(); }

    void watch(QAbstractItemModel* model) {
        m_testers.append(std::make_shared<QAbstractItemModelTester>(
            model, QAbstractItemModelTester::FailureReportingMode::QtTest));
    }

    // Applies `filter` and waits for the view's answer; the ids it shows.
    QList<qint64> shownFor(const fleet::AuditFilter& filter) {
        QSignalSpy shown(view(), &ui::AuditView::entriesShown);
        view()->setFilter(filter);
        if (!shown.wait(kTimeoutMs))
            return {-1};
        QList<qint64> ids;
        for (const fleet::AuditRecord& e : view()->model()->entries())
            ids << e.id;
        return ids;
    }

    QList<fleet::AuditRecord> allEntries() {
        shownFor({});
        return view()->model()->entries();
    }

    // Waits until the log holds an entry with `action` (the fleet's appends are asynchronous).
    bool waitForAction(const QString& action, int count = 1) {
        return QTest::qWaitFor(
            [&] {
                fleet::AuditFilter f;
                f.action = action;
                return shownFor(f).size() >= count;
            },
            kTimeoutMs);
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        m_path = m_tmp.filePath(QStringLiteral("fleet.sqlite"));
        auto store = store::FleetStore::open(m_path);
        VERIFY_OK(store);
        // No operator identity: every contact with a device fails on its link, as with a device
        // that is gone; the rollout below pauses on those failures.
        m_hub = std::make_unique<link::DeviceHub>(
            link::LinkContext{m_tmp.filePath(QStringLiteral("no-pki")), {}, {}, {}},
            QStringList{QStringLiteral(OTAFLEET_PLUGIN_DIR)});
        auto fleet = fleet::EmbeddedFleet::create(std::move(*store), *m_hub);
        VERIFY_OK(fleet);
        m_fleet = std::move(*fleet);
        auto rollouts = fleet::EmbeddedRollouts::create(*m_fleet, m_clock);
        VERIFY_OK(rollouts);
        m_rollouts = std::move(*rollouts);
        m_rollouts->setTickInterval(20);

        m_audit = std::make_unique<fleet::EmbeddedAudit>(m_path, QStringLiteral("tess"));
        m_audit->watch(*m_fleet, m_rollouts.get());
        m_notifier = std::make_unique<fleet::Notifier>();
        m_notifier->watchRollouts(*m_rollouts, QStringLiteral("tess"));
        m_notifier->watchFleet(*m_fleet);
        m_alerts = std::make_unique<fleet::EmbeddedAlerts>(m_path, std::chrono::milliseconds(100));
        m_notifier->watchAlerts(*m_alerts);

        m_window = std::make_unique<ui::MainWindow>(*m_fleet);
        m_window->addRollouts(*m_rollouts, QStringLiteral("tess"), m_tmp.path());
        m_panels = ui::AdministrationPanels::attach(*m_window, *m_audit, nullptr, *m_notifier);
        QVERIFY(m_panels);
        watch(view()->model());
        watch(m_panels->notificationModel());
        m_window->resize(1200, 760);
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    }

    void cleanupTestCase() {
        m_testers.clear();
        m_window.reset();
        m_alerts.reset();
        m_notifier.reset();
        m_audit.reset();
        m_rollouts.reset();
        m_fleet.reset();
    }

    void fleetChangesAreAudited() {
        for (int i = 0; i < kDevices; ++i) {
            VERIFY_OK(m_fleet->addDevice(QStringLiteral("127.0.0.1:%1").arg(i + 1),
                                         QStringLiteral("gw-%1").arg(i + 1)));
        }
        QVERIFY(waitForAction(QStringLiteral("device.add"), kDevices));
        const QList<fleet::AuditRecord> entries = allEntries();
        QCOMPARE(entries.size(), kDevices);
        for (const fleet::AuditRecord& e : entries) {
            QCOMPARE(e.actor, QStringLiteral("tess"));
            QCOMPARE(e.action, QStringLiteral("device.add"));
            QVERIFY(e.subject.startsWith(QStringLiteral("device:")));
            QVERIFY(e.detail.startsWith(QStringLiteral("lan://127.0.0.1:")));
        }
        QVERIFY2(view()->statusText().contains(QStringLiteral("3 entries shown")),
                 qPrintable(view()->statusText()));
    }

    void filtersNarrowTheView() {
        // Other people's entries, written by a second connection to the same file (as another
        // console process would), some of them days ago.
        auto other = store::FleetStore::open(m_path);
        VERIFY_OK(other);
        const QDateTime now = QDateTime::currentDateTimeUtc();
        VERIFY_OK((*other)->audit().append(QStringLiteral("rita"), QStringLiteral("release:1.2.0"),
                                           QStringLiteral("release.upload"),
                                           QStringLiteral("gateway firmware"), now.addDays(-3)));
        VERIFY_OK((*other)->audit().append(QStringLiteral("rita"), QStringLiteral("rollout:9"),
                                           QStringLiteral("rollout.create"),
                                           QStringLiteral("night wave"), now.addDays(-2)));
        VERIFY_OK((*other)->audit().append(QStringLiteral("vic"), QStringLiteral("rollout:9"),
                                           QStringLiteral("denied:rollout.abort"), QString(),
                                           now.addSecs(-60)));
        other->reset();
        const QList<fleet::AuditRecord> all = allEntries();
        QCOMPARE(all.size(), kDevices + 3);
        const qint64 upload = all.at(kDevices).id;
        const qint64 create = all.at(kDevices + 1).id;
        const qint64 denied = all.at(kDevices + 2).id;

        fleet::AuditFilter byActor;
        byActor.actor = QStringLiteral("RITA");  // case does not matter
        QCOMPARE(shownFor(byActor), (QList<qint64>{upload, create}));

        fleet::AuditFilter byAction;
        byAction.action = QStringLiteral("denied:");
        QCOMPARE(shownFor(byAction), QList<qint64>{denied});

        fleet::AuditFilter bySubject;
        bySubject.subject = QStringLiteral("rollout:9");
        QCOMPARE(shownFor(bySubject), (QList<qint64>{create, denied}));

        fleet::AuditFilter byText;
        byText.text = QStringLiteral("night");
        QCOMPARE(shownFor(byText), QList<qint64>{create});

        fleet::AuditFilter byTime;  // the day before yesterday, give or take
        byTime.from = now.addDays(-2).addSecs(-3600);
        byTime.to = now.addDays(-2).addSecs(3600);
        QCOMPARE(shownFor(byTime), QList<qint64>{create});

        fleet::AuditFilter combined;
        combined.actor = QStringLiteral("rita");
        combined.from = now.addDays(-1);
        QCOMPARE(shownFor(combined), QList<qint64>{});
        QVERIFY2(view()->statusText().startsWith(
                     QStringLiteral("0 entries shown of %1").arg(kDevices + 3)),
                 qPrintable(view()->statusText()));
        grab(*m_window, "audit-filtered.png");
        QCOMPARE(shownFor({}).size(), kDevices + 3);
    }

    void verifyNamesTheAlteredEntry() {
        QSignalSpy verified(view(), &ui::AuditView::verificationShown);
        m_window->findChild<QAction*>(QStringLiteral("verifyAudit"))->trigger();
        QVERIFY(verified.wait(kTimeoutMs));
        QVERIFY2(view()->verdictText().contains(QStringLiteral("The audit log is intact")),
                 qPrintable(view()->verdictText()));
        QCOMPARE(m_window->tabs()->currentWidget(), static_cast<QWidget*>(view()));

        // Someone edits the fleet file behind the console's back: entry 2's detail.
        const qint64 altered = 2;
        {
            QSqlDatabase db =
                QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("tamper"));
            db.setDatabaseName(m_path);
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY(q.exec(QStringLiteral("UPDATE audit SET detail = 'lan://10.9.9.9:1' WHERE id "
                                          "= %1")
                               .arg(altered)));
            QCOMPARE(q.numRowsAffected(), 1);
        }
        QSqlDatabase::removeDatabase(QStringLiteral("tamper"));
        allEntries();  // the view shows the row as it is now
        view()->verify();
        QVERIFY(verified.wait(kTimeoutMs));
        const QString verdict = view()->verdictText();
        QVERIFY2(verdict.contains(QStringLiteral("Audit entry %1 was altered").arg(altered)),
                 qPrintable(verdict));
        QVERIFY2(verdict.contains(QStringLiteral("Restore the database")), qPrintable(verdict));
        const int row = view()->model()->rowOf(altered);
        QVERIFY(row >= 0);
        QVERIFY(view()->model()->index(row, 0).data(ui::AuditTableModel::AlteredRole).toBool());
        QVERIFY(!view()->model()->index(0, 0).data(ui::AuditTableModel::AlteredRole).toBool());
        const QModelIndexList selected = view()->table()->selectionModel()->selectedRows();
        QCOMPARE(selected.size(), 1);
        QCOMPARE(selected.first().row(), row);
        QCOMPARE(view()->model()->index(row, ui::AuditTableModel::Detail).data().toString(),
                 QStringLiteral("lan://10.9.9.9:1"));
        grab(*m_window, "audit-tampered.png");
    }

    void exportsTheShownEntries() {
        fleet::AuditFilter f;
        f.actor = QStringLiteral("rita");
        QCOMPARE(shownFor(f).size(), 2);
        const QString csv = m_tmp.filePath(QStringLiteral("audit.csv"));
        const QString json = m_tmp.filePath(QStringLiteral("audit.json"));
        VERIFY_OK(view()->exportShown(csv));
        VERIFY_OK(view()->exportShown(json));
        QFile c(csv);
        QVERIFY(c.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = c.readAll().trimmed().split('\n');
        QCOMPARE(lines.size(), 3);
        QCOMPARE(lines.first().trimmed(),
                 QByteArray("id,time,actor,action,subject,detail,prev_hash,entry_hash"));
        QVERIFY(lines.at(1).contains(",rita,release.upload,release:1.2.0,gateway firmware,"));
        QFile j(json);
        QVERIFY(j.open(QIODevice::ReadOnly));
        const QJsonObject doc = QJsonDocument::fromJson(j.readAll()).object();
        QCOMPARE(doc.value(QStringLiteral("count")).toInt(), 2);
        const QJsonObject second = doc.value(QStringLiteral("entries")).toArray().at(1).toObject();
        QCOMPARE(second.value(QStringLiteral("action")).toString(),
                 QStringLiteral("rollout.create"));
        QCOMPARE(second.value(QStringLiteral("entry_hash")).toString().size(), 64);
        shownFor({});
    }

    void usersTabSaysEmbeddedHasNone() {
        m_window->findChild<QAction*>(QStringLiteral("showUsers"))->trigger();
        QCOMPARE(m_window->tabs()->currentWidget(), static_cast<QWidget*>(m_panels->usersView()));
        auto* sentence =
            m_panels->usersView()->findChild<QLabel*>(QStringLiteral("usersUnavailable"));
        QVERIFY(sentence);
        QVERIFY(sentence->text().contains(QStringLiteral("has no users")));
        QVERIFY(!m_panels->usersView()->findChild<QTableView*>());
        grab(*m_window, "users-embedded.png");
    }

    void notifiesWhenARolloutPausesItself() {
        QSignalSpy notified(m_notifier.get(), &fleet::Notifier::notified);
        const QString bundle = m_tmp.filePath(QStringLiteral("gw-1.1.0.otab"));
        QFile file(bundle);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("never delivered: the devices cannot be reached");
        file.close();
        rollout::PlanOptions options;
        options.waves = QStringLiteral("100%");
        options.failureThreshold = QStringLiteral("10%");
        options.minExecuted = QStringLiteral("1");
        auto plan = rollout::RolloutPlan::fromOptions(options);
        VERIFY_OK(plan);
        QList<qint64> ids;
        for (const fleet::FleetDevice& d : m_fleet->devices())
            ids << d.id;
        auto id = m_rollouts->createRollout(QStringLiteral("gw to 1.1.0"), bundle, *plan, ids,
                                            QStringLiteral("tess"));
        VERIFY_OK(id);
        VERIFY_OK(m_rollouts->start(*id, QStringLiteral("tess")));

        QVERIFY(QTest::qWaitFor(
            [&] {
                for (const QList<QVariant>& args : std::as_const(notified)) {
                    if (args.at(0).value<fleet::Notification>().kind ==
                        fleet::NotificationKind::RolloutPaused)
                        return true;
                }
                return false;
            },
            kTimeoutMs));
        const auto paused = m_rollouts->rollout(*id);
        QVERIFY(paused);
        QCOMPARE(paused->status.state, rollout::RolloutState::Paused);
        const QString reason = paused->status.pauseReason;
        QVERIFY(!reason.isEmpty());

        // The notice bar, over whatever tab is open, with the engine's reason.
        ui::NotificationBar* bar = m_panels->notificationBar();
        QVERIFY(bar->isVisible());
        QVERIFY2(bar->text().contains(QStringLiteral("gw to 1.1.0")), qPrintable(bar->text()));
        QVERIFY2(bar->text().contains(reason.left(30).toHtmlEscaped()), qPrintable(bar->text()));
        // Offscreen there is no system tray: nothing is sent there, nothing breaks.
        QCOMPARE(QSystemTrayIcon::isSystemTrayAvailable(), m_panels->trayIcon() != nullptr);
        if (!m_panels->trayIcon())
            QCOMPARE(m_panels->trayMessages(), 0);
        grab(*m_window, "notification-bar.png");

        // The log lists it with its time.
        ui::NotificationLogModel* log = m_panels->notificationModel();
        QVERIFY(log->rowCount() >= 1);
        QCOMPARE(log->index(0, ui::NotificationLogModel::Kind).data().toString(),
                 QStringLiteral("Rollout paused"));
        QCOMPARE(log->index(0, ui::NotificationLogModel::Text).data().toString(), reason);
        QVERIFY(!log->index(0, ui::NotificationLogModel::Time).data().toString().isEmpty());
        m_window->findChild<QAction*>(QStringLiteral("showNotifications"))->trigger();
        QCOMPARE(m_window->tabs()->currentWidget(),
                 static_cast<QWidget*>(m_panels->notificationsView()));
        grab(*m_window, "notification-log.png");

        // "Show" opens the rollout and puts the bar away.
        QTest::mouseClick(bar->showButton(), Qt::LeftButton);
        QVERIFY(!bar->isVisible());
        QCOMPARE(m_window->tabs()->currentWidget(),
                 static_cast<QWidget*>(m_window->rolloutsView()));

        // A pause the console's own user makes is not announced to them.
        const int before = int(notified.size());
        auto second = m_rollouts->createRollout(QStringLiteral("gw again"), bundle, *plan, ids,
                                                QStringLiteral("tess"));
        VERIFY_OK(second);
        VERIFY_OK(m_rollouts->start(*second, QStringLiteral("tess")));
        VERIFY_OK(m_rollouts->pause(*second, QStringLiteral("tess")));
        QTest::qWait(100);
        for (qsizetype i = before; i < notified.size(); ++i) {
            QVERIFY(notified.at(i).at(0).value<fleet::Notification>().text !=
                    QStringLiteral("Paused by tess."));
        }

        // The audit log holds the rollout's life, the engine's pause as the system's.
        QVERIFY(waitForAction(QStringLiteral("rollout.paused"), 2));
        fleet::AuditFilter pauses;
        pauses.action = QStringLiteral("rollout.paused");
        shownFor(pauses);
        const QList<fleet::AuditRecord> entries = view()->model()->entries();
        QCOMPARE(entries.first().actor, QStringLiteral("system"));
        QCOMPARE(entries.first().detail, reason);
        QCOMPARE(entries.last().actor, QStringLiteral("tess"));
        fleet::AuditFilter created;
        created.action = QStringLiteral("rollout.create");
        created.actor = QStringLiteral("tess");
        QCOMPARE(shownFor(created).size(), 2);
    }

    void newReleaseInTheStoreIsAnnounced() {
        QSignalSpy notified(m_notifier.get(), &fleet::Notifier::notified);
        // A release imported into the fleet file (by this console's release import, or another
        // console process on the same file): a second connection writes it.
        auto other = store::FleetStore::open(m_path);
        VERIFY_OK(other);
        store::ReleaseRecord release;
        release.id = QString(64, u'a');
        release.product = QStringLiteral("gateway-x1");
        release.version = QStringLiteral("1.3.0");
        release.hardware = {QStringLiteral("rev-a")};
        release.size = 1024;
        release.fileName = QStringLiteral("gateway-x1-1.3.0.otab");
        release.blobPath = m_tmp.filePath(QStringLiteral("gateway-x1-1.3.0.otab"));
        release.uploadedBy = QStringLiteral("rita");
        release.uploaded = QDateTime::currentDateTimeUtc();
        VERIFY_OK((*other)->releases().add(release));
        other->reset();
        QVERIFY(notified.wait(kTimeoutMs));
        const auto n = notified.first().first().value<fleet::Notification>();
        QCOMPARE(n.kind, fleet::NotificationKind::ReleaseArrived);
        QCOMPARE(n.title, QStringLiteral("New release 1.3.0"));
        QCOMPARE(n.text, QStringLiteral("gateway-x1 1.3.0 (gateway-x1-1.3.0.otab) was added to "
                                        "this workstation's releases by rita."));
        QCOMPARE(m_panels->notificationModel()
                     ->index(0, ui::NotificationLogModel::Kind)
                     .data()
                     .toString(),
                 QStringLiteral("New release"));
        // Looked at again, it is not new again.
        QTest::qWait(300);
        QCOMPARE(notified.size(), 1);
    }
};

QTEST_MAIN(TestAuditView)
#include "tst_auditview.moc"
