#include "ui/AdministrationPanels.h"

#include "ui/AuditView.h"
#include "ui/MainWindow.h"
#include "ui/NotificationBar.h"
#include "ui/NotificationLogModel.h"
#include "ui/RolloutsView.h"
#include "ui/UsersView.h"

#include <QAction>
#include <QApplication>
#include <QHeaderView>
#include <QMenu>
#include <QMenuBar>
#include <QSystemTrayIcon>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

namespace otafleet::ui {

AdministrationPanels* AdministrationPanels::attach(MainWindow& window, fleet::AuditService& audit,
                                                   fleet::UserService* users,
                                                   fleet::Notifier& notifier) {
    return new AdministrationPanels(window, audit, users, notifier);
}

AdministrationPanels::AdministrationPanels(MainWindow& window, fleet::AuditService& audit,
                                           fleet::UserService* users, fleet::Notifier& notifier)
    : QObject(&window), m_window(window), m_notifier(notifier), m_tabs(window.tabs()) {
    m_audit = new AuditView(audit);
    m_audit->setObjectName(QStringLiteral("auditView"));
    m_users = new UsersView(users);
    m_users->setObjectName(QStringLiteral("usersView"));
    m_logModel = new NotificationLogModel(notifier, this);
    m_log = new QTableView;
    m_log->setObjectName(QStringLiteral("notificationLog"));
    m_log->setModel(m_logModel);
    m_log->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_log->setWordWrap(false);
    m_log->verticalHeader()->hide();
    m_log->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_log->horizontalHeader()->setStretchLastSection(true);
    m_log->setColumnWidth(NotificationLogModel::Time, 150);
    m_log->setColumnWidth(NotificationLogModel::Kind, 120);
    m_log->setColumnWidth(NotificationLogModel::Title, 320);
    m_tabs->addTab(m_audit, tr("A&udit"));
    m_tabs->addTab(m_users, tr("U&sers"));
    m_tabs->addTab(m_log, tr("N&otifications"));

    // The bar goes above the tabs: the central widget becomes the two of them.
    m_bar = new NotificationBar;
    auto* central = new QWidget;
    auto* layout = new QVBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addWidget(m_bar);
    layout->addWidget(window.takeCentralWidget(), 1);
    window.setCentralWidget(central);
    connect(m_bar, &NotificationBar::showRequested, this, &AdministrationPanels::showSubject);

    if (QSystemTrayIcon::isSystemTrayAvailable()) {
        m_tray = new QSystemTrayIcon(
            window.windowIcon().isNull() ? qApp->windowIcon() : window.windowIcon(), this);
        m_tray->setToolTip(QStringLiteral("otafleet"));
        m_tray->show();
        connect(m_tray, &QSystemTrayIcon::messageClicked, this, [this] {
            m_window.raise();
            m_window.activateWindow();
            m_tabs->setCurrentWidget(m_log);
        });
    }
    connect(&notifier, &fleet::Notifier::notified, this, &AdministrationPanels::onNotified);
    createMenu();
}

void AdministrationPanels::onNotified(const fleet::Notification& n) {
    m_bar->present(n);
    if (m_tray && QSystemTrayIcon::supportsMessages()) {
        m_tray->showMessage(n.title, n.text,
                            n.kind == fleet::NotificationKind::ReleaseArrived
                                ? QSystemTrayIcon::Information
                                : QSystemTrayIcon::Warning);
        ++m_trayMessages;
    }
}

void AdministrationPanels::showSubject(const QString& subject, fleet::NotificationKind kind) {
    Q_UNUSED(subject);
    // Where the thing lives: rollouts in their tab, the rest in the log with its details.
    if (kind == fleet::NotificationKind::RolloutPaused && m_window.rolloutsView()) {
        m_tabs->setCurrentWidget(m_window.rolloutsView());
        return;
    }
    m_tabs->setCurrentWidget(m_log);
}

void AdministrationPanels::createMenu() {
    QMenu* menu = m_window.menuBar()->addMenu(tr("S&ecurity"));
    const auto add = [&](const QString& text, const QString& name, const QKeySequence& keys,
                         auto&& slot) {
        auto* action = new QAction(text, &m_window);
        action->setObjectName(name);
        action->setShortcut(keys);
        connect(action, &QAction::triggered, this, slot);
        menu->addAction(action);
        m_window.addAction(action);  // the shortcut works wherever the focus is
        return action;
    };
    add(tr("&Audit log"), QStringLiteral("showAudit"), QKeySequence(tr("Ctrl+Shift+A")),
        [this] { m_tabs->setCurrentWidget(m_audit); });
    add(tr("&Verify audit chain"), QStringLiteral("verifyAudit"), QKeySequence(tr("Ctrl+Shift+K")),
        [this] {
            m_tabs->setCurrentWidget(m_audit);
            m_audit->verify();
        });
    add(tr("&Users"), QStringLiteral("showUsers"), QKeySequence(tr("Ctrl+Shift+U")),
        [this] { m_tabs->setCurrentWidget(m_users); });
    add(tr("&Notifications"), QStringLiteral("showNotifications"), QKeySequence(tr("Ctrl+Shift+L")),
        [this] { m_tabs->setCurrentWidget(m_log); });
}

}  // namespace otafleet::ui
