// Built-in health checks of a trial boot, run before the optional health command: an update
// that leaves the device unable to write its data directory, short of space, or cut off from
// the hosts it must reach is reverted like one whose health command fails.
#pragma once

#include <QList>
#include <QString>
#include <QStringList>

#include <chrono>
#include <utility>

namespace otafleet::agent {

struct HealthCheckSpec {
    QString dataDir;           // always checked: a probe file is written, fsync'd and removed
    quint64 minFreeBytes = 0;  // 'min_free': free space the data directory needs (0: any)
    QStringList tcpTargets;    // 'check_tcp', repeatable: HOST:PORT that must accept a connection
    std::chrono::milliseconds timeout{5000};  // per network check
};

struct HealthCheckResult {
    QString name;  // "data-writable", "free-space", "tcp HOST:PORT"
    bool ok = false;
    QString detail;  // what was found, for the log and telemetry
};

// Runs every check (none stops the others, so the log shows all that is wrong).
[[nodiscard]] QList<HealthCheckResult> runBuiltinHealthChecks(const HealthCheckSpec& spec);

[[nodiscard]] bool allHealthy(const QList<HealthCheckResult>& results);

// The operator's own check ('[health] command'): run in its own process group with stdin from
// /dev/null and the given variables added to the environment; on timeout the whole group is
// killed. Exit code 0 is healthy.
struct HealthCommandSpec {
    QString commandLine;  // split like a shell would, double quotes group words
    std::chrono::milliseconds timeout{30000};
    QList<std::pair<QString, QString>> environment;
};

struct HealthCommandResult {
    bool ok = false;
    bool timedOut = false;
    int exitCode = -1;  // -1: did not start, crashed or timed out
};

[[nodiscard]] HealthCommandResult runHealthCommand(const HealthCommandSpec& spec);

}  // namespace otafleet::agent
