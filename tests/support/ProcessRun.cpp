#include "ProcessRun.h"

#include <QProcess>

namespace otafleet::test {

ProcessRun runProcess(const QString& program, const QStringList& args, int timeoutMs) {
    QProcess process;
    process.start(program, args);
    ProcessRun run;
    if (!process.waitForFinished(timeoutMs)) {
        process.kill();
        process.waitForFinished();
        run.err = "timed out: " + program.toUtf8();
        return run;
    }
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.out = process.readAllStandardOutput();
    run.err = process.readAllStandardError();
    return run;
}

}  // namespace otafleet::test
