// A real otafleet-agent process for integration tests: `otafleet-agent setup` into a temp
// directory for a test PKI, then start/kill the agent on a free loopback port. After a Reboot RPC
// the agent re-executes itself in the same PID, so one AgentProcess follows it across reboots.
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QString>

#include <memory>

namespace otafleet::test {

class AgentProcess {
public:
    // Runs `otafleet-agent setup` (from binDir) into `dir` for the PKI at pkiDir, listening on
    // 127.0.0.1:<free port>; pinEnv is passed as --pin-env when non-empty, bootBackend as
    // --boot-backend (file, uboot, grub) when non-empty.
    [[nodiscard]] static Result<std::unique_ptr<AgentProcess>> setUp(
        const QString& binDir, const QString& dir, const QString& pkiDir, const QString& name,
        const QString& hardware = QStringLiteral("rev-a"), const QString& pinEnv = {},
        const QString& bootBackend = {});

    AgentProcess(const AgentProcess&) = delete;
    AgentProcess& operator=(const AgentProcess&) = delete;
    ~AgentProcess();  // kills if running

    // Starts the agent and waits for its "listening" line.
    [[nodiscard]] Status start(int timeoutMs = 15000);
    void kill();  // SIGKILL, waits for exit
    [[nodiscard]] bool isRunning() const;
    [[nodiscard]] QString target() const;  // "127.0.0.1:PORT"
    [[nodiscard]] QString dir() const;
    [[nodiscard]] QString configPath() const;
    // Everything the agent wrote to stderr so far (for failure messages).
    [[nodiscard]] QByteArray output() const;
    // Process id (stays the same across the agent's re-exec on Reboot); 0 when not running.
    [[nodiscard]] qint64 pid() const;

private:
    AgentProcess();
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace otafleet::test
