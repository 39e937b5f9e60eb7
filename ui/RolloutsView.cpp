#include "ui/RolloutsView.h"

#include "ui/RolloutTableModel.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

namespace otafleet::ui {

using rollout::RolloutState;

RolloutsView::RolloutsView(fleet::EmbeddedRollouts& rollouts, QString user, QWidget* parent)
    : QWidget(parent), m_rollouts(rollouts), m_user(std::move(user)) {
    m_model = new RolloutTableModel(m_rollouts, this);
    m_table = new QTableView;
    m_table->setObjectName(QStringLiteral("rollouts"));
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setColumnWidth(RolloutTableModel::Name, 200);
    m_table->setColumnWidth(RolloutTableModel::Progress, 150);

    m_reason = new QLabel;
    m_reason->setObjectName(QStringLiteral("pauseReason"));
    m_reason->setWordWrap(true);
    m_message = new QLabel;
    m_message->setObjectName(QStringLiteral("actionMessage"));
    m_message->setWordWrap(true);
    m_waves = new QVBoxLayout;
    m_pause = new QPushButton(tr("&Pause"));
    m_resume = new QPushButton(tr("&Resume"));
    m_abort = new QPushButton(tr("&Abort"));
    m_pause->setObjectName(QStringLiteral("pause"));
    m_resume->setObjectName(QStringLiteral("resume"));
    m_abort->setObjectName(QStringLiteral("abort"));
    connect(m_pause, &QPushButton::clicked, this,
            [this] { act([this](qint64 id) { return m_rollouts.pause(id, m_user); }); });
    connect(m_resume, &QPushButton::clicked, this,
            [this] { act([this](qint64 id) { return m_rollouts.resume(id, m_user); }); });
    connect(m_abort, &QPushButton::clicked, this,
            [this] { act([this](qint64 id) { return m_rollouts.abort(id, m_user); }); });

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_pause);
    buttons->addWidget(m_resume);
    buttons->addWidget(m_abort);
    buttons->addStretch();
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_table, 1);
    layout->addLayout(m_waves);
    layout->addWidget(m_reason);
    layout->addLayout(buttons);
    layout->addWidget(m_message);

    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &RolloutsView::showSelected);
    connect(m_model, &QAbstractItemModel::dataChanged, this, &RolloutsView::showSelected);
    connect(m_model, &QAbstractItemModel::rowsInserted, this, [this] {
        if (selectedRollout() == 0)
            m_table->selectRow(0);
    });
    if (m_model->rowCount() > 0)
        m_table->selectRow(0);
    showSelected();
}

qint64 RolloutsView::selectedRollout() const {
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    return rows.isEmpty() ? 0 : rows.first().data(RolloutTableModel::RolloutIdRole).toLongLong();
}

void RolloutsView::selectRollout(qint64 id) {
    if (const int row = m_model->rowOf(id); row >= 0)
        m_table->selectRow(row);
}

void RolloutsView::act(const std::function<Status(qint64)>& action) {
    const qint64 id = selectedRollout();
    if (!id)
        return;
    const Status done = action(id);
    m_message->setText(done ? QString() : done.error().message);
    showSelected();
}

void RolloutsView::showSelected() {
    const auto rollout = m_rollouts.rollout(selectedRollout());
    // One bar per wave: succeeded of its size (the planned size until the wave starts).
    while (QLayoutItem* item = m_waves->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    const RolloutState state = rollout ? rollout->status.state : RolloutState::Aborted;
    if (rollout) {
        for (const rollout::WaveStatus& wave : std::as_const(rollout->status.waves)) {
            auto* bar = new QProgressBar;
            bar->setObjectName(QStringLiteral("wave%1").arg(wave.number));
            bar->setRange(0, static_cast<int>(std::max<qint64>(1, wave.size)));
            bar->setValue(static_cast<int>(wave.succeeded));
            bar->setFormat(tr("Wave %1 (%2): %3 of %4 succeeded, %5 failed")
                               .arg(wave.number)
                               .arg(wave.planned)
                               .arg(wave.succeeded)
                               .arg(wave.size)
                               .arg(wave.failed));
            if (wave.phase == rollout::WaveStatus::Phase::Waiting)
                bar->setFormat(tr("Wave %1 (%2): waiting").arg(wave.number).arg(wave.planned));
            m_waves->addWidget(bar);
        }
    }
    const QString reason = rollout ? rollout->status.pauseReason : QString();
    m_reason->setText(reason.isEmpty() ? QString() : tr("Paused: %1").arg(reason));
    m_reason->setVisible(!reason.isEmpty());
    m_pause->setEnabled(rollout &&
                        (state == RolloutState::Running || state == RolloutState::Scheduled));
    m_resume->setEnabled(rollout && state == RolloutState::Paused);
    m_abort->setEnabled(rollout && state != RolloutState::Completed &&
                        state != RolloutState::Aborted);
}

}  // namespace otafleet::ui
