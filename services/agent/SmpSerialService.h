// The agent's SMP serial line ([smp] in agent.conf): a thread of its own with an event loop that
// serves AgentSmpBackend through smp::respond over a tty (a USB gadget port such as /dev/ttyGS0)
// or a pseudo-terminal the agent makes (serial = pty: tests and bench setups). gRPC's threads are
// never involved; an install requested over SMP runs on this thread while gRPC keeps serving.
// A reset asked for over SMP is answered first, then handed to the owner's reboot callback.
// Across the agent's reboot (re-execution), a pty's master descriptor is kept open and adopted
// again, so a client keeps its port as it would keep a USB port that comes back.
#pragma once

#include "common/Error.h"

#include <QString>

#include <functional>
#include <memory>

class QThread;
class QObject;

namespace otafleet::agent {

class Agent;

class SmpSerialService {
public:
    // The environment variable that hands a pty master to the re-executed agent.
    static constexpr const char* kPtyFdVariable = "OTAFLEET_AGENT_SMP_PTY_FD";

    // Opens the line the config names (adopting a pty handed over through kPtyFdVariable) and
    // starts serving. `onReset` runs on the service's thread once a reset's answer is written.
    // Errors smp.pty-failed, smp.serial-open-failed, smp.bad-baud.
    [[nodiscard]] static Result<std::unique_ptr<SmpSerialService>> start(
        Agent& agent, std::function<void()> onReset);
    ~SmpSerialService();
    SmpSerialService(const SmpSerialService&) = delete;
    SmpSerialService& operator=(const SmpSerialService&) = delete;

    // The pty path a client opens (empty for a tty).
    [[nodiscard]] QString ptyPath() const { return m_ptyPath; }
    // Stops serving; returns the pty master to keep across exec (-1 for a tty, which is closed).
    [[nodiscard]] int stopForRestart();

private:
    SmpSerialService() = default;
    class Worker;
    void stop();

    std::unique_ptr<QThread> m_thread;
    std::unique_ptr<QObject> m_context;  // lives in m_thread
    Worker* m_worker = nullptr;          // lives in m_thread
    QString m_ptyPath;
};

}  // namespace otafleet::agent
