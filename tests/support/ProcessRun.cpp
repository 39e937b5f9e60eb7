#include "ProcessRun.h"

#include <QFile>
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

QStringList argList(std::initializer_list<QAnyStringView> args) {
    QStringList list;
    for (const QAnyStringView& arg : args) {
        list.append(arg.toString());
    }
    return list;
}

QByteArray readAll(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

}  // namespace otafleet::test
