# Shared by run_libfuzzer.sh (CI's short stage) and campaign.sh (deep runs): which targets exist,
# how the fuzz preset is configured and built, and the environment every libFuzzer run gets.
# Source it; it defines functions only, plus `fuzz_source_dir`.

fuzz_source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Every fuzz target, one name per line: tests/fuzz/fuzz_<thing>.cpp is target fuzz_<thing> with
# seeds in tests/fuzz/corpus/<thing>.
fuzz_all_targets() {
    local src name
    for src in "$fuzz_source_dir"/tests/fuzz/fuzz_*.cpp; do
        name=$(basename "$src" .cpp)
        [[ $name == fuzz_replay_main ]] && continue
        echo "$name"
    done
}

# fuzz_build BUILD_DIR TARGET...: configure the `fuzz` preset (a fresh dir through the preset, an
# existing one keeps its cache) and build only the named targets. The log stays in BUILD_DIR.
fuzz_build() {
    local build_dir=$1
    shift
    (
        cd "$fuzz_source_dir"
        if [[ ! -f $build_dir/build.ninja ]]; then
            cmake --preset fuzz -B "$build_dir" >/dev/null
        else
            cmake -S . -B "$build_dir" >/dev/null
        fi
    ) || return 1
    cmake --build "$build_dir" --parallel "${OTAFLEET_FUZZ_BUILD_JOBS:-2}" --target "$@" \
        >"$build_dir/fuzz-build.log" 2>&1 || {
        tail -40 "$build_dir/fuzz-build.log"
        echo "fuzz build failed (log: $build_dir/fuzz-build.log)" >&2
        return 1
    }
}

# fuzz_binary BUILD_DIR NAME: the built executable's path, or nothing.
fuzz_binary() {
    find "$1" -type f -name "$2" -perm -u+x | head -1
}

# Quiet Qt, fatal sanitizers, leak checking on (libFuzzer + ASan default, said explicitly).
# ASan's default 256 MiB quarantine of freed memory makes every allocation of a long run land on
# fresh pages; on a VM each page fault is dear, and OpenSSL and zstd allocate a lot per input.
# 8 MiB still keeps what was freed recently poisoned (a use soon after a free is caught) and
# makes fuzz_certificate about 3 times faster here.
fuzz_export_env() {
    export QT_LOGGING_RULES='*.debug=false;*.info=false;*.warning=false'
    export QT_QPA_PLATFORM=offscreen
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1:quarantine_size_mb=8
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
}

# fuzz_failure_summary LOG: one line naming what went wrong in a failed run.
fuzz_failure_summary() {
    local pattern='ERROR: [A-Za-z]+: [a-z -]+|runtime error: .{0,60}|ERROR: libFuzzer: [a-z-]+'
    grep -m1 -oE "$pattern" "$1" || echo "exit status, see $1"
}

# fuzz_artifact LOG: the input libFuzzer wrote for a crash, leak, timeout or OOM.
fuzz_artifact() {
    sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$1" | tail -1
}
