// RolloutEngine: the decisions. Device bookkeeping, waves (start, pass, pause on thresholds,
// soak), per-device timeouts and retries, the rate limit with its ramp, and tick().
#include "rollout/RolloutEngine.h"

#include <cmath>
#include <tuple>

namespace otafleet::rollout {
namespace {

constexpr qint64 kBurstUs = 1'000'000;  // the rate limit allows one second's worth at once
constexpr double kMaxRampedRate = 1'000'000.0;

qint64 hundredths(double percent) {
    return std::llround(percent * 100.0);
}

}  // namespace

void RolloutEngine::markChanged(std::size_t position) {
    if (m_changedMark.size() < m_devices.size()) {
        m_changedMark.resize(m_devices.size(), false);
    }
    if (!m_changedMark[position]) {
        m_changedMark[position] = true;
        m_changed.push_back(position);
    }
}

void RolloutEngine::enqueue(std::size_t position) {
    m_queue.push_back(position);
    m_devices[position].queueSeq = ++m_queueSeq;
    markChanged(position);
}

void RolloutEngine::clearChangedDevices() {
    for (const std::size_t position : m_changed) {
        m_changedMark[position] = false;
    }
    m_changed.clear();
}

void RolloutEngine::markAllDevicesChanged() {
    for (std::size_t i = 0; i < m_devices.size(); ++i) {
        markChanged(i);
    }
}

void RolloutEngine::setDeviceState(DeviceProgress& device, DeviceState next) {
    markChanged(static_cast<std::size_t>(&device - m_devices.data()));
    const DeviceState previous = device.state;
    --m_counts[static_cast<std::size_t>(previous)];
    ++m_counts[static_cast<std::size_t>(next)];
    device.state = next;
    if (device.wave < 0) {
        return;
    }
    Wave& wave = m_waves[static_cast<std::size_t>(device.wave)];
    auto tally = [&wave](DeviceState s, qint64 delta) {
        if (s == DeviceState::Succeeded) {
            wave.succeeded += delta;
        } else if (isFailure(s)) {
            wave.failed += delta;
        } else if (s == DeviceState::Skipped) {
            wave.skipped += delta;
        } else if (s == DeviceState::Pending) {
            wave.pending += delta;
        }
    };
    tally(previous, -1);
    tally(next, +1);
}

void RolloutEngine::finishAttempt(DeviceProgress& device, DeviceState outcome,
                                  const QString& reason) {
    device.reason = reason;
    const bool retryable = outcome == DeviceState::Failed || outcome == DeviceState::TimedOut;
    if (retryable && device.attempts <= m_plan.retries && m_state != RolloutState::Aborted) {
        setDeviceState(device, DeviceState::Pending);
        enqueue(static_cast<std::size_t>(&device - m_devices.data()));
        return;
    }
    setDeviceState(device, outcome);
    checkFailureThreshold(device.wave);
}

void RolloutEngine::checkFailureThreshold(int waveIndex) {
    if (m_state != RolloutState::Running || waveIndex < 0 ||
        waveIndex + 1 != static_cast<int>(m_waves.size())) {
        return;
    }
    const Wave& wave = m_waves[static_cast<std::size_t>(waveIndex)];
    if (wave.passed) {
        return;
    }
    const qint64 executed = wave.succeeded + wave.failed - wave.baseExecuted;
    const qint64 failed = wave.failed - wave.baseFailed;
    if (executed <= 0 || executed < m_plan.minExecuted) {
        return;
    }
    if (failed * 10000 > hundredths(m_plan.failureThreshold) * executed) {
        pauseWith(
            QStringLiteral("Wave %1 paused itself: %2 of %3 executed devices failed (%4), "
                           "above the %5 failure threshold.")
                .arg(waveIndex + 1)
                .arg(failed)
                .arg(executed)
                .arg(plan_values::formatPercent(std::round(static_cast<double>(failed) * 10000.0 /
                                                           static_cast<double>(executed)) /
                                                100.0))
                .arg(plan_values::formatPercent(m_plan.failureThreshold)));
    }
}

bool RolloutEngine::startNextWave(qint64 now) {
    const std::size_t index = m_waves.size();
    if (index >= static_cast<std::size_t>(m_plan.waves.size())) {
        return false;
    }
    Wave wave;
    wave.size = m_plan.waves[static_cast<qsizetype>(index)].sizeFor(m_unassigned);
    wave.startedAtMs = now;
    m_waves.push_back(wave);
    qint64 taken = 0;
    for (std::size_t i = 0; i < m_devices.size() && taken < wave.size; ++i) {
        if (m_devices[i].wave < 0) {
            m_devices[i].wave = static_cast<int>(index);
            enqueue(i);
            ++taken;
        }
    }
    m_waves.back().pending = taken;  // every member starts pending
    m_unassigned -= taken;
    return true;
}

void RolloutEngine::evaluateWaves(qint64 now) {
    while (m_state == RolloutState::Running) {
        if (!m_waves.empty() && !m_waves.back().passed) {
            const int index = static_cast<int>(m_waves.size()) - 1;
            checkFailureThreshold(index);
            if (m_state != RolloutState::Running) {
                return;
            }
            Wave& wave = m_waves.back();
            const bool finished = wave.succeeded + wave.failed + wave.skipped == wave.size;
            if (wave.succeeded * 10000 >= hundredths(m_plan.successThreshold) * wave.size) {
                wave.passed = true;
                wave.passedAtMs = now;
                const bool last = index + 1 == static_cast<int>(m_plan.waves.size());
                const bool noSoak = m_plan.emergency || last || wave.size == 0;
                m_soakUntilMs = noSoak ? now : now + m_plan.soak.count() * 1000;
            } else if (finished) {
                pauseWith(QStringLiteral("Wave %1 finished with %2 of %3 devices succeeded (%4), "
                                         "below the %5 success threshold; resume to accept it.")
                              .arg(index + 1)
                              .arg(wave.succeeded)
                              .arg(wave.size)
                              .arg(plan_values::formatPercent(
                                  std::round(static_cast<double>(wave.succeeded) * 10000.0 /
                                             static_cast<double>(wave.size)) /
                                  100.0))
                              .arg(plan_values::formatPercent(m_plan.successThreshold)));
                return;
            } else {
                return;  // the wave is still running
            }
        }
        if (now < m_soakUntilMs) {
            return;
        }
        if (startNextWave(now)) {
            continue;
        }
        for (const Wave& wave : m_waves) {
            if (wave.succeeded + wave.failed + wave.skipped != wave.size) {
                return;  // stragglers of passed waves are still running
            }
        }
        m_state = RolloutState::Completed;
        return;
    }
}

qint64 RolloutEngine::inFlight() const {
    qint64 n = 0;
    for (std::size_t i = 0; i < m_counts.size(); ++i) {
        if (isInFlight(static_cast<DeviceState>(i))) {
            n += m_counts[i];
        }
    }
    return n;
}

bool RolloutEngine::mayOffer(qint64 now, qsizetype offeredThisTick) const {
    if (m_plan.window && !m_plan.window->isOpen(QDateTime::fromMSecsSinceEpoch(now, Qt::UTC))) {
        return false;
    }
    if (m_currentRate <= 0.0) {
        return offeredThisTick < kUnratedOffersPerTick && inFlight() < kUnratedMaxInFlight;
    }
    return now * 1000 > m_nextOfferUs - kBurstUs;
}

void RolloutEngine::noteOffer(qint64 now) {
    if (m_currentRate <= 0.0) {
        return;
    }
    const auto interval = std::max<qint64>(1, std::llround(60'000'000.0 / m_currentRate));
    m_nextOfferUs = std::max(m_nextOfferUs, now * 1000) + interval;
}

void RolloutEngine::noteSuccess() {
    if (m_currentRate <= 0.0 || m_plan.rampFactor <= 1.0) {
        return;
    }
    if (++m_successesSinceRamp >= static_cast<qint64>(std::ceil(m_currentRate))) {
        m_currentRate = std::min(m_currentRate * m_plan.rampFactor, kMaxRampedRate);
        m_successesSinceRamp = 0;
    }
}

TickResult RolloutEngine::tick() {
    const qint64 now = nowMs();
    TickResult result;
    // Everything tick() can change, to tell the host whether to persist.
    auto fingerprint = [this] {
        return std::tuple(m_state, m_waves.size(), !m_waves.empty() && m_waves.back().passed,
                          m_queue.size(), m_pauseReason.size());
    };
    const auto before = fingerprint();
    if (m_state == RolloutState::Scheduled && now >= m_notBeforeMs) {
        m_state = RolloutState::Running;
    }
    if (m_state == RolloutState::Running || m_state == RolloutState::Paused) {
        const qint64 timeoutMs = m_plan.deviceTimeout.count() * 1000;
        for (DeviceProgress& device : m_devices) {
            if (isInFlight(device.state) && now - device.offeredAtMs >= timeoutMs) {
                result.timedOut << device.id;
                finishAttempt(device, DeviceState::TimedOut,
                              QStringLiteral("no result within %1 of the offer")
                                  .arg(plan_values::formatDuration(m_plan.deviceTimeout)));
            }
        }
    }
    evaluateWaves(now);
    while (m_state == RolloutState::Running && !m_queue.empty() &&
           mayOffer(now, result.offers.size())) {
        const std::size_t position = m_queue.front();
        m_queue.pop_front();
        DeviceProgress& device = m_devices[position];
        setDeviceState(device, DeviceState::Offered);
        device.queueSeq = 0;
        ++device.attempts;
        device.offeredAtMs = now;
        noteOffer(now);
        result.offers << device.id;
    }
    result.changed =
        fingerprint() != before || !result.offers.isEmpty() || !result.timedOut.isEmpty();
    return result;
}

}  // namespace otafleet::rollout
