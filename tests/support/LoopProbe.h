// Measures whether the GUI thread keeps answering: a 5 ms timer on the thread it lives on keeps
// the time between two of its ticks. A thread that waited on the network, the database or a
// token would show one long gap. Shared by the server and token stall tests.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <algorithm>
#include <vector>

namespace otafleet::test {

class LoopProbe : public QObject {
public:
    LoopProbe() {
        m_timer.setTimerType(Qt::PreciseTimer);
        m_timer.setInterval(5);
        connect(&m_timer, &QTimer::timeout, this,
                [this] { m_gapsMs.push_back(m_sinceTick.restart()); });
    }
    void start() {
        m_gapsMs.clear();
        m_sinceTick.start();
        m_timer.start();
    }
    void stop() { m_timer.stop(); }
    [[nodiscard]] qsizetype ticks() const { return static_cast<qsizetype>(m_gapsMs.size()); }
    [[nodiscard]] qint64 maxGapMs() const {
        return m_gapsMs.empty() ? 0 : *std::ranges::max_element(m_gapsMs);
    }
    [[nodiscard]] qint64 gapPercentileMs(double p) const {
        if (m_gapsMs.empty())
            return 0;
        std::vector<qint64> sorted = m_gapsMs;
        std::ranges::sort(sorted);
        const auto at = static_cast<std::size_t>(p * double(sorted.size() - 1));
        return sorted[at];
    }

private:
    QTimer m_timer;
    QElapsedTimer m_sinceTick;
    std::vector<qint64> m_gapsMs;
};

}  // namespace otafleet::test
