#include "ui/ApprovalInbox.h"

#include "ui/RolloutTableModel.h"

#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

namespace otafleet::ui {

bool AwaitingApprovalModel::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const {
    return sourceModel()
        ->index(sourceRow, 0, sourceParent)
        .data(RolloutTableModel::AwaitsApprovalRole)
        .toBool();
}

ApprovalInbox::ApprovalInbox(fleet::RolloutService& rollouts, QString user, QWidget* parent)
    : QWidget(parent), m_rollouts(rollouts), m_user(std::move(user)) {
    m_source = new RolloutTableModel(m_rollouts, this);
    m_proxy = new AwaitingApprovalModel(this);
    m_proxy->setDynamicSortFilter(true);
    m_proxy->setSourceModel(m_source);

    m_table = new QTableView;
    m_table->setObjectName(QStringLiteral("approvals"));
    m_table->setModel(m_proxy);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setShowGrid(false);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    m_table->setColumnHidden(RolloutTableModel::Progress, true);
    m_table->setColumnHidden(RolloutTableModel::Wave, true);
    m_table->setColumnHidden(RolloutTableModel::PauseReason, true);
    m_table->setColumnWidth(RolloutTableModel::Name, 260);
    m_table->setColumnWidth(RolloutTableModel::State, 150);

    m_details = new QLabel;
    m_details->setObjectName(QStringLiteral("approvalDetails"));
    m_details->setWordWrap(true);
    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_message = new QLabel;
    m_message->setObjectName(QStringLiteral("approvalMessage"));
    m_message->setWordWrap(true);
    m_approve = new QPushButton(tr("A&pprove"));
    m_approve->setObjectName(QStringLiteral("approve"));
    m_reject = new QPushButton(tr("Re&ject"));
    m_reject->setObjectName(QStringLiteral("reject"));
    m_reject->setToolTip(tr("Abort the rollout: it will never be offered to any device"));
    connect(m_approve, &QPushButton::clicked, this, [this] { act(fleet::RolloutAction::Approve); });
    connect(m_reject, &QPushButton::clicked, this, [this] { act(fleet::RolloutAction::Abort); });
    connect(&m_rollouts, &fleet::RolloutService::requestFinished, this,
            [this](quint64 request, qint64, const std::optional<Error>& error) {
                if (!m_pending.remove(request))
                    return;
                m_message->setText(error ? error->message : QString());
                showSelected();
            });
    connect(&m_rollouts, &fleet::RolloutService::permissionsChanged, this,
            &ApprovalInbox::showSelected);

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_approve);
    buttons->addWidget(m_reject);
    buttons->addStretch();
    auto* intro =
        new QLabel(tr("Production rollouts start only once someone other than their "
                      "author approves them."));
    intro->setWordWrap(true);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addWidget(m_table, 1);
    layout->addWidget(m_details);
    layout->addLayout(buttons);
    layout->addWidget(m_message);

    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &ApprovalInbox::showSelected);
    const auto rowsChanged = [this] {
        if (selectedRollout() == 0 && m_proxy->rowCount() > 0)
            m_table->selectRow(0);
        showSelected();
        Q_EMIT pendingCountChanged(m_proxy->rowCount());
    };
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, rowsChanged);
    connect(m_proxy, &QAbstractItemModel::rowsRemoved, this, rowsChanged);
    connect(m_proxy, &QAbstractItemModel::dataChanged, this, &ApprovalInbox::showSelected);
    rowsChanged();
}

qint64 ApprovalInbox::selectedRollout() const {
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    return rows.isEmpty() ? 0 : rows.first().data(RolloutTableModel::RolloutIdRole).toLongLong();
}

void ApprovalInbox::selectRollout(qint64 id) {
    const int row = m_source->rowOf(id);
    const QModelIndex index =
        row >= 0 ? m_proxy->mapFromSource(m_source->index(row, 0)) : QModelIndex();
    if (index.isValid())
        m_table->selectRow(index.row());
}

QString ApprovalInbox::user() const {
    const QString signedIn = m_rollouts.signedInUser();
    return signedIn.isEmpty() ? m_user : signedIn;
}

void ApprovalInbox::act(fleet::RolloutAction action) {
    const qint64 id = selectedRollout();
    if (!id)
        return;
    m_message->clear();
    m_pending.insert(m_rollouts.requestAction(id, action, user()));
}

void ApprovalInbox::showSelected() {
    const auto rollout = m_rollouts.rollout(selectedRollout());
    if (!rollout) {
        m_details->setText(m_proxy->rowCount() == 0 ? tr("No rollout waits for an approval.")
                                                    : QString());
        m_approve->setEnabled(false);
        m_approve->setToolTip(tr("Select a rollout to approve"));
        m_reject->setEnabled(false);
        return;
    }
    m_details->setText(tr("%1 wants to roll out %2 to %3 devices. %4")
                           .arg(rollout->status.author, QFileInfo(rollout->bundlePath).fileName())
                           .arg(rollout->status.total)
                           .arg(rollout->plan.describe()));
    // The role first (a viewer approves nothing), then the rule of the rollout itself.
    std::optional<QString> blocker = m_rollouts.actionBlocker(fleet::RolloutAction::Approve);
    if (!blocker)
        blocker = fleet::approvalBlocker(*rollout, user());
    m_approve->setEnabled(!blocker);
    m_approve->setToolTip(blocker ? *blocker
                                  : tr("Approve as %1: a started rollout then runs, a draft "
                                       "runs once its author starts it")
                                        .arg(user()));
    const std::optional<QString> rejectBlocker =
        m_rollouts.actionBlocker(fleet::RolloutAction::Abort);
    m_reject->setEnabled(!rejectBlocker);
    m_reject->setToolTip(rejectBlocker
                             ? *rejectBlocker
                             : tr("Abort the rollout: it will never be offered to any device"));
}

}  // namespace otafleet::ui
