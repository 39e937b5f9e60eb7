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
# shellcheck source=tests/fuzz/libfuzzer-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/libfuzzer-common.sh"
source_dir=$fuzz_source_dir
build_dir=${2:-$source_dir/build/fuzz}
work=$build_dir/fuzz-runs

cd "$source_dir"
mapfile -t targets < <(fuzz_all_targets)
fuzz_build "$build_dir" "${targets[@]}" || {
    echo "run_libfuzzer: build failed"
    exit 1
}

rm -rf "$work"
mkdir -p "$work"
fuzz_export_env

failed=0
for name in "${targets[@]}"; do
    seeds=tests/fuzz/corpus/${name#fuzz_}
    bin=$(fuzz_binary "$build_dir" "$name")
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
        echo "$name: FAIL ($(fuzz_failure_summary "$log"); artifacts $work/$name-*)"
        grep -m1 -A12 -E 'ERROR:|runtime error:' "$log" || tail -20 "$log"
    fi
done
exit $failed
