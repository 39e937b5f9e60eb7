#include "ui/RolloutsView.h"

#include "ui/RolloutMonitor.h"
#include "ui/RolloutTableModel.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

namespace otafleet::ui {

RolloutsView::RolloutsView(fleet::RolloutService& rollouts, fleet::FleetService& fleet,
                           QString user, QWidget* parent)
    : QWidget(parent) {
    m_model = new RolloutTableModel(rollouts, this);
    m_table = new QTableView;
    m_table->setObjectName(QStringLiteral("rollouts"));
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setShowGrid(false);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    m_table->setColumnWidth(RolloutTableModel::Name, 220);
    m_table->setColumnWidth(RolloutTableModel::State, 130);
    m_table->setColumnWidth(RolloutTableModel::Progress, 150);
    m_table->setColumnWidth(RolloutTableModel::Wave, 80);
    m_table->setColumnWidth(RolloutTableModel::Author, 90);

    m_new = new QPushButton(tr("&New rollout…"));
    m_new->setObjectName(QStringLiteral("newRollout"));
    connect(m_new, &QPushButton::clicked, this, &RolloutsView::newRolloutRequested);
    const auto updateNew = [this, &rollouts] {
        const std::optional<QString> blocker = rollouts.createBlocker();
        m_new->setEnabled(!blocker);
        m_new->setToolTip(blocker ? *blocker
                                  : tr("Plan a rollout of a release to a selection of devices"));
    };
    connect(&rollouts, &fleet::RolloutService::permissionsChanged, this, updateNew);
    updateNew();

    m_monitor = new RolloutMonitor(rollouts, fleet, std::move(user));

    auto* top = new QWidget;
    auto* topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_new);
    buttons->addStretch();
    topLayout->addLayout(buttons);
    topLayout->addWidget(m_table);
    auto* splitter = new QSplitter(Qt::Vertical);
    splitter->addWidget(top);
    splitter->addWidget(m_monitor);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 3);
    // Room for a handful of rollouts above the monitor; the splitter lets a user change it.
    splitter->setSizes({m_table->verticalHeader()->defaultSectionSize() * 6, 600});
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(splitter);

    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            [this] { m_monitor->setRollout(selectedRollout()); });
    connect(m_model, &QAbstractItemModel::rowsInserted, this, [this] {
        if (selectedRollout() == 0)
            m_table->selectRow(0);
    });
    if (m_model->rowCount() > 0)
        m_table->selectRow(0);
}

qint64 RolloutsView::selectedRollout() const {
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    return rows.isEmpty() ? 0 : rows.first().data(RolloutTableModel::RolloutIdRole).toLongLong();
}

void RolloutsView::selectRollout(qint64 id) {
    if (const int row = m_model->rowOf(id); row >= 0)
        m_table->selectRow(row);
}

}  // namespace otafleet::ui
