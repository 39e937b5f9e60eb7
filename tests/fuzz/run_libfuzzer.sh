#!/usr/bin/env bash
# Real libFuzzer runs of every fuzz target (clang-16, ASan + UBSan), for CI and developers.
#
#   tests/fuzz/run_libfuzzer.sh [SECONDS_PER_TARGET=10] [BUILD_DIR=build/fuzz]
#
# Configures the `fuzz` preset, builds only the fuzz_* executables, then runs each one for the
# given time on a COPY of its committed seed corpus (tests/fuzz/corpus/<thing>), so new inputs
# never land in the repository. Prints one line per target and exits non-zero if any target
# crashed, leaked, timed out or ran out of memory; the reproducer is kept in BUILD_DIR/fuzz-runs.
set -euo pipefail

seconds=${1:-10}
source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build_dir=${2:-$source_dir/build/fuzz}
work=$build_dir/fuzz-runs

cd "$source_dir"
# A fresh build dir is configured through the preset; an existing one keeps its cache.
if [[ ! -f $build_dir/build.ninja ]]; then
    cmake --preset fuzz -B "$build_dir" >/dev/null
else
    cmake -S . -B "$build_dir" >/dev/null
fi

targets=()
for src in tests/fuzz/fuzz_*.cpp; do
    name=$(basename "$src" .cpp)
    [[ $name == fuzz_replay_main ]] && continue
    targets+=("$name")
done
cmake --build "$build_dir" --target "${targets[@]}" >"$build_dir/fuzz-build.log" 2>&1 || {
    tail -40 "$build_dir/fuzz-build.log"
    echo "run_libfuzzer: build failed (log: $build_dir/fuzz-build.log)"
    exit 1
}

rm -rf "$work"
mkdir -p "$work"
export QT_LOGGING_RULES='*.debug=false;*.info=false;*.warning=false'
export QT_QPA_PLATFORM=offscreen
# Leak checking is on by default in libFuzzer+ASan; make every sanitizer report fatal.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

failed=0
for name in "${targets[@]}"; do
    seeds=tests/fuzz/corpus/${name#fuzz_}
    bin=$(find "$build_dir" -type f -name "$name" -perm -u+x | head -1)
    if [[ -z $bin ]]; then
        echo "$name: FAIL (no binary built)"
        failed=1
        continue
    fi
    corpus=$work/$name-corpus
    mkdir -p "$corpus"
    [[ -d $seeds ]] && cp -r "$seeds/." "$corpus/"
    log=$work/$name.log
    start=$(date +%s)
    if "$bin" -max_total_time="$seconds" -seed="${OTAFLEET_FUZZ_SEED:-1}" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$work/$name-" "$corpus" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
        echo "$name: ok ($((  $(date +%s) - start )) s, ${runs:-?} runs, cov ${cov:-?}," \
            "$(find "$corpus" -type f | wc -l) corpus files)"
    else
        failed=1
        pattern='ERROR: [A-Za-z]+: [a-z -]+|runtime error: .{0,60}'
        what=$(grep -m1 -oE "$pattern" "$log" || true)
        echo "$name: FAIL (${what:-exit status, see $log}; artifacts $work/$name-*)"
        grep -m1 -A12 -E 'ERROR:|runtime error:' "$log" || tail -20 "$log"
    fi
done
exit $failed
