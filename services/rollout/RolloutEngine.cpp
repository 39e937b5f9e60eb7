// RolloutEngine: creation, operator commands and device events. Waves and offers are in
// RolloutEngineTick.cpp, persistence and status in RolloutEngineJson.cpp.
#include "rollout/RolloutEngine.h"

#include <QSet>

namespace otafleet::rollout {
namespace {

Error transitionError(const char* action, RolloutState state) {
    return Error{QStringLiteral("rollout.transition"),
                 QStringLiteral("A rollout that is %1 cannot %2; check `rollout status`.")
                     .arg(rolloutStateName(state).replace(u'_', u' '), QLatin1StringView(action))};
}

QString clipped(const QString& text, qsizetype max) {
    return text.left(max);
}

}  // namespace

RolloutEngine::RolloutEngine(RolloutPlan plan, QString author, const Clock& clock)
    : m_clock(&clock), m_plan(std::move(plan)), m_author(std::move(author)) {
    m_currentRate = m_plan.ratePerMinute;
}

qint64 RolloutEngine::nowMs() const {
    return m_clock->now().toMSecsSinceEpoch();
}

Result<RolloutEngine> RolloutEngine::create(RolloutPlan plan, QString author,
                                            const QStringList& targets, const Clock& clock) {
    if (author.isEmpty() || author.size() > kMaxUserLength) {
        return fail(QStringLiteral("rollout.targets"),
                    QStringLiteral("A rollout needs its author's user name (1 to %1 characters).")
                        .arg(kMaxUserLength));
    }
    if (targets.size() > kMaxDevices) {
        return fail(QStringLiteral("rollout.targets"),
                    QStringLiteral("A rollout targets at most %1 devices; narrow the target "
                                   "expression.")
                        .arg(kMaxDevices));
    }
    RolloutEngine engine(std::move(plan), std::move(author), clock);
    engine.m_devices.reserve(static_cast<std::size_t>(targets.size()));
    for (const QString& id : targets) {
        if (id.isEmpty() || id.size() > kMaxIdLength) {
            return fail(QStringLiteral("rollout.targets"),
                        QStringLiteral("Device id '%1' is empty or longer than %2 characters.")
                            .arg(id.left(64))
                            .arg(kMaxIdLength));
        }
        if (engine.m_index.contains(id)) {
            continue;
        }
        engine.m_index.insert(id, engine.m_devices.size());
        engine.m_devices.push_back(DeviceProgress{id, DeviceState::Pending, -1, 0, 0, {}});
    }
    (void)engine.rebuildDerived();  // no waves yet: nothing to disagree
    engine.markAllDevicesChanged();
    return engine;
}

Status RolloutEngine::requireState(std::initializer_list<RolloutState> allowed,
                                   const char* action) const {
    for (const RolloutState s : allowed) {
        if (s == m_state) {
            return {};
        }
    }
    return fail(transitionError(action, m_state));
}

Status RolloutEngine::approve(const QString& user) {
    if (!m_plan.production) {
        return fail(QStringLiteral("rollout.approval-not-needed"),
                    QStringLiteral("Only production rollouts need approval; start this one "
                                   "directly."));
    }
    if (auto ok =
            requireState({RolloutState::Draft, RolloutState::AwaitingApproval}, "be approved");
        !ok) {
        return ok;
    }
    if (!m_approver.isEmpty()) {
        return fail(QStringLiteral("rollout.already-approved"),
                    QStringLiteral("This rollout was already approved by %1.").arg(m_approver));
    }
    if (user.isEmpty() || user.size() > kMaxUserLength || user == m_author) {
        return fail(QStringLiteral("rollout.self-approval"),
                    QStringLiteral("A production rollout must be approved by someone other than "
                                   "its author (%1); ask an approver.")
                        .arg(m_author));
    }
    m_approver = user;
    if (m_state == RolloutState::AwaitingApproval) {
        m_state = RolloutState::Scheduled;
    }
    return {};
}

Status RolloutEngine::start(const QString& user, std::optional<QDateTime> notBefore) {
    Q_UNUSED(user);
    if (auto ok = requireState({RolloutState::Draft}, "be started"); !ok) {
        return ok;
    }
    m_notBeforeMs = notBefore ? notBefore->toMSecsSinceEpoch() : nowMs();
    m_state = m_plan.production && m_approver.isEmpty() ? RolloutState::AwaitingApproval
                                                        : RolloutState::Scheduled;
    return {};
}

Status RolloutEngine::pause(const QString& user) {
    if (auto ok = requireState({RolloutState::Scheduled, RolloutState::Running}, "be paused");
        !ok) {
        return ok;
    }
    pauseWith(QStringLiteral("Paused by %1.").arg(clipped(user, kMaxUserLength)));
    return {};
}

void RolloutEngine::pauseWith(QString reason) {
    m_state = RolloutState::Paused;
    m_pauseReason = std::move(reason);
}

Status RolloutEngine::resume(const QString& user) {
    Q_UNUSED(user);
    if (auto ok = requireState({RolloutState::Paused}, "be resumed"); !ok) {
        return ok;
    }
    m_state = RolloutState::Running;
    m_pauseReason.clear();
    const qint64 now = nowMs();
    if (!m_waves.empty() && !m_waves.back().passed) {
        Wave& wave = m_waves.back();
        wave.baseFailed = wave.failed;
        wave.baseExecuted = wave.succeeded + wave.failed;
        if (wave.succeeded + wave.failed + wave.skipped == wave.size) {
            // Every device of the wave finished and an operator looked at it: accept it.
            wave.passed = true;
            wave.passedAtMs = now;
            const bool last = m_waves.size() == static_cast<std::size_t>(m_plan.waves.size());
            m_soakUntilMs = m_plan.emergency || last ? now : now + m_plan.soak.count() * 1000;
        }
    }
    evaluateWaves(now);
    return {};
}

Status RolloutEngine::abort(const QString& user) {
    Q_UNUSED(user);
    if (m_state == RolloutState::Completed || m_state == RolloutState::Aborted) {
        return fail(transitionError("be aborted", m_state));
    }
    m_state = RolloutState::Aborted;
    m_pauseReason.clear();
    return {};
}

Status RolloutEngine::retryFailed(const QString& user) {
    Q_UNUSED(user);
    if (auto ok =
            requireState({RolloutState::Running, RolloutState::Paused, RolloutState::Completed},
                         "retry failed devices");
        !ok) {
        return ok;
    }
    qint64 retried = 0;
    for (std::size_t i = 0; i < m_devices.size(); ++i) {
        DeviceProgress& device = m_devices[i];
        if (isFailure(device.state)) {
            setDeviceState(device, DeviceState::Pending);
            device.attempts = 0;
            enqueue(i);
            ++retried;
        }
    }
    if (retried == 0) {
        return fail(QStringLiteral("rollout.nothing-to-retry"),
                    QStringLiteral("No device of this rollout failed, reverted or timed out."));
    }
    for (Wave& wave : m_waves) {
        wave.baseFailed = wave.failed;
        wave.baseExecuted = wave.succeeded + wave.failed;
    }
    m_state = RolloutState::Running;
    m_pauseReason.clear();
    return {};
}

Result<bool> RolloutEngine::addTarget(const QString& deviceId) {
    if (!m_plan.includeLateJoiners) {
        return fail(QStringLiteral("rollout.target-closed"),
                    QStringLiteral("This rollout's plan does not take devices that join the "
                                   "target later; create a new rollout for them."));
    }
    if (m_state == RolloutState::Completed || m_state == RolloutState::Aborted) {
        return fail(QStringLiteral("rollout.finished"),
                    QStringLiteral("This rollout is %1; create a new rollout for device %2.")
                        .arg(rolloutStateName(m_state), deviceId.left(64)));
    }
    if (deviceId.isEmpty() || deviceId.size() > kMaxIdLength ||
        static_cast<qsizetype>(m_devices.size()) >= kMaxDevices) {
        return fail(QStringLiteral("rollout.targets"),
                    QStringLiteral("Device id '%1' is empty or too long, or the rollout is full.")
                        .arg(deviceId.left(64)));
    }
    if (m_index.contains(deviceId)) {
        return false;
    }
    const std::size_t position = m_devices.size();
    m_index.insert(deviceId, position);
    m_devices.push_back(DeviceProgress{deviceId, DeviceState::Pending, -1, 0, 0, {}});
    ++m_counts[static_cast<std::size_t>(DeviceState::Pending)];
    markChanged(position);
    const bool lastWaveStarted =
        !m_waves.empty() && m_waves.size() == static_cast<std::size_t>(m_plan.waves.size());
    if (lastWaveStarted) {
        m_devices[position].wave = static_cast<int>(m_waves.size()) - 1;
        ++m_waves.back().size;
        ++m_waves.back().pending;
        enqueue(position);
    } else {
        ++m_unassigned;
    }
    return true;
}

Status RolloutEngine::onDeviceEvent(const QString& deviceId, const DeviceEvent& event) {
    const auto it = m_index.constFind(deviceId);
    if (it == m_index.constEnd()) {
        return fail(
            QStringLiteral("rollout.unknown-device"),
            QStringLiteral("Device %1 is not a target of this rollout.").arg(deviceId.left(64)));
    }
    DeviceProgress& device = m_devices[*it];
    const DeviceState from = device.state;
    const DeviceState to = event.kind;
    const bool lateResult =
        from == DeviceState::TimedOut &&
        (to == DeviceState::Succeeded || to == DeviceState::Failed || to == DeviceState::Reverted);
    if (!isInFlight(from) && !lateResult) {
        return fail(QStringLiteral("rollout.unexpected-event"),
                    QStringLiteral("Device %1 reported %2 but is %3 in this rollout; the event "
                                   "was ignored.")
                        .arg(deviceId.left(64), deviceStateName(to), deviceStateName(from)));
    }
    const qint64 now = nowMs();
    const QString reason = clipped(event.reason, kMaxReasonLength);
    switch (to) {
        case DeviceState::Pending:
            return fail(QStringLiteral("rollout.unexpected-event"),
                        QStringLiteral("'pending' is not something a device reports."));
        case DeviceState::Offered:
            if (from != DeviceState::Offered) {
                return fail(QStringLiteral("rollout.unexpected-event"),
                            QStringLiteral("Device %1 acknowledged an offer it is past (%2).")
                                .arg(deviceId.left(64), deviceStateName(from)));
            }
            return {};
        case DeviceState::Downloading:
        case DeviceState::Installing:
        case DeviceState::Rebooting:
        case DeviceState::Verifying:
            setDeviceState(device, to);
            return {};
        case DeviceState::Succeeded:
            setDeviceState(device, to);
            device.reason.clear();
            noteSuccess();
            break;
        case DeviceState::Skipped:
            device.reason = reason;
            setDeviceState(device, to);
            break;
        case DeviceState::Failed:
        case DeviceState::Reverted:
        case DeviceState::TimedOut:
            if (lateResult) {
                device.reason = reason;
                setDeviceState(device, to);
                checkFailureThreshold(device.wave);
            } else {
                finishAttempt(device, to, reason);
            }
            break;
    }
    evaluateWaves(now);
    return {};
}

std::optional<DeviceProgress> RolloutEngine::device(const QString& deviceId) const {
    const auto it = m_index.constFind(deviceId);
    if (it == m_index.constEnd()) {
        return std::nullopt;
    }
    return m_devices[*it];
}

}  // namespace otafleet::rollout
