// The console's audit log, user management and notifications, added to a MainWindow from the
// outside (the window's own code stays as it was): an "Audit" tab (AuditView), a "Users" tab
// (UsersView), a "Notifications" tab (the log of past notifications), the notice bar above the
// tabs, a system-tray message where the platform has a tray (offscreen and some desktops have
// none: then the bar and the log carry it alone), and a Security menu:
//   Audit log            Ctrl+Shift+A      Verify audit chain   Ctrl+Shift+K
//   Users                Ctrl+Shift+U      Notifications        Ctrl+Shift+L
// Owned by the window (a child QObject).
#pragma once

#include "fleet/AuditService.h"
#include "fleet/Notifier.h"
#include "fleet/UserService.h"

#include <QObject>
#include <QPointer>

class QSystemTrayIcon;
class QTableView;
class QTabWidget;

namespace otafleet::ui {

class AuditView;
class MainWindow;
class NotificationBar;
class NotificationLogModel;
class UsersView;

class AdministrationPanels : public QObject {
    Q_OBJECT
public:
    // `users` may be null (an embedded fleet: the Users tab says it has none).
    static AdministrationPanels* attach(MainWindow& window, fleet::AuditService& audit,
                                        fleet::UserService* users, fleet::Notifier& notifier);

    [[nodiscard]] AuditView* auditView() const { return m_audit; }
    [[nodiscard]] UsersView* usersView() const { return m_users; }
    [[nodiscard]] QTableView* notificationsView() const { return m_log; }
    [[nodiscard]] NotificationLogModel* notificationModel() const { return m_logModel; }
    [[nodiscard]] NotificationBar* notificationBar() const { return m_bar; }
    [[nodiscard]] fleet::Notifier& notifier() const { return m_notifier; }
    // Null where the platform has no system tray.
    [[nodiscard]] QSystemTrayIcon* trayIcon() const { return m_tray; }
    // How many notifications went to the system tray (0 without one).
    [[nodiscard]] int trayMessages() const { return m_trayMessages; }

private:
    AdministrationPanels(MainWindow& window, fleet::AuditService& audit, fleet::UserService* users,
                         fleet::Notifier& notifier);
    void onNotified(const fleet::Notification& notification);
    void showSubject(const QString& subject, fleet::NotificationKind kind);
    void createMenu();

    MainWindow& m_window;
    fleet::Notifier& m_notifier;
    QTabWidget* m_tabs = nullptr;
    AuditView* m_audit = nullptr;
    UsersView* m_users = nullptr;
    QTableView* m_log = nullptr;
    NotificationLogModel* m_logModel = nullptr;
    NotificationBar* m_bar = nullptr;
    QSystemTrayIcon* m_tray = nullptr;
    int m_trayMessages = 0;
};

}  // namespace otafleet::ui
