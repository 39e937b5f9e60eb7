#include "AdministrationRenderer.h"

#include "ui/AdministrationPanels.h"
#include "ui/AuditView.h"
#include "ui/MainWindow.h"
#include "ui/UsersView.h"

#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>

namespace otafleet::app {
namespace {

constexpr int kMaxWaitMs = 10000;

void settle(int ms = 300) {
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

Status save(QWidget& widget, const QDir& directory, const QString& name) {
    const QString path = directory.filePath(name);
    if (!widget.grab().save(path, "PNG")) {
        return fail(QStringLiteral("render.write"),
                    QStringLiteral("%1 could not be written; check that the folder is writable.")
                        .arg(QDir::toNativeSeparators(path)));
    }
    return {};
}

}  // namespace

Status renderAdministration(ui::MainWindow& window, const QString& directory) {
    auto* panels = window.findChild<ui::AdministrationPanels*>();
    if (!panels) {
        return fail(QStringLiteral("render.view"),
                    QStringLiteral("The console has no audit, users or notification views to "
                                   "render."));
    }
    const QDir dir(directory);
    QTabWidget* tabs = window.tabs();

    ui::AuditView* audit = panels->auditView();
    tabs->setCurrentWidget(audit);
    audit->reload();
    bool verified = false;
    const QMetaObject::Connection done =
        QObject::connect(audit, &ui::AuditView::verificationShown, audit, [&] { verified = true; });
    audit->verify();
    QElapsedTimer waited;
    waited.start();
    while (!verified && waited.elapsed() < kMaxWaitMs)
        settle(50);
    QObject::disconnect(done);
    settle();
    if (auto saved = save(window, dir, QStringLiteral("audit.png")); !saved)
        return saved;

    tabs->setCurrentWidget(panels->usersView());
    settle();
    if (auto saved = save(window, dir, QStringLiteral("users.png")); !saved)
        return saved;

    fleet::Notifier& notifier = panels->notifier();
    notifier.deviceTampered(QStringLiteral("gw-0042"),
                            QStringLiteral("Slot B does not match its signed manifest: its "
                                           "SHA-256 differs [agent.tamper-detected]."),
                            QStringLiteral("sample-tamper"));
    notifier.releaseArrived(QStringLiteral("1.3.0"),
                            QStringLiteral("gateway-x1 1.3.0 (gateway-x1-1.3.0.otab) was uploaded "
                                           "to the server by rita."));
    tabs->setCurrentWidget(panels->notificationsView());
    settle();
    return save(window, dir, QStringLiteral("notifications.png"));
}

}  // namespace otafleet::app
