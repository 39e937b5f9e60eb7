#include "ui/DeviceBrowser.h"

#include "fleet/DeviceExport.h"
#include "fleet/DeviceQuery.h"
#include "ui/PagedDeviceModel.h"

#include <QAction>
#include <QDir>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QProgressDialog>
#include <QTableView>
#include <QToolBar>
#include <QVBoxLayout>
#include <QtConcurrentRun>

#include <algorithm>

namespace otafleet::ui {

namespace {

constexpr int kRowPadding = 10;

QString quotedValue(const QString& value) {
    QString escaped = value;
    escaped.replace(u'\\', QStringLiteral("\\\\"));
    escaped.replace(u'"', QStringLiteral("\\\""));
    return u'"' + escaped + u'"';
}

// The sentence before a bulk change: what happens to how many devices.
QString question(fleet::BulkAction action, qsizetype count, const QString& value) {
    switch (action) {
        case fleet::BulkAction::Tag:
            return DeviceBrowser::tr("Tag %n device(s) with \"%1\"?", nullptr, int(count))
                .arg(value);
        case fleet::BulkAction::Untag:
            return DeviceBrowser::tr("Remove the tag \"%1\" from %n device(s)?", nullptr,
                                     int(count))
                .arg(value);
        case fleet::BulkAction::Group:
            return value.isEmpty() ? DeviceBrowser::tr("Take %n device(s) out of their group?",
                                                       nullptr, int(count))
                                   : DeviceBrowser::tr("Put %n device(s) in the group \"%1\"?",
                                                       nullptr, int(count))
                                         .arg(value);
        case fleet::BulkAction::Decommission:
            return DeviceBrowser::tr(
                "Decommission %n device(s)? The server refuses their sessions from now "
                "on; this cannot be undone from the console.",
                nullptr, int(count));
    }
    return QString();
}

QString pastTense(fleet::BulkAction action) {
    switch (action) {
        case fleet::BulkAction::Tag:
            return DeviceBrowser::tr("Tagged");
        case fleet::BulkAction::Untag:
            return DeviceBrowser::tr("Untagged");
        case fleet::BulkAction::Group:
            return DeviceBrowser::tr("Regrouped");
        case fleet::BulkAction::Decommission:
            return DeviceBrowser::tr("Decommissioned");
    }
    return QString();
}

}  // namespace

DeviceBrowser::DeviceBrowser(std::shared_ptr<fleet::DevicePageSource> source, QWidget* parent)
    : QWidget(parent), m_source(std::move(source)) {
    m_model = new PagedDeviceModel(*m_source, this);
    m_table = new QTableView;
    m_table->setObjectName(QStringLiteral("pagedDevices"));
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setAlternatingRowColors(true);
    m_table->setShowGrid(false);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->hide();
    // Uniform row heights: the view never asks a row's size, so a million rows cost nothing
    // until they are shown.
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + kRowPadding);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_table->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    m_table->horizontalHeader()->setSortIndicator(-1, Qt::AscendingOrder);
    m_table->setSortingEnabled(true);  // header clicks become the store's ORDER BY
    const QList<int> widths = {150, 100, 80, 80, 90, 110, 120};
    for (int column = 0; column < widths.size(); ++column)
        m_table->setColumnWidth(column, widths.at(column));

    m_filterBar = new QLineEdit;
    m_filterBar->setObjectName(QStringLiteral("pagedDeviceFilter"));
    m_filterBar->setClearButtonEnabled(true);
    m_filterBar->setPlaceholderText(
        tr("Filter, e.g. model = gateway-x1 and tag = pilot, or words to search (Enter)"));
    m_filterBar->setToolTip(
        tr("Fields: model, hardware, version, tag, group, name, id, state (online or offline); "
           "operators = != < <= > >=; and, or, not, parentheses. Words without an operator "
           "search id, name, serial, model, hardware and version."));
    connect(m_filterBar, &QLineEdit::returnPressed, this, &DeviceBrowser::applyFilterBar);
    connect(m_filterBar, &QLineEdit::textChanged, this, [this](const QString& text) {
        if (text.trimmed().isEmpty() &&
            (!m_model->filterExpression().isEmpty() || !m_model->filterText().isEmpty()))
            applyFilterBar();
    });
    m_count = new QLabel;
    m_count->setObjectName(QStringLiteral("pagedDeviceCount"));

    m_toolbar = new QToolBar;
    m_toolbar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    const auto addBulk = [this](fleet::BulkAction action, const QString& text, const QString& tip) {
        auto* a = new QAction(text, this);
        a->setObjectName(QStringLiteral("bulk-") + fleet::bulkActionName(action));
        a->setStatusTip(tip);
        a->setProperty("tip", tip);
        connect(a, &QAction::triggered, this, [this, action] { runBulk(action); });
        m_toolbar->addAction(a);
        m_bulkActions.append({action, a});
    };
    addBulk(fleet::BulkAction::Tag, tr("&Tag…"), tr("Add a tag to the selected devices"));
    addBulk(fleet::BulkAction::Untag, tr("&Untag…"), tr("Remove a tag from the selected devices"));
    addBulk(fleet::BulkAction::Group, tr("&Group…"),
            tr("Put the selected devices in a group (empty: no group)"));
    addBulk(fleet::BulkAction::Decommission, tr("&Decommission…"),
            tr("Retire the selected devices: the server refuses their sessions"));
    m_toolbar->addSeparator();
    m_update = new QAction(tr("Up&date…"), this);
    m_update->setObjectName(QStringLiteral("bulk-update"));
    m_update->setProperty("tip", tr("Roll a release out to the selected devices (the rollout "
                                    "wizard, its targets set to them)"));
    connect(m_update, &QAction::triggered, this, &DeviceBrowser::requestUpdate);
    m_toolbar->addAction(m_update);
    m_export = new QAction(tr("E&xport…"), this);
    m_export->setToolTip(tr("Save the devices the list shows (its filter and order) as CSV"));
    connect(m_export, &QAction::triggered, this, &DeviceBrowser::chooseExport);
    m_toolbar->addAction(m_export);
    m_table->setContextMenuPolicy(Qt::ActionsContextMenu);
    for (const auto& [action, a] : std::as_const(m_bulkActions))
        m_table->addAction(a);
    m_table->addAction(m_update);

    auto* bar = new QHBoxLayout;
    bar->setContentsMargins(0, 0, 8, 0);  // the count does not touch the window's edge
    bar->setSpacing(10);
    bar->addWidget(m_filterBar, 1);
    bar->addWidget(m_count);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(bar);
    layout->addWidget(m_toolbar);
    layout->addWidget(m_table);

    connect(m_model, &PagedDeviceModel::queryFinished, this, &DeviceBrowser::updateCount);
    connect(m_model, &PagedDeviceModel::rowsInserted, this, &DeviceBrowser::updateCount);
    connect(m_model, &PagedDeviceModel::rowsRemoved, this, &DeviceBrowser::updateCount);
    connect(m_model, &PagedDeviceModel::fetchFailed, this,
            [this](const Error& error) { Q_EMIT message(error.message); });
    connect(m_model, &PagedDeviceModel::modelReset, this, &DeviceBrowser::updateActions);
    connect(m_model, &PagedDeviceModel::dataChanged, this,
            [this](const QModelIndex& from, const QModelIndex& to) {
                const int current = m_table->currentIndex().row();
                if (current >= from.row() && current <= to.row())
                    Q_EMIT currentDeviceChanged();
            });
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &DeviceBrowser::updateActions);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &DeviceBrowser::currentDeviceChanged);
    connect(&m_bulk, &QFutureWatcherBase::progressValueChanged, this, [this](int value) {
        if (m_progress)
            m_progress->setValue(value);
    });
    connect(&m_bulk, &QFutureWatcherBase::finished, this, [this] {
        const int total = m_progress ? m_progress->maximum() : 0;
        if (m_progress)
            m_progress->deleteLater();
        if (m_bulk.future().resultCount() == 0)
            return;
        const Result<fleet::BulkOutcome> outcome = m_bulk.result();
        if (!outcome) {
            Q_EMIT message(outcome.error().message);
        } else {
            QString text = tr("%1 %2 of %3 devices")
                               .arg(pastTense(m_bulkAction))
                               .arg(outcome->changed)
                               .arg(total);
            if (outcome->cancelled)
                text += tr(" (cancelled; the rest are unchanged)");
            if (!outcome->failed.isEmpty()) {
                text +=
                    tr("; %n failed, e.g. %1: %2", nullptr, int(outcome->failed.size()))
                        .arg(outcome->failed.first().first, outcome->failed.first().second.message);
            }
            Q_EMIT message(text);
        }
        m_lastOutcome = outcome;
        m_model->refresh();
        updateActions();
        Q_EMIT bulkFinished();
    });
    m_refresh.setInterval(kRefreshMs);
    connect(&m_refresh, &QTimer::timeout, this, &DeviceBrowser::refresh);
    m_refresh.start();
    updateActions();
}

DeviceBrowser::~DeviceBrowser() {
    if (m_bulkStop)
        m_bulkStop->store(true);
    // The view and the model go before m_source, which the model reads.
    delete m_table;
    delete m_model;
}

QAction* DeviceBrowser::action(fleet::BulkAction action) const {
    for (const auto& [a, qaction] : m_bulkActions) {
        if (a == action)
            return qaction;
    }
    return nullptr;
}

std::optional<fleet::DeviceRow> DeviceBrowser::currentDevice() const {
    const QModelIndex current = m_table->currentIndex();
    return current.isValid() ? m_model->rowAt(current.row()) : std::nullopt;
}

QString DeviceBrowser::filterExpression() const {
    return m_model->filterExpression();
}

QList<int> DeviceBrowser::selectedRows() const {
    QList<int> rows;
    // Ranges, not indexes: a shift-click over 100,000 rows is one range.
    for (const QItemSelectionRange& range : m_table->selectionModel()->selection()) {
        for (int row = range.top(); row <= range.bottom(); ++row)
            rows.append(row);
        if (rows.size() > fleet::BulkRequest::kMaxDevices)
            break;
    }
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    return rows;
}

void DeviceBrowser::updateActions() {
    const bool running = m_bulk.isRunning();
    const bool any = m_table->selectionModel()->hasSelection();
    for (const auto& [action, a] : std::as_const(m_bulkActions)) {
        const std::optional<QString> blocker = m_source->bulkBlocker(action);
        a->setEnabled(!blocker && any && !running);
        a->setToolTip(blocker ? *blocker
                      : any   ? a->property("tip").toString()
                              : tr("Select devices first (Shift or Ctrl for several)"));
    }
    m_update->setEnabled(any && !running);
    m_update->setToolTip(m_update->property("tip").toString());
}

void DeviceBrowser::updateCount() {
    const int shown = m_model->rowCount();
    const bool filtered =
        !m_model->filterExpression().isEmpty() || !m_model->filterText().isEmpty();
    if (!filtered)
        m_unfiltered = shown;
    const QLocale locale;
    m_count->setText(
        filtered && m_unfiltered >= 0
            ? tr("%1 of %2 devices").arg(locale.toString(shown), locale.toString(m_unfiltered))
            : tr("%1 devices").arg(locale.toString(shown)));
}

void DeviceBrowser::applyFilterBar() {
    const QString text = m_filterBar->text().trimmed();
    Status applied = m_model->setFilter(text);
    if (!applied) {
        // Plain words are a search; anything with an operator was meant as an expression.
        static const QString operators = QStringLiteral("=<>!()");
        const bool words =
            std::none_of(text.cbegin(), text.cend(), [](QChar c) { return operators.contains(c); });
        if (words)
            applied = m_model->setFilter({}, text);
    }
    if (!applied)
        Q_EMIT message(applied.error().message);
}

void DeviceBrowser::showDevicesMatching(const QString& expression) {
    m_filterBar->setText(expression);
    applyFilterBar();
}

void DeviceBrowser::refresh() {
    if (!m_bulk.isRunning())
        m_model->refresh();
}

void DeviceBrowser::runBulk(fleet::BulkAction action) {
    if (const auto blocker = m_source->bulkBlocker(action)) {
        Q_EMIT message(*blocker);
        return;
    }
    const QList<int> rows = selectedRows();
    if (rows.isEmpty() || m_bulk.isRunning())
        return;
    QString value = m_presetValue;
    if (m_confirm && action != fleet::BulkAction::Decommission) {
        bool ok = false;
        const QString label =
            action == fleet::BulkAction::Group
                ? tr("Group for %n device(s) (empty: no group):", nullptr, int(rows.size()))
                : tr("Tag:");
        value = QInputDialog::getText(this, tr("Selected devices"), label, QLineEdit::Normal,
                                      QString(), &ok)
                    .trimmed();
        if (!ok)
            return;
    }
    fleet::BulkRequest request;
    request.action = action;
    request.value = value;
    request.reason = tr("decommissioned from the console");
    // Rows whose pages are not here (a selection over thousands) are read first.
    m_model->collectKeys(rows, [this, request](const Result<QStringList>& keys) mutable {
        if (!keys) {
            Q_EMIT message(keys.error().message);
            return;
        }
        request.keys = *keys;
        if (auto ok = fleet::checkBulkRequest(request); !ok) {
            Q_EMIT message(ok.error().message);
            return;
        }
        if (m_confirm && QMessageBox::question(this, tr("Selected devices"),
                                               question(request.action, request.keys.size(),
                                                        request.value)) != QMessageBox::Yes)
            return;
        startBulk(std::move(request));
    });
}

void DeviceBrowser::startBulk(fleet::BulkRequest request) {
    m_bulkAction = request.action;
    m_bulkStop = request.stop;
    auto* progress = new QProgressDialog(
        tr("%1 %n device(s)…", nullptr, int(request.keys.size()))
            .arg(question(request.action, request.keys.size(), request.value).section(u' ', 0, 0)),
        tr("Cancel"), 0, int(request.keys.size()), this);
    progress->setWindowTitle(tr("Selected devices"));
    progress->setWindowModality(Qt::WindowModal);
    progress->setMinimumDuration(500);  // short work finishes without a flash
    progress->setAutoClose(false);
    progress->setAutoReset(false);
    connect(progress, &QProgressDialog::canceled, this,
            [stop = request.stop] { stop->store(true); });
    m_progress = progress;
    m_bulk.setFuture(m_source->apply(request));
    updateActions();
}

void DeviceBrowser::requestUpdate() {
    const QList<int> rows = selectedRows();
    if (rows.isEmpty())
        return;
    if (rows.size() > kMaxUpdateTargets) {
        // A rollout's target is a filter expression; past a few hundred ids, a filter, tag or
        // group says it better.
        if (m_model->filterExpression().isEmpty() || rows.size() != m_model->rowCount()) {
            Q_EMIT message(tr("%1 devices are selected; update at most %2 by hand, or tag them "
                              "(Tag…) and roll out to the tag.")
                               .arg(rows.size())
                               .arg(kMaxUpdateTargets));
            return;
        }
        Q_EMIT updateRequested(m_model->filterExpression());
        return;
    }
    m_model->collectKeys(rows, [this](const Result<QStringList>& keys) {
        if (!keys) {
            Q_EMIT message(keys.error().message);
            return;
        }
        QStringList parts;
        for (const QString& key : *keys)
            parts << QStringLiteral("id = ") + quotedValue(key);
        Q_EMIT updateRequested(parts.join(QStringLiteral(" or ")));
    });
}

void DeviceBrowser::chooseExport() {
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export devices"), QStringLiteral("devices.csv"), tr("CSV files (*.csv)"));
    if (!path.isEmpty())
        exportShown(path);
}

void DeviceBrowser::exportShown(const QString& path) {
    fleet::DevicePageRequest request;
    request.filter = m_model->filterExpression();
    request.text = m_model->filterText();
    request.sort = m_model->sortKey();
    request.descending = m_model->sortDescending();
    auto* watcher = new QFutureWatcher<Status>(this);
    auto stop = std::make_shared<std::atomic<bool>>(false);
    connect(this, &QObject::destroyed, watcher, [stop] { stop->store(true); });
    connect(watcher, &QFutureWatcher<Status>::finished, this, [this, watcher, path] {
        watcher->deleteLater();
        const Status written = watcher->result();
        Q_EMIT message(written
                           ? tr("Saved the shown devices to %1").arg(QDir::toNativeSeparators(path))
                           : written.error().message);
        Q_EMIT exportFinished(written.has_value(),
                              written ? QString() : written.error().toString());
    });
    Q_EMIT message(tr("Exporting %n device(s)…", nullptr, m_model->rowCount()));
    // The pages are read on the source's thread; this task only waits for them.
    watcher->setFuture(QtConcurrent::run([source = m_source, request, path, stop] {
        return fleet::writeDevicePagesCsv(path, *source, request, *stop);
    }));
}

}  // namespace otafleet::ui
