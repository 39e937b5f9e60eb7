// `otafleet-agent enroll`: the command line of device enrolment (agent/Enrollment.h does it).
#pragma once

#include <QStringList>

namespace otafleet::agent {

// Returns the process exit code (0 enrolled, 1 failed, 2 usage).
[[nodiscard]] int runEnrollCommand(const QStringList& arguments);

}  // namespace otafleet::agent
