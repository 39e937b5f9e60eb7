// Process-wide protections for programs that handle PINs, private keys or signing sessions.
#pragma once

namespace otafleet {

// Makes the process produce no core dump: RLIMIT_CORE 0 for dumps written by the kernel, and
// PR_SET_DUMPABLE 0, which also covers a piped core_pattern (systemd-coredump, apport) that
// ignores RLIMIT_CORE, and stops other processes of the same user from reading this one's
// memory through ptrace or /proc/PID/mem. Returns false if either step failed (the caller
// logs it; the program still works, only less protected).
[[nodiscard]] bool disableCoreDumps();

}  // namespace otafleet
