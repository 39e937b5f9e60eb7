// Running the built otafleetctl from a test: the program from OTAFLEET_BIN_DIR (a compile
// definition every otafleet_add_test target gets), with the shared process deadline.
#pragma once

#include "ProcessRun.h"

#ifndef OTAFLEET_BIN_DIR
#error "CliRun.h needs OTAFLEET_BIN_DIR, which otafleet_add_test defines"
#endif

namespace otafleet::test {

inline ProcessRun otafleetctl(const QStringList& args) {
    return runProcess(QStringLiteral(OTAFLEET_BIN_DIR "/otafleetctl"), args);
}

// Arguments written plainly: ctl({"pki", "list", "--pki", dir}).
inline ProcessRun ctl(std::initializer_list<QAnyStringView> args) {
    return otafleetctl(argList(args));
}

}  // namespace otafleet::test
