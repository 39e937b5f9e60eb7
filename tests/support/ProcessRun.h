// Running programs from tests (otafleetctl, otafleet-agent, openssl): exit code and both outputs,
// with a deadline so that a hung child fails its test instead of stalling the CI run.
#pragma once

#include <QAnyStringView>
#include <QByteArray>
#include <QString>
#include <QStringList>

#include <initializer_list>

namespace otafleet::test {

struct ProcessRun {
    int exitCode = -1;  // -1: crashed or timed out (err says which)
    QByteArray out;
    QByteArray err;
};

inline constexpr int kProcessTimeoutMs = 90'000;

[[nodiscard]] ProcessRun runProcess(const QString& program, const QStringList& args,
                                    int timeoutMs = kProcessTimeoutMs);

// Arguments written plainly: runProcess(program, argList({"pki", "list", "--pki", dir})).
[[nodiscard]] QStringList argList(std::initializer_list<QAnyStringView> args);

// A whole file, or empty if it cannot be read (tests compare it with what they expect).
[[nodiscard]] QByteArray readAll(const QString& path);

}  // namespace otafleet::test
