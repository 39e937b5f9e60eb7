#include "ui/MainWindow.h"

#include "ui/AddDeviceDialog.h"
#include "ui/ApprovalInbox.h"
#include "ui/ConnectDialog.h"
#include "ui/DashboardView.h"
#include "ui/DeviceBrowser.h"
#include "ui/DeviceDetailsPane.h"
#include "ui/DeviceFilterProxy.h"
#include "ui/DeviceTableModel.h"
#include "ui/ReleasesView.h"
#include "ui/RolloutWizard.h"
#include "ui/RolloutsView.h"
#include "ui/TelemetryView.h"
#include "ui/UpdateDialog.h"

#include "fleet/DeviceExport.h"

#include <QAction>
#include <QApplication>
#include <QDir>
#include <QFileDialog>
#include <QFileOpenEvent>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QToolBar>
#include <QVBoxLayout>

// The icons are compiled into this static library; without an explicit call the linker would
// drop their initializer because nothing refers to it. Must be outside any namespace.
static void initUiResources() {
    Q_INIT_RESOURCE(otafleet);
}

namespace otafleet::ui {

namespace {
constexpr int kStatusMessageMs = 8000;
constexpr int kRowPadding = 10;
}  // namespace

MainWindow::MainWindow(fleet::FleetService& fleet, QWidget* parent)
    : QMainWindow(parent), m_fleet(fleet) {
    initUiResources();
    setWindowTitle(tr("otafleet"));
    setWindowIcon(QIcon(QStringLiteral(":/otafleet/icons/otafleet.svg")));
    m_model = new DeviceTableModel(m_fleet, this);
    m_filter = new DeviceFilterProxy(m_fleet, this);
    m_filter->setSourceModel(m_model);

    m_table = new QTableView;
    m_table->setObjectName(QStringLiteral("devices"));
    m_table->setModel(m_filter);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setAlternatingRowColors(true);
    m_table->setShowGrid(false);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->hide();
    // Fixed row heights: the view never measures rows, so thousands of devices stay fast.
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + kRowPadding);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_table->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    const QList<int> widths = {150, 110, 90, 90, 130, 130};
    for (int column = 0; column < widths.size(); ++column)
        m_table->setColumnWidth(column, widths.at(column));

    m_details = new DeviceDetailsPane;
    m_details->setMinimumWidth(280);
    m_filterBar = new QLineEdit;
    m_filterBar->setObjectName(QStringLiteral("deviceFilter"));
    m_filterBar->setClearButtonEnabled(true);
    m_filterBar->setPlaceholderText(
        tr("Filter, e.g. model = gateway-x1 and version < 1.2.0 (Enter to apply)"));
    m_filterBar->setToolTip(
        tr("Fields: model, hardware, version, name, id, state (online or "
           "offline); operators = != < <= > >=; and, or, not, parentheses"));
    connect(m_filterBar, &QLineEdit::returnPressed, this, &MainWindow::applyFilterBar);
    // Clearing with the button shows every device again without an Enter.
    connect(m_filterBar, &QLineEdit::textChanged, this, [this](const QString& text) {
        if (text.trimmed().isEmpty() && !m_filter->expression().isEmpty())
            applyFilterBar();
    });
    auto* devicePane = new QWidget;
    auto* deviceLayout = new QVBoxLayout(devicePane);
    deviceLayout->setContentsMargins(0, 0, 0, 0);
    deviceLayout->addWidget(m_filterBar);
    deviceLayout->addWidget(m_table);
    addDeviceBrowser(devicePane);
    auto* splitter = new QSplitter;
    splitter->addWidget(devicePane);
    splitter->addWidget(m_details);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 1);
    m_dashboard = new DashboardView(m_fleet);
    connect(m_dashboard, &DashboardView::filterRequested, this, &MainWindow::showDevicesMatching);
    m_tabs = new QTabWidget;
    m_tabs->setDocumentMode(true);
    m_tabs->addTab(splitter, tr("De&vices"));
    m_tabs->addTab(m_dashboard, tr("Das&hboard"));
    setCentralWidget(m_tabs);

    m_summary = new QLabel;
    m_connection = new QLabel;
    m_connection->setObjectName(QStringLiteral("connection"));
    m_connection->setTextFormat(Qt::RichText);
    m_connection->setContentsMargins(12, 0, 4, 0);
    statusBar()->addPermanentWidget(m_summary);
    statusBar()->addPermanentWidget(m_connection);
    createActions();
    connect(&m_fleet, &fleet::FleetService::connectionChanged, this, &MainWindow::updateConnection);
    m_connectionTick.setInterval(1000);
    connect(&m_connectionTick, &QTimer::timeout, this, &MainWindow::showConnectionLine);
    updateConnection();

    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &MainWindow::showSelected);
    connect(&m_fleet, &fleet::FleetService::deviceChanged, this, [this](qint64 id) {
        if (id == selectedDeviceId())
            showSelected();
        updateSummary();
    });
    connect(&m_fleet, &fleet::FleetService::deviceAdded, this, &MainWindow::updateSummary);
    connect(&m_fleet, &fleet::FleetService::deviceRemoved, this, &MainWindow::updateSummary);
    connect(&m_fleet, &fleet::FleetService::operationFinished, this,
            &MainWindow::onOperationFinished);
    connect(m_filter, &QAbstractItemModel::modelReset, this, &MainWindow::showSelected);
    // Something is always selected when there is something to select: the details pane and the
    // actions then have a subject without an extra click.
    connect(m_filter, &QAbstractItemModel::rowsInserted, this, [this] {
        if (selectedDeviceId() == 0)
            m_table->selectRow(0);
    });
    if (m_filter->rowCount() > 0)
        m_table->selectRow(0);
    updateSummary();
    showSelected();
    resize(1180, 640);
}

MainWindow::~MainWindow() = default;

void MainWindow::createActions() {
    const auto icon = [](const char* name) {
        return QIcon(QStringLiteral(":/otafleet/icons/%1.svg").arg(QLatin1String(name)));
    };
    m_addAction = new QAction(icon("add"), tr("&Add device…"), this);
    m_addAction->setShortcut(QKeySequence::New);
    m_scanBleAction = new QAction(tr("Scan for &Bluetooth devices…"), this);
    m_scanBleAction->setToolTip(tr("Find microcontrollers offering MCUmgr over Bluetooth LE"));
    m_scanBleAction->setEnabled(false);  // until a scanner factory is set
    m_updateAction = new QAction(icon("update"), tr("&Update…"), this);
    m_updateAction->setShortcut(tr("Ctrl+U"));
    m_rollbackAction = new QAction(icon("rollback"), tr("&Roll back"), this);
    m_refreshAction = new QAction(icon("refresh"), tr("Re&fresh"), this);
    m_refreshAction->setShortcut(QKeySequence::Refresh);
    m_commitAction = new QAction(tr("&Commit trial"), this);
    m_rebootAction = new QAction(tr("Re&boot"), this);
    m_removeAction = new QAction(tr("Re&move from fleet"), this);
    m_addAction->setToolTip(tr("Add a device by its address"));
    m_updateAction->setToolTip(
        tr("Install a signed bundle (an MCUboot image on a microcontroller) on the selected "
           "device"));
    m_rollbackAction->setToolTip(tr("Boot the selected device from its other slot"));
    m_refreshAction->setToolTip(tr("Ask every device for its state"));

    connect(m_addAction, &QAction::triggered, this, &MainWindow::openAddDeviceDialog);
    connect(m_scanBleAction, &QAction::triggered, this, &MainWindow::openBleScanDialog);
    connect(m_updateAction, &QAction::triggered, this, &MainWindow::openUpdateDialog);
    connect(m_rollbackAction, &QAction::triggered, this, &MainWindow::rollbackSelected);
    connect(m_refreshAction, &QAction::triggered, this, &MainWindow::refreshAll);
    const auto report = [this](const Status& status) {
        if (!status)
            statusBar()->showMessage(status.error().message, kStatusMessageMs);
    };
    connect(m_commitAction, &QAction::triggered, this,
            [this, report] { report(m_fleet.commit(selectedDeviceId())); });
    connect(m_rebootAction, &QAction::triggered, this,
            [this, report] { report(m_fleet.reboot(selectedDeviceId())); });
    connect(m_removeAction, &QAction::triggered, this,
            [this, report] { report(m_fleet.removeDevice(selectedDeviceId())); });

    auto* toolbar = addToolBar(tr("Devices"));
    toolbar->setObjectName(QStringLiteral("mainToolbar"));
    toolbar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    toolbar->setMovable(false);
    toolbar->addAction(m_addAction);
    toolbar->addAction(m_scanBleAction);
    toolbar->addSeparator();
    toolbar->addAction(m_updateAction);
    toolbar->addAction(m_rollbackAction);
    toolbar->addSeparator();
    toolbar->addAction(m_refreshAction);

    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* connectAction =
        file->addAction(tr("&Connect to server…"), this, &MainWindow::openConnectDialog);
    connectAction->setShortcut(tr("Ctrl+Shift+O"));
    connectAction->setToolTip(tr("Open the fleet of an otafleetd in a new window"));
    QAction* exportAction =
        file->addAction(tr("&Export devices…"), this, &MainWindow::chooseDeviceExport);
    exportAction->setShortcut(tr("Ctrl+Shift+E"));
    exportAction->setToolTip(tr("Save the devices the list shows (with its filter) as CSV"));
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), qApp, &QApplication::closeAllWindows);
    quit->setShortcut(QKeySequence::Quit);
    QMenu* device = menuBar()->addMenu(tr("&Device"));
    device->addAction(m_addAction);
    device->addAction(m_scanBleAction);
    device->addSeparator();
    device->addAction(m_updateAction);
    device->addAction(m_commitAction);
    device->addAction(m_rollbackAction);
    device->addAction(m_rebootAction);
    device->addSeparator();
    device->addAction(m_refreshAction);
    device->addAction(m_removeAction);
    m_table->setContextMenuPolicy(Qt::ActionsContextMenu);
    m_table->addActions(
        {m_updateAction, m_commitAction, m_rollbackAction, m_rebootAction, m_removeAction});
}

qint64 MainWindow::selectedDeviceId() const {
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    return rows.isEmpty() ? 0 : rows.first().data(DeviceTableModel::DeviceIdRole).toLongLong();
}

void MainWindow::selectDevice(qint64 id) {
    const int row = m_model->rowOf(id);
    const QModelIndex index =
        row >= 0 ? m_filter->mapFromSource(m_model->index(row, 0)) : QModelIndex();
    if (index.isValid())
        m_table->selectRow(index.row());
}

void MainWindow::addDeviceBrowser(QWidget* devicePane) {
    auto pages = m_fleet.devicePages();
    if (!pages)
        return;
    // A fleet that pages its devices may be far larger than devices() holds: the paged list
    // takes the table's place (the table stays, hidden, for what still reads it).
    m_browser = new DeviceBrowser(std::move(pages));
    m_filterBar->hide();
    m_table->hide();
    devicePane->layout()->addWidget(m_browser);
    connect(m_browser, &DeviceBrowser::message, this,
            [this](const QString& text) { statusBar()->showMessage(text, kStatusMessageMs); });
    connect(m_browser, &DeviceBrowser::currentDeviceChanged, this, [this] {
        // The details of a device the fleet's mirror holds; one past it shows nothing.
        const auto row = m_browser->currentDevice();
        std::optional<fleet::FleetDevice> shown;
        if (row) {
            for (const fleet::FleetDevice& d : m_fleet.devices()) {
                if (d.snapshot && d.snapshot->deviceId == row->key) {
                    shown = d;
                    break;
                }
            }
        }
        m_details->setDevice(shown);
    });
    connect(m_browser, &DeviceBrowser::updateRequested, this, [this](const QString& target) {
        if (RolloutWizard* wizard = openRolloutWizard())
            wizard->setTargetFilter(target);
    });
}

void MainWindow::showDevicesMatching(const QString& expression) {
    if (m_browser)
        m_browser->showDevicesMatching(expression);
    m_filterBar->setText(expression);
    applyFilterBar();
    m_tabs->setCurrentIndex(0);
}

void MainWindow::applyFilterBar() {
    if (auto applied = m_filter->setExpression(m_filterBar->text()); !applied) {
        statusBar()->showMessage(applied.error().message, kStatusMessageMs);
        return;
    }
    if (selectedDeviceId() == 0 && m_filter->rowCount() > 0)
        m_table->selectRow(0);
    showSelected();
    if (!m_filter->expression().isEmpty())
        statusBar()->showMessage(tr("%1 of %2 devices match the filter")
                                     .arg(m_filter->rowCount())
                                     .arg(m_model->rowCount()),
                                 kStatusMessageMs);
}

void MainWindow::showSelected() {
    const qint64 id = selectedDeviceId();
    m_details->setDevice(id ? m_fleet.device(id) : std::nullopt);
    updateActions();
}

void MainWindow::updateActions() {
    if (m_fleet.connection().state != fleet::FleetConnection::State::Local) {
        // otafleetd's devices enrol by themselves and are updated by rollouts: the direct
        // actions stay visible but disabled, saying why.
        const QString why =
            tr("Devices of otafleetd are updated through rollouts; connect to "
               "a device from This workstation to act on it directly.");
        for (QAction* a : {m_addAction, m_updateAction, m_rollbackAction, m_commitAction,
                           m_rebootAction, m_removeAction}) {
            a->setEnabled(false);
            a->setToolTip(why);
        }
        return;
    }
    const auto device = m_fleet.device(selectedDeviceId());
    const bool idle = device && !device->running;
    m_updateAction->setEnabled(idle);
    m_rollbackAction->setEnabled(idle && device->snapshot);
    m_commitAction->setEnabled(idle && device->snapshot && device->snapshot->trial);
    m_rebootAction->setEnabled(idle);
    // Removing a device tears down its link; never while an operation runs on it.
    m_removeAction->setEnabled(idle);
}

void MainWindow::showConnectionLine() {
    const fleet::FleetConnection c = m_fleet.connection();
    using State = fleet::FleetConnection::State;
    // A coloured dot says at a glance whether the view is live.
    const QString dot = c.state == State::Online    ? QStringLiteral("#2e9d4f")
                        : c.state == State::Refused ? QStringLiteral("#c62828")
                        : c.state == State::Local   ? QString()
                                                    : QStringLiteral("#e0a000");
    m_connection->setText(dot.isEmpty() ? c.text()
                                        : QStringLiteral("<span style=\"color:%1\">●</span> %2")
                                              .arg(dot, c.text().toHtmlEscaped()));
    // "retrying in N s" counts down between attempts, not only when the state changes.
    const bool counting = c.state == State::Reconnecting && c.nextAttempt.isValid() &&
                          c.nextAttempt > QDateTime::currentDateTimeUtc();
    if (counting && !m_connectionTick.isActive())
        m_connectionTick.start();
    else if (!counting)
        m_connectionTick.stop();
}

void MainWindow::updateConnection() {
    const fleet::FleetConnection c = m_fleet.connection();
    using State = fleet::FleetConnection::State;
    showConnectionLine();
    m_connection->setToolTip(c.error ? c.error->toString() : QString());
    if (c.error && c.state != State::Online)
        statusBar()->showMessage(c.error->message, kStatusMessageMs);
    const bool remote = c.state != State::Local;
    setWindowTitle(remote ? tr("otafleet — %1").arg(c.where) : tr("otafleet"));
    updateActions();
}

ConnectDialog* MainWindow::openConnectDialog() {
    auto* dialog = new ConnectDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this,
            [this, dialog] { Q_EMIT connectRequested(dialog->choice()); });
    dialog->open();
    return dialog;
}

Status MainWindow::exportShownDevices(const QString& path) const {
    QList<fleet::FleetDevice> shown;
    shown.reserve(m_filter->rowCount());
    for (int row = 0; row < m_filter->rowCount(); ++row) {
        const qint64 id = m_filter->index(row, 0).data(DeviceTableModel::DeviceIdRole).toLongLong();
        if (auto d = m_fleet.device(id))
            shown.append(*d);
    }
    return fleet::writeDevicesCsv(path, shown, QDateTime::currentDateTimeUtc());
}

void MainWindow::chooseDeviceExport() {
    if (m_browser) {
        m_browser->chooseExport();
        return;
    }
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export devices"), QStringLiteral("devices.csv"), tr("CSV files (*.csv)"));
    if (path.isEmpty())
        return;
    if (auto written = exportShownDevices(path); !written) {
        QMessageBox::warning(this, tr("Export devices"), written.error().toString());
        return;
    }
    statusBar()->showMessage(tr("Saved %n device(s) to %1", nullptr, m_filter->rowCount())
                                 .arg(QDir::toNativeSeparators(path)),
                             kStatusMessageMs);
}

void MainWindow::acceptFileOpenEvents(QCoreApplication& app) {
    app.installEventFilter(this);
}

bool MainWindow::eventFilter(QObject* watched, QEvent* event) {
    if (event->type() == QEvent::FileOpen && watched == QCoreApplication::instance()) {
        // file() is empty for a URL that is not a local file; nothing of ours opens those.
        const QString path = static_cast<QFileOpenEvent*>(event)->file();
        if (!path.isEmpty()) {
            openBundleReport(path);
            return true;
        }
    }
    return QMainWindow::eventFilter(watched, event);
}

void MainWindow::updateSummary() {
    const QList<fleet::FleetDevice> all = m_fleet.devices();
    int busy = 0;
    int failing = 0;
    for (const fleet::FleetDevice& d : all) {
        busy += d.running ? 1 : 0;
        failing += d.lastError ? 1 : 0;
    }
    QString text = all.size() == 1 ? tr("1 device") : tr("%1 devices").arg(all.size());
    if (busy > 0)
        text += tr(" · %1 busy").arg(busy);
    if (failing > 0)
        text += tr(" · %1 with errors").arg(failing);
    m_summary->setText(text);
    updateActions();
}

AddDeviceDialog* MainWindow::openAddDeviceDialog() {
    auto* dialog = new AddDeviceDialog(m_fleet, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog] {
        selectDevice(dialog->addedDeviceId());
        statusBar()->showMessage(tr("Device added; contacting it…"), kStatusMessageMs);
    });
    dialog->open();
    return dialog;
}

void MainWindow::setBleScannerFactory(BleScanDialog::ScannerFactory factory) {
    m_bleScanners = std::move(factory);
    m_scanBleAction->setEnabled(static_cast<bool>(m_bleScanners));
}

BleScanDialog* MainWindow::openBleScanDialog() {
    if (!m_bleScanners)
        return nullptr;
    auto* dialog = new BleScanDialog(m_fleet, m_bleScanners, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog] {
        selectDevice(dialog->addedDeviceId());
        statusBar()->showMessage(tr("Device added; connecting to it…"), kStatusMessageMs);
    });
    dialog->open();
    dialog->startScan();
    return dialog;
}

UpdateDialog* MainWindow::openUpdateDialog() {
    const qint64 id = selectedDeviceId();
    if (!id) {
        statusBar()->showMessage(tr("Select a device to update first."), kStatusMessageMs);
        return nullptr;
    }
    auto* dialog = new UpdateDialog(m_fleet, id, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->open();
    return dialog;
}

UpdateDialog* MainWindow::openBundleReport(const QString& path) {
    auto* dialog = new UpdateDialog(m_fleet, selectedDeviceId(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setBundlePath(path);
    dialog->open();
    return dialog;
}

void MainWindow::addRollouts(fleet::RolloutService& rollouts, const QString& user,
                             const QString& releaseDirectory) {
    if (m_rollouts)
        return;
    m_rollouts = &rollouts;
    m_rolloutUser = user;
    m_releaseDirectory = releaseDirectory;
    m_rolloutsView = new RolloutsView(rollouts, m_fleet, user);
    m_inbox = new ApprovalInbox(rollouts, user);
    m_tabs->addTab(m_rolloutsView, tr("&Rollouts"));
    const int inboxTab = m_tabs->addTab(m_inbox, tr("A&pprovals"));
    const auto showPending = [this, inboxTab](int pending) {
        m_tabs->setTabText(inboxTab,
                           pending > 0 ? tr("A&pprovals (%1)").arg(pending) : tr("A&pprovals"));
    };
    connect(m_inbox, &ApprovalInbox::pendingCountChanged, this, showPending);
    showPending(m_inbox->model()->rowCount());
    connect(m_rolloutsView, &RolloutsView::newRolloutRequested, this,
            &MainWindow::openRolloutWizard);

    auto* newRollout = new QAction(tr("&New rollout…"), this);
    newRollout->setObjectName(QStringLiteral("newRolloutAction"));
    newRollout->setShortcut(tr("Ctrl+Shift+N"));
    connect(newRollout, &QAction::triggered, this, &MainWindow::openRolloutWizard);
    // A role that may not create rollouts (a server's viewer) sees why instead.
    const auto updateCreate = [this, newRollout] {
        const std::optional<QString> blocker = m_rollouts->createBlocker();
        newRollout->setEnabled(!blocker);
        newRollout->setToolTip(
            blocker ? *blocker
                    : tr("Roll a release out to the devices the filter selects, in waves"));
    };
    connect(&rollouts, &fleet::RolloutService::permissionsChanged, this, updateCreate);
    updateCreate();
    QMenu* menu = menuBar()->addMenu(tr("&Rollout"));
    menu->addAction(newRollout);
    if (auto* toolbar = findChild<QToolBar*>(QStringLiteral("mainToolbar"))) {
        toolbar->addSeparator();
        toolbar->addAction(newRollout);
    }
}

void MainWindow::addTelemetry(fleet::TelemetryService& telemetry) {
    if (m_telemetryView)
        return;
    m_telemetryView = new TelemetryView(telemetry);
    m_tabs->addTab(m_telemetryView, tr("&Telemetry"));
    auto* show = new QAction(tr("&Telemetry charts"), this);
    show->setObjectName(QStringLiteral("showTelemetry"));
    show->setShortcut(tr("Ctrl+Shift+T"));
    show->setToolTip(
        tr("Rollout progress, waves, version adoption, throughput, install "
           "durations and failure reasons as charts"));
    connect(show, &QAction::triggered, this, [this] { m_tabs->setCurrentWidget(m_telemetryView); });
    QMenu* view = menuBar()->addMenu(tr("&View"));
    view->addAction(show);
    addAction(show);  // the shortcut works wherever the focus is in the window
}

void MainWindow::addReleases(fleet::ReleaseService& releases) {
    if (m_releasesView)
        return;
    m_releasesView = new ReleasesView(releases);
    m_tabs->addTab(m_releasesView, tr("Re&leases"));
    QMenu* menu = menuBar()->addMenu(tr("Re&leases"));
    for (QAction* action : m_releasesView->menuActions()) {
        connect(action, &QAction::triggered, this,
                [this] { m_tabs->setCurrentWidget(m_releasesView); });
        menu->addAction(action);
        addAction(action);  // the shortcuts work wherever the focus is in the window
    }
}

RolloutWizard* MainWindow::openRolloutWizard() {
    if (!m_rollouts)
        return nullptr;
    if (const std::optional<QString> blocker = m_rollouts->createBlocker()) {
        statusBar()->showMessage(*blocker, kStatusMessageMs);
        return nullptr;
    }
    auto* wizard = new RolloutWizard(m_fleet, *m_rollouts, m_rolloutUser, this);
    wizard->setAttribute(Qt::WA_DeleteOnClose);
    if (!m_releaseDirectory.isEmpty())
        wizard->setReleaseDirectory(m_releaseDirectory);
    wizard->setTargetFilter(m_browser ? m_browser->filterExpression() : m_filter->expression());
    connect(wizard, &RolloutWizard::rolloutCreated, this, [this](qint64 id) {
        m_tabs->setCurrentWidget(m_rolloutsView);
        m_rolloutsView->selectRollout(id);
        statusBar()->showMessage(tr("Rollout created."), kStatusMessageMs);
    });
    wizard->open();
    return wizard;
}

void MainWindow::rollbackSelected() {
    const auto device = m_fleet.device(selectedDeviceId());
    if (!device)
        return;
    if (m_confirmRollback) {
        const auto answer = QMessageBox::question(
            this, tr("Roll back"),
            tr("Reboot %1 into the firmware of its other slot?").arg(device->displayName()));
        if (answer != QMessageBox::Yes)
            return;
    }
    if (auto started = m_fleet.rollback(device->id); !started)
        statusBar()->showMessage(started.error().message, kStatusMessageMs);
    else
        statusBar()->showMessage(tr("Rolling back %1…").arg(device->displayName()));
}

void MainWindow::refreshAll() {
    m_fleet.refreshAll();
}

void MainWindow::onOperationFinished(qint64 id, link::LinkOperation operation,
                                     const std::optional<Error>& error) {
    if (operation == link::LinkOperation::Refresh && !error)
        return;
    const auto device = m_fleet.device(id);
    const QString name = device ? device->displayName() : QString::number(id);
    if (error) {
        statusBar()->showMessage(tr("%1: %2").arg(name, error->message), kStatusMessageMs);
        return;
    }
    const QString version =
        device && device->snapshot ? device->snapshot->activeVersion() : QString();
    statusBar()->showMessage(
        tr("%1: %2 finished; running %3").arg(name, link::operationName(operation), version),
        kStatusMessageMs);
}

}  // namespace otafleet::ui
