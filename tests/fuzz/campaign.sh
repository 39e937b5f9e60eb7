#!/usr/bin/env bash
# A deep libFuzzer campaign over otafleet's parsers, outside CI. See --help.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: bash tests/fuzz/campaign.sh [--seconds-per-target N | --runs N] [--jobs J]
                                   [--merge-into DIR | --no-merge] [OPTIONS] [TARGET...]

Fuzzes every target (or the named ones: fuzz_manifest or just manifest) with a copy of its
committed corpus (tests/fuzz/corpus/<thing>) and its dictionary (tests/fuzz/dict/<thing>.dict,
with its "#include" lines expanded) under ASan, UBSan and leak checking, built with the `fuzz`
preset (clang-16). Without a limit a target runs 600 seconds or 10,000,000 inputs, whichever
comes first; --seconds-per-target alone lifts the run limit and --runs alone the time limit.

Prints per target: runs, runs per second, coverage (cov: edges, ft: features, from libFuzzer's
final stats), new corpus entries and peak memory. Stops at the first crash, leak, timeout or
out-of-memory, prints the command that reproduces it and exits 1.

Afterwards it can minimise what each target's corpus grew (libFuzzer -merge=1 against the
committed seeds): only inputs that add coverage land in DIR/<thing>/, to review and then copy
into tests/fuzz/corpus/<thing>/. On a terminal it asks; --merge-into DIR or --no-merge decide.

Options:
  --seconds-per-target N  time per target (default 600 together with --runs 10000000)
  --runs N                inputs per target
  --jobs J                targets fuzzed at the same time (default 1; one core each)
  --merge-into DIR        minimise grown corpora into DIR without asking
  --no-merge              do not offer to minimise
  --seed N                libFuzzer -seed (default 1), for runs that can be compared
  --timeout N             seconds one input may take before it counts as a hang (default 10)
  --build-dir DIR         fuzz build tree (default build/fuzz)
  --work-dir DIR          corpora, logs and artifacts (default BUILD_DIR/campaign)
  --no-build              use the binaries already in BUILD_DIR
  --list                  print the targets and exit
  -h, --help              this text

Exit status: 0 every target ran clean, 1 a crash, leak, timeout, OOM or build failure,
2 bad usage.
EOF
}

# shellcheck source=tests/fuzz/libfuzzer-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/libfuzzer-common.sh"
cd "$fuzz_source_dir"

usage_error() {
    echo "campaign: $1 (see --help)" >&2
    exit 2
}
need_number() {
    [[ ${2:-} =~ ^[0-9]+$ ]] || usage_error "$1 needs a whole number"
}

seconds=
runs=
jobs=1
merge=ask
merge_dir=
seed=1
timeout=10
build_dir=$fuzz_source_dir/build/fuzz
work=
build=1
list=0
requested=()
while (($#)); do
    case $1 in
    --seconds-per-target) need_number "$1" "${2:-}"; seconds=$2; shift 2 ;;
    --runs) need_number "$1" "${2:-}"; runs=$2; shift 2 ;;
    --jobs) need_number "$1" "${2:-}"; jobs=$2; shift 2 ;;
    --merge-into) [[ -n ${2:-} ]] || usage_error "--merge-into needs a directory"
        merge=yes; merge_dir=$2; shift 2 ;;
    --no-merge) merge=no; shift ;;
    --seed) need_number "$1" "${2:-}"; seed=$2; shift 2 ;;
    --timeout) need_number "$1" "${2:-}"; timeout=$2; shift 2 ;;
    --build-dir) [[ -n ${2:-} ]] || usage_error "--build-dir needs a directory"
        build_dir=$(realpath -m "$2"); shift 2 ;;
    --work-dir) [[ -n ${2:-} ]] || usage_error "--work-dir needs a directory"
        work=$(realpath -m "$2"); shift 2 ;;
    --no-build) build=0; shift ;;
    --list) list=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) usage_error "unknown option $1" ;;
    *) requested+=("$1"); shift ;;
    esac
done
((jobs >= 1)) || usage_error "--jobs must be at least 1"
if [[ -z $seconds && -z $runs ]]; then
    seconds=600
    runs=10000000
fi
[[ -n $merge_dir ]] && merge_dir=$(realpath -m "$merge_dir")
work=${work:-$build_dir/campaign}

mapfile -t all < <(fuzz_all_targets)
if ((list)); then
    printf '%s\n' "${all[@]}"
    exit 0
fi
targets=()
for want in "${requested[@]}"; do
    name=fuzz_${want#fuzz_}
    printf '%s\n' "${all[@]}" | grep -qx "$name" ||
        usage_error "no fuzz target $want; targets: ${all[*]}"
    targets+=("$name")
done
((${#targets[@]})) || targets=("${all[@]}")

limit_text() {
    local parts=()
    [[ -n $seconds ]] && parts+=("$seconds s")
    [[ -n $runs ]] && parts+=("$runs runs")
    if ((${#parts[@]} == 2)); then
        echo "${parts[0]} or ${parts[1]} (whichever comes first)"
    else
        echo "${parts[0]}"
    fi
}
rounds=$(((${#targets[@]} + jobs - 1) / jobs))
echo "campaign: ${#targets[@]} target(s), $(limit_text) each, $jobs at a time, seed $seed"
[[ -n $seconds ]] && echo "campaign: at most about $((rounds * seconds / 60)) min of fuzzing" \
    "($rounds round(s) of $seconds s)"

if ((build)); then
    echo "campaign: building ${targets[*]} in $build_dir (log: $build_dir/fuzz-build.log)"
    fuzz_build "$build_dir" "${targets[@]}" || exit 1
fi
rm -rf "$work"
mkdir -p "$work"
fuzz_export_env

# The target's dictionary with its "#include other.dict" lines expanded (one level), or nothing.
dictionary_for() {
    local thing=$1 dict=tests/fuzz/dict/$1.dict out=$work/$1.dict include
    [[ -f $dict ]] || return 0
    : >"$out"
    while read -r include; do
        cat "tests/fuzz/dict/$include" >>"$out"
    done < <(sed -n 's/^#include \(.*\.dict\)$/\1/p' "$dict")
    cat "$dict" >>"$out"
    echo "$out"
}

# Runs one target; leaves $work/<name>.log and $work/<name>.result ("ok" or "fail").
fuzz_one() {
    local name=$1 thing=${1#fuzz_} bin dict corpus log status=0
    bin=$(fuzz_binary "$build_dir" "$name")
    log=$work/$name.log
    if [[ -z $bin ]]; then
        echo "no binary $name in $build_dir (build it, or drop --no-build)" >"$log"
        echo fail >"$work/$name.result"
        return
    fi
    corpus=$work/corpus/$thing
    mkdir -p "$corpus"
    [[ -d tests/fuzz/corpus/$thing ]] && cp -r "tests/fuzz/corpus/$thing/." "$corpus/"
    local args=(-seed="$seed" -rss_limit_mb=2048 -timeout="$timeout" -print_final_stats=1
        -artifact_prefix="$work/$name-")
    [[ -n $seconds ]] && args+=(-max_total_time="$seconds")
    [[ -n $runs ]] && args+=(-runs="$runs")
    dict=$(dictionary_for "$thing")
    [[ -n $dict ]] && args+=(-dict="$dict")
    echo "$bin ${args[*]} $corpus" >"$work/$name.command"
    # In the background so that stop_running can end exactly this process by its id.
    "$bin" "${args[@]}" "$corpus" >"$log" 2>&1 &
    echo $! >"$work/$name.pid"
    wait $! || status=$?
    if ((status == 0)) && ! grep -q '^Done [0-9]* runs\|^stat::number_of_executed_units' "$log"
    then
        status=1 # it stopped without libFuzzer's closing lines: not a clean run
    fi
    if ((status == 0)); then echo ok >"$work/$name.result"; else echo fail >"$work/$name.result"; fi
}

stat_of() {
    sed -n "s/^stat::$2: *//p" "$work/$1.log" | tail -1
}

report() {
    local name=$1 thing=${1#fuzz_} log=$work/$1.log seeds grown line cov ft
    if [[ $(cat "$work/$name.result") == ok ]]; then
        seeds=$(find "tests/fuzz/corpus/$thing" -type f 2>/dev/null | wc -l)
        grown=$(find "$work/corpus/$thing" -type f | wc -l)
        line=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1)
        cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$line")
        ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$line")
        printf '%-22s ok   runs %10s  %6s/s  cov %5s  ft %6s  new %4s  (corpus %s -> %s)  %s MB\n' \
            "$name" "$(stat_of "$name" number_of_executed_units)" \
            "$(stat_of "$name" average_exec_per_sec)" "${cov:-?}" "${ft:-?}" \
            "$(stat_of "$name" new_units_added)" "$seeds" "$grown" \
            "$(stat_of "$name" peak_rss_mb)"
        return 0
    fi
    local artifact
    artifact=$(fuzz_artifact "$log")
    echo "$name FAIL: $(fuzz_failure_summary "$log")"
    grep -m1 -A14 -E 'ERROR:|runtime error:' "$log" | sed 's/^/    /' || tail -20 "$log"
    echo "    log: $log"
    if [[ -n $artifact ]]; then
        echo "    reproduce: ASAN_OPTIONS=$ASAN_OPTIONS UBSAN_OPTIONS=$UBSAN_OPTIONS" \
            "$(fuzz_binary "$build_dir" "$name") -rss_limit_mb=2048 -timeout=$timeout $artifact"
        echo "    once fixed, commit it as a regression seed:" \
            "cp $artifact tests/fuzz/corpus/$thing/regression-<what>"
    else
        echo "    rerun: $(cat "$work/$name.command" 2>/dev/null)"
    fi
    return 1
}

# Fuzz `jobs` targets at a time; stop starting new ones, and stop the running ones, at the first
# failure.
declare -A running=() # pid -> target
failed=0
stop_running() {
    local pid name
    for pid in "${!running[@]}"; do
        name=${running[$pid]}
        [[ -f $work/$name.pid ]] && kill -- "$(cat "$work/$name.pid")" 2>/dev/null
        kill -- "$pid" 2>/dev/null || true
    done
    for pid in "${!running[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    running=()
}
trap 'stop_running; exit 1' INT TERM
collect_one() {
    local pid
    wait -n -p pid "${!running[@]}" || true
    local name=${running[$pid]}
    unset "running[$pid]"
    if ! report "$name"; then
        failed=1
        stop_running
    fi
}
start=$(date +%s)
for name in "${targets[@]}"; do
    ((failed)) && break
    while ((${#running[@]} >= jobs)); do
        collect_one
        ((failed)) && break
    done
    ((failed)) && break
    fuzz_one "$name" &
    running[$!]=$name
done
while ((${#running[@]})) && ((!failed)); do
    collect_one
done
echo "campaign: $((($(date +%s) - start) / 60)) min $((($(date +%s) - start) % 60)) s;" \
    "logs, corpora and artifacts in $work"
if ((failed)); then
    echo "campaign: FAILED (see above); nothing was minimised"
    exit 1
fi

if [[ $merge == ask ]]; then
    merge=no
    if [[ -t 0 && -t 1 ]]; then
        read -r -p "Minimise the grown corpora into $work/merged for review? [y/N] " answer
        [[ $answer == [yY]* ]] && merge=yes
    else
        echo "campaign: to keep what the corpora grew, rerun with --merge-into DIR"
    fi
fi
if [[ $merge == yes ]]; then
    merge_dir=${merge_dir:-$work/merged}
    for name in "${targets[@]}"; do
        thing=${name#fuzz_}
        out=$merge_dir/$thing
        seeds=tests/fuzz/corpus/$thing
        rm -rf "$out" "$work/merge-base"
        mkdir -p "$out" "$work/merge-base"
        # Merging into a copy of the committed seeds keeps only inputs that add coverage beyond
        # them; the seed copies are then removed, so $out holds just the candidates to commit.
        [[ -d $seeds ]] && cp -r "$seeds/." "$work/merge-base/"
        "$(fuzz_binary "$build_dir" "$name")" -merge=1 -rss_limit_mb=2048 -timeout="$timeout" \
            "$work/merge-base" "$work/corpus/$thing" >"$work/$name.merge.log" 2>&1 || {
            echo "$name: merge failed (log: $work/$name.merge.log)"
            exit 1
        }
        for file in "$work/merge-base"/*; do
            [[ -e $seeds/$(basename "$file") ]] || mv "$file" "$out/"
        done
        added=$(find "$out" -type f | wc -l)
        echo "$name: $added input(s) add coverage -> $out"
    done
    rm -rf "$work/merge-base"
    echo "campaign: review, then e.g. cp $merge_dir/<thing>/* tests/fuzz/corpus/<thing>/"
fi
