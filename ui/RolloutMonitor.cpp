#include "ui/RolloutMonitor.h"

#include "ui/RolloutDeviceModel.h"

#include <QFileInfo>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

namespace otafleet::ui {

using rollout::DeviceState;
using rollout::RolloutState;

namespace {
constexpr int kCoalesceMs = 50;
constexpr int kCountColumns = 6;
constexpr int kRowPadding = 8;
}  // namespace

RolloutMonitor::RolloutMonitor(fleet::RolloutService& rollouts, fleet::FleetService& fleet,
                               QString user, QWidget* parent)
    : QWidget(parent), m_rollouts(rollouts), m_user(std::move(user)) {
    m_coalesce = new QTimer(this);
    m_coalesce->setSingleShot(true);
    m_coalesce->setInterval(kCoalesceMs);
    connect(m_coalesce, &QTimer::timeout, this, &RolloutMonitor::refresh);
    connect(&m_rollouts, &fleet::RolloutService::rolloutChanged, this, [this](qint64 id) {
        if (id == m_rolloutId && !m_coalesce->isActive())
            m_coalesce->start();
    });

    m_title = new QLabel;
    m_title->setObjectName(QStringLiteral("rolloutTitle"));
    QFont titleFont = m_title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.3);
    titleFont.setBold(true);
    m_title->setFont(titleFont);
    m_state = new QLabel;
    m_state->setObjectName(QStringLiteral("rolloutState"));
    m_plan = new QLabel;
    m_plan->setObjectName(QStringLiteral("rolloutPlan"));
    m_plan->setWordWrap(true);
    m_plan->setTextInteractionFlags(Qt::TextSelectableByMouse);

    // The reason the rollout stopped is the first thing a technician must read: a banner.
    m_reason = new QLabel;
    m_reason->setObjectName(QStringLiteral("pauseReason"));
    m_reason->setWordWrap(true);
    m_reason->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_reason->setMargin(8);
    m_reason->setStyleSheet(
        QStringLiteral("QLabel { background: #fff3cd; color: #5c3c00; border: 1px solid #e0a800;"
                       " border-radius: 4px; font-weight: bold; }"));
    m_reason->hide();
    m_message = new QLabel;
    m_message->setObjectName(QStringLiteral("actionMessage"));
    m_message->setWordWrap(true);

    auto* waveBox = new QGroupBox(tr("Waves"));
    m_waves = new QVBoxLayout(waveBox);

    auto* countBox = new QGroupBox(tr("Devices by state"));
    auto* countGrid = new QGridLayout(countBox);
    int slot = 0;
    for (DeviceState state : rollout::kAllDeviceStates) {
        auto* label = new QLabel;
        label->setObjectName(QStringLiteral("count_%1").arg(rollout::deviceStateName(state)));
        countGrid->addWidget(label, slot / kCountColumns, slot % kCountColumns);
        m_counts.at(static_cast<std::size_t>(state)) = label;
        ++slot;
    }

    m_deviceModel = new RolloutDeviceModel(m_rollouts, fleet, this);
    m_devices = new QTableView;
    m_devices->setObjectName(QStringLiteral("rolloutDevices"));
    m_devices->setModel(m_deviceModel);
    m_devices->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_devices->setAlternatingRowColors(true);
    m_devices->setShowGrid(false);
    m_devices->setWordWrap(false);
    m_devices->verticalHeader()->hide();
    m_devices->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_devices->verticalHeader()->setDefaultSectionSize(m_devices->fontMetrics().height() +
                                                       kRowPadding);
    m_devices->horizontalHeader()->setStretchLastSection(true);
    m_devices->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    m_devices->setColumnWidth(RolloutDeviceModel::Device, 180);
    m_devices->setColumnWidth(RolloutDeviceModel::Wave, 60);
    m_devices->setColumnWidth(RolloutDeviceModel::State, 100);
    m_devices->setColumnWidth(RolloutDeviceModel::Attempts, 70);

    const auto button = [this](const QString& text, const char* name, const QString& toolTip) {
        auto* b = new QPushButton(text);
        b->setObjectName(QLatin1String(name));
        b->setToolTip(toolTip);
        return b;
    };
    m_start = button(tr("&Start"), "start",
                     tr("Start offering the release (a production rollout waits for its "
                        "approval first)"));
    m_pause = button(tr("&Pause"), "pause",
                     tr("Stop making offers; devices already updating "
                        "finish"));
    m_resume = button(tr("&Resume"), "resume",
                      tr("Go on; the current wave's failures so far are accepted"));
    m_abort = button(tr("&Abort"), "abort", tr("End the rollout for good: no more offers"));
    m_retry = button(tr("Retry &failed"), "retryFailed",
                     tr("Offer the release again to every failed, reverted or timed-out device"));
    m_actions = {{{m_start, fleet::RolloutAction::Start},
                  {m_pause, fleet::RolloutAction::Pause},
                  {m_resume, fleet::RolloutAction::Resume},
                  {m_abort, fleet::RolloutAction::Abort},
                  {m_retry, fleet::RolloutAction::RetryFailed}}};
    for (const auto& [b, action] : m_actions) {
        m_toolTips.insert(b, b->toolTip());
        connect(b, &QPushButton::clicked, this, [this, action] { act(action); });
    }
    connect(&m_rollouts, &fleet::RolloutService::requestFinished, this,
            [this](quint64 request, qint64, const std::optional<Error>& error) {
                if (!m_pending.remove(request))
                    return;
                m_message->setText(error ? error->message : QString());
                refresh();
            });
    connect(&m_rollouts, &fleet::RolloutService::permissionsChanged, this,
            &RolloutMonitor::refresh);

    auto* buttons = new QHBoxLayout;
    for (QPushButton* b : {m_start, m_pause, m_resume, m_abort, m_retry})
        buttons->addWidget(b);
    buttons->addStretch();

    auto* header = new QHBoxLayout;
    header->addWidget(m_title);
    header->addStretch();
    header->addWidget(m_state);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(header);
    layout->addWidget(m_plan);
    layout->addWidget(m_reason);
    layout->addLayout(buttons);
    layout->addWidget(m_message);
    layout->addWidget(waveBox);
    layout->addWidget(countBox);
    layout->addWidget(m_devices, 1);
    refresh();
}

void RolloutMonitor::setRollout(qint64 id) {
    m_rolloutId = id;
    m_message->clear();
    m_deviceModel->setRollout(id);
    refresh();
}

void RolloutMonitor::act(fleet::RolloutAction action) {
    if (!m_rolloutId)
        return;
    m_message->clear();
    const QString signedIn = m_rollouts.signedInUser();
    m_pending.insert(
        m_rollouts.requestAction(m_rolloutId, action, signedIn.isEmpty() ? m_user : signedIn));
    refresh();
}

void RolloutMonitor::showWaves(const rollout::RolloutStatus& status) {
    // Bars are kept while the number of waves stays; a burst of updates only moves values.
    if (m_waveBars.size() != status.waves.size()) {
        qDeleteAll(m_waveBars);
        m_waveBars.clear();
        for (const rollout::WaveStatus& wave : status.waves) {
            auto* bar = new QProgressBar;
            bar->setObjectName(QStringLiteral("wave%1").arg(wave.number));
            m_waves->addWidget(bar);
            m_waveBars.append(bar);
        }
    }
    for (qsizetype i = 0; i < status.waves.size(); ++i) {
        const rollout::WaveStatus& wave = status.waves.at(i);
        QProgressBar* bar = m_waveBars.at(i);
        bar->setRange(0, static_cast<int>(std::max<qint64>(1, wave.size)));
        bar->setValue(static_cast<int>(wave.succeeded));
        if (wave.phase == rollout::WaveStatus::Phase::Waiting) {
            bar->setFormat(tr("Wave %1 (%2): waiting").arg(wave.number).arg(wave.planned));
            continue;
        }
        QString text = tr("Wave %1 (%2): %3 of %4 succeeded, %5 failed")
                           .arg(wave.number)
                           .arg(wave.planned)
                           .arg(wave.succeeded)
                           .arg(wave.size)
                           .arg(wave.failed);
        if (wave.inProgress > 0)
            text += tr(", %1 in progress").arg(wave.inProgress);
        if (wave.pending > 0)
            text += tr(", %1 not offered yet").arg(wave.pending);
        if (wave.phase == rollout::WaveStatus::Phase::Soaking)
            text += tr(" (soaking)");
        bar->setFormat(text);
    }
}

void RolloutMonitor::refresh() {
    const auto rollout = m_rollouts.rollout(m_rolloutId);
    setEnabled(rollout.has_value());
    if (!rollout) {
        m_title->setText(tr("No rollout selected"));
        m_state->clear();
        m_plan->clear();
        m_reason->hide();
        showWaves({});
        for (QLabel* label : std::as_const(m_counts))
            label->clear();
        for (QPushButton* b : {m_start, m_pause, m_resume, m_abort, m_retry})
            b->setEnabled(false);
        return;
    }
    const rollout::RolloutStatus& s = rollout->status;
    m_title->setText(rollout->name);
    QString state = tr("%1 · %2 devices").arg(rollout::rolloutStateName(s.state)).arg(s.total);
    if (!s.approvedBy.isEmpty())
        state += tr(" · approved by %1").arg(s.approvedBy);
    m_state->setText(state);
    m_plan->setText(
        tr("Release %1, created by %2. %3")
            .arg(QFileInfo(rollout->bundlePath).fileName(), s.author, rollout->plan.describe()));
    // A person's pause already reads "Paused by bob."; the engine's reasons need the prefix.
    m_reason->setText(s.pauseReason.startsWith(QLatin1String("Paused")) ? s.pauseReason
                      : s.pauseReason.isEmpty()                         ? QString()
                                                : tr("Paused: %1").arg(s.pauseReason));
    m_reason->setVisible(!s.pauseReason.isEmpty());
    showWaves(s);
    for (DeviceState ds : rollout::kAllDeviceStates) {
        QLabel* label = m_counts.at(static_cast<std::size_t>(ds));
        const qint64 n = s.count(ds);
        label->setText(tr("%1: %2").arg(rollout::deviceStateName(ds)).arg(n));
        label->setEnabled(n > 0);  // greyed when none: the states that matter stand out
    }
    const RolloutState st = s.state;
    const qint64 failures = s.count(DeviceState::Failed) + s.count(DeviceState::Reverted) +
                            s.count(DeviceState::TimedOut);
    m_start->setEnabled(st == RolloutState::Draft);
    m_pause->setEnabled(st == RolloutState::Running || st == RolloutState::Scheduled);
    m_resume->setEnabled(st == RolloutState::Paused);
    m_abort->setEnabled(st != RolloutState::Completed && st != RolloutState::Aborted);
    m_retry->setEnabled(failures > 0 &&
                        (st == RolloutState::Running || st == RolloutState::Paused ||
                         st == RolloutState::Completed));
    // What the user's role may not do is disabled whatever the state, and says why.
    for (const auto& [b, action] : m_actions) {
        const std::optional<QString> blocker = m_rollouts.actionBlocker(action);
        if (blocker)
            b->setEnabled(false);
        b->setToolTip(blocker ? *blocker : m_toolTips.value(b));
    }
}

}  // namespace otafleet::ui
