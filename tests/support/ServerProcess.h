// A real otafleetd process for integration tests: `otafleetd setup` into a temp directory for a
// test PKI (listening on 127.0.0.1:0), then start/stop the server; the port the kernel chose is
// read from its "otafleetd: listening on" line.
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <memory>

namespace otafleet::test {

class ServerProcess {
public:
    // Runs `otafleetd setup` (from binDir) into `dir`; pinEnv is passed as --pin-env when set,
    // extraArgs (e.g. --database URL) after the others.
    [[nodiscard]] static Result<std::unique_ptr<ServerProcess>> setUp(
        const QString& binDir, const QString& dir, const QString& pkiDir,
        const QString& pinEnv = {}, const QStringList& extraArgs = {});
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;
    ~ServerProcess();  // stops if running

    // Starts otafleetd and waits for its listening line.
    [[nodiscard]] Status start(int timeoutMs = 15000);
    void stop();                             // SIGTERM, then SIGKILL after 5 s
    void kill();                             // SIGKILL at once (a crash), and reaped
    [[nodiscard]] QString address() const;   // "127.0.0.1:PORT" once started
    [[nodiscard]] qint64 processId() const;  // 0 when not running (SIGSTOP stalls the server)
    [[nodiscard]] QString dir() const;
    [[nodiscard]] QString configPath() const;
    [[nodiscard]] QString databasePath() const;
    [[nodiscard]] QByteArray output() const;  // everything otafleetd wrote

private:
    ServerProcess();
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace otafleet::test
