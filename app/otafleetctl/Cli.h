// The small frame every otafleetctl command is written in: one Command per verb, its own option
// parser (so `--help` works for each), a uniform way to print data (`--json` or text), errors
// (a sentence plus its stable code, on stderr) and progress (on stderr, only on a terminal).
#pragma once

#include "common/Error.h"
#include "crypto/SecretString.h"
#include "crypto/SigningKey.h"

#include <QCommandLineParser>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <functional>

namespace otafleet::cli {

enum ExitCode : int { kSuccess = 0, kFailure = 1, kUsage = 2 };

struct Command {
    QString group;     // "bundle"
    QString name;      // "create"
    QString summary;   // one line for the overview
    QString synopsis;  // positional arguments, for --help
    std::function<void(QCommandLineParser&)> addOptions;
    std::function<int(const QCommandLineParser&)> run;
};

// Every command group registers itself here from its own file.
QList<Command> pkiCommands();
QList<Command> stationCommands();  // pki station (StationCommands.cpp)
QList<Command> bundleCommands();
QList<Command> deltaCommands();
QList<Command> deviceCommands();
QList<Command> mcubootCommands();
QList<Command> mcuCommands();             // MCUmgr SMP devices (McuCommands.cpp)
QList<Command> factoryStationCommands();  // station run|report|import (FactoryStationCommands.cpp)
QList<Command> userAuditCommands();       // user, audit (UserAuditCommands.cpp)
QList<Command> fleetReleaseCommands();    // fleet, release (FleetReleaseCommands.cpp)
QList<Command> fleetTelemetryCommands();  // fleet telemetry|anomalies (FleetTelemetryCommands.cpp)
QList<Command> rolloutCommands();         // rollout (RolloutCommands.cpp)
// simulate: a group that is one command, with an empty name (SimulateCommand.cpp)
QList<Command> simulateCommands();

// Output.
void printError(const Error& error, bool json = false);
void printJson(const QJsonObject& object);
void printText(const QString& text);

// Reports a failed Result/Status the same way everywhere and returns the exit code.
int failWith(const Error& error, bool json = false);
int usageError(const QString& message);

// Progress on stderr: redraws one line on a terminal, prints nothing otherwise (logs stay clean).
class ProgressPrinter {
public:
    explicit ProgressPrinter(QString label);
    ~ProgressPrinter();
    ProgressPrinter(const ProgressPrinter&) = delete;
    ProgressPrinter& operator=(const ProgressPrinter&) = delete;
    void update(qint64 done, qint64 total);
    void setLabel(const QString& label);
    void finish();

private:
    QString m_label;
    bool m_enabled;
    int m_lastPermille = -1;
    bool m_open = false;
};

// PIN source for --pin-env VAR, else an interactive prompt; the PIN is never stored.
std::function<Result<crypto::SecretString>()> pinProvider(const QString& pinEnv,
                                                          const QString& what);

// Where a signing command takes its key from: a named signer of a PKI (--pki, --signer), or a
// pkcs11: URI / PEM file (--key, --pkcs11-module). The PIN comes from --pin-env or a prompt.
struct KeySource {
    QString pkiDir;
    QString signerName;
    QString keyReference;
    QString pkcs11Module;
    QString pinEnv;
};
[[nodiscard]] Result<std::unique_ptr<crypto::SigningKey>> openSigningKey(const KeySource& source);

// "1.5 MiB"
QString formatBytes(qint64 bytes);

}  // namespace otafleet::cli
