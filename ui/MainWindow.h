// The console's main window: a toolbar (Add device…, Update…, Roll back, Refresh), tabs (the
// device table with its filter bar and the details pane of the selected device, the dashboard,
// and once addRollouts() gave it a RolloutService: the rollouts with their monitor and the
// approval inbox; once addTelemetry() gave it a TelemetryService: the telemetry charts) and a
// status bar. It only wires widgets to the
// FleetService; every rule lives in services/, every dialog in its own class.
#pragma once

#include "fleet/FleetService.h"
#include "fleet/ReleaseService.h"
#include "fleet/RolloutService.h"
#include "fleet/TelemetryService.h"
#include "ui/BleScanDialog.h"
#include "ui/ConnectDialog.h"

#include <QMainWindow>
#include <QTimer>

class QAction;
class QCoreApplication;
class QLabel;
class QLineEdit;
class QTabWidget;
class QTableView;

namespace otafleet::ui {

class AddDeviceDialog;
class ApprovalInbox;
class BleScanDialog;
class DashboardView;
class DeviceBrowser;
class DeviceDetailsPane;
class DeviceFilterProxy;
class DeviceTableModel;
class ReleasesView;
class RolloutWizard;
class RolloutsView;
class TelemetryView;
class UpdateDialog;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(fleet::FleetService& fleet, QWidget* parent = nullptr);
    ~MainWindow() override;

    [[nodiscard]] DeviceTableModel* deviceModel() const { return m_model; }
    [[nodiscard]] QTableView* deviceTable() const { return m_table; }
    [[nodiscard]] DeviceDetailsPane* detailsPane() const { return m_details; }
    [[nodiscard]] DashboardView* dashboard() const { return m_dashboard; }
    [[nodiscard]] DeviceFilterProxy* deviceFilter() const { return m_filter; }
    [[nodiscard]] QLineEdit* filterBar() const { return m_filterBar; }
    // The paged device list that stands in for the table when the fleet pages its devices
    // (FleetService::devicePages(): otafleetd's fleet); null otherwise.
    [[nodiscard]] DeviceBrowser* deviceBrowser() const { return m_browser; }
    [[nodiscard]] QTabWidget* tabs() const { return m_tabs; }
    [[nodiscard]] RolloutsView* rolloutsView() const { return m_rolloutsView; }
    [[nodiscard]] ApprovalInbox* approvalInbox() const { return m_inbox; }
    [[nodiscard]] TelemetryView* telemetryView() const { return m_telemetryView; }
    [[nodiscard]] qint64 selectedDeviceId() const;
    // Where the fleet lives and whether it is reachable (fleet::FleetConnection::text()).
    [[nodiscard]] QLabel* connectionLabel() const { return m_connection; }
    // Adds the Rollouts and Approvals tabs and "New rollout…". `user` is who acts on rollouts
    // from this window; the wizard offers the bundles of `releaseDirectory` (may be empty).
    void addRollouts(fleet::RolloutService& rollouts, const QString& user,
                     const QString& releaseDirectory = {});
    // Adds the Telemetry tab (charts) and View > Telemetry charts (Ctrl+Shift+T).
    void addTelemetry(fleet::TelemetryService& telemetry);
    // Adds the Releases tab and its menu (ReleasesView::menuActions()).
    void addReleases(fleet::ReleaseService& releases);
    [[nodiscard]] ReleasesView* releasesView() const { return m_releasesView; }
    void selectDevice(qint64 id);
    // Where "Scan for Bluetooth devices…" gets its scanner (the ble plugin's); without one the
    // action is disabled.
    void setBleScannerFactory(BleScanDialog::ScannerFactory factory);
    // Asking before a rollback is right for people; tests switch it off.
    void setConfirmRollback(bool confirm) { m_confirmRollback = confirm; }

    // Writes the devices the list shows now (its filter applied, in its order) as CSV
    // (fleet/DeviceExport.h); File > Export devices… asks for the file.
    [[nodiscard]] Status exportShownDevices(const QString& path) const;

public Q_SLOTS:
    // The dialogs are window-modal and delete themselves when closed; returned for tests.
    AddDeviceDialog* openAddDeviceDialog();
    // "Connect to server…": on Connect, connectRequested() with what was chosen.
    ConnectDialog* openConnectDialog();
    UpdateDialog* openUpdateDialog();
    // Scans for Bluetooth LE devices offering SMP and adds the chosen one; null without a
    // scanner factory.
    BleScanDialog* openBleScanDialog();
    // The report of one bundle (the console was started with a .otab, e.g. from the file
    // manager): checked against the selected device, or against the fleet's trust alone.
    UpdateDialog* openBundleReport(const QString& path);
    // Opens the bundle report for the files the desktop hands to the running application
    // (QFileOpenEvent: what macOS's Finder sends instead of a command-line argument).
    void acceptFileOpenEvents(QCoreApplication& app);
    void chooseDeviceExport();
    // The rollout wizard, its targets pre-filled with the device filter in use; null before
    // addRollouts().
    RolloutWizard* openRolloutWizard();
    void rollbackSelected();
    void refreshAll();
    // Shows the device list filtered by `expression` (fleet::DeviceQuery); a bad expression is
    // explained in the status bar and leaves the list as it was.
    void showDevicesMatching(const QString& expression);

Q_SIGNALS:
    // The user chose a server; the application opens a window on its fleet.
    void connectRequested(const otafleet::ui::ServerChoice& choice);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void createActions();
    void updateConnection();
    void showConnectionLine();
    void updateActions();
    void showSelected();
    void onOperationFinished(qint64 id, link::LinkOperation operation,
                             const std::optional<Error>& error);
    void updateSummary();
    void applyFilterBar();
    void addDeviceBrowser(QWidget* devicePane);

    fleet::FleetService& m_fleet;
    DeviceTableModel* m_model = nullptr;
    DeviceFilterProxy* m_filter = nullptr;
    QTabWidget* m_tabs = nullptr;
    DashboardView* m_dashboard = nullptr;
    QLineEdit* m_filterBar = nullptr;
    QTableView* m_table = nullptr;
    DeviceBrowser* m_browser = nullptr;
    DeviceDetailsPane* m_details = nullptr;
    QLabel* m_summary = nullptr;
    QLabel* m_connection = nullptr;
    QTimer m_connectionTick;  // redraws the retry countdown while reconnecting
    QAction* m_addAction = nullptr;
    QAction* m_scanBleAction = nullptr;
    BleScanDialog::ScannerFactory m_bleScanners;
    QAction* m_updateAction = nullptr;
    QAction* m_rollbackAction = nullptr;
    QAction* m_refreshAction = nullptr;
    QAction* m_commitAction = nullptr;
    QAction* m_rebootAction = nullptr;
    QAction* m_removeAction = nullptr;
    bool m_confirmRollback = true;
    fleet::RolloutService* m_rollouts = nullptr;
    QString m_rolloutUser;
    QString m_releaseDirectory;
    RolloutsView* m_rolloutsView = nullptr;
    ApprovalInbox* m_inbox = nullptr;
    TelemetryView* m_telemetryView = nullptr;
    ReleasesView* m_releasesView = nullptr;
};

}  // namespace otafleet::ui
