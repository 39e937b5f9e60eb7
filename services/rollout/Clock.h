// The engine's only source of time. otafleetd and the console pass SystemClock; tests and the
// fleet simulator pass ManualClock and move it by hand, so every decision is reproducible.
#pragma once

#include <QDateTime>

#include <chrono>

namespace otafleet::rollout {

class Clock {
public:
    virtual ~Clock() = default;
    [[nodiscard]] virtual QDateTime now() const = 0;  // UTC
};

class SystemClock final : public Clock {
public:
    [[nodiscard]] QDateTime now() const override { return QDateTime::currentDateTimeUtc(); }
};

class ManualClock final : public Clock {
public:
    explicit ManualClock(QDateTime start) : m_now(start.toUTC()) {}
    [[nodiscard]] QDateTime now() const override { return m_now; }
    void set(const QDateTime& instant) { m_now = instant.toUTC(); }
    void advance(std::chrono::milliseconds by) { m_now = m_now.addMSecs(by.count()); }

private:
    QDateTime m_now;
};

}  // namespace otafleet::rollout
