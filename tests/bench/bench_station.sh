#!/usr/bin/env bash
# Benchmark: the factory station's aggregate speed-up. One simulated unit alone, then UNITS units
# at once (each an otafleet-mcusim on its own pty, paced at BAUD like a real UART; 0: unpaced),
# each run through `otafleetctl station run` (upload, test, reset, boot, confirm). Prints both
# wall times, units per hour, and the speed-up UNITS * t(1) / t(UNITS) (UNITS = perfectly
# parallel; 1 = no better than one at a time). Nothing is asserted: this reports.
# Usage: bench_station.sh BIN_DIR [UNITS] [SIZE_KIB] [BAUD]
set -euo pipefail
bin=${1:?usage: bench_station.sh BIN_DIR [UNITS] [SIZE_KIB] [BAUD]}
units=${2:-16}
size_kib=${3:-64}
baud=${4:-115200}
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

wait_for() {  # FILE PATTERN: up to 10 s
  for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "bench_station: '$2' never appeared in $1:" >&2
  cat "$1" >&2
  exit 1
}
stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
# plug NAME PORT_DIR: a simulated unit whose pty is PORT_DIR/NAME
plug() {
  local dir=$work/units/$1
  mkdir -p "$dir" "$2"
  "$bin/otafleet-mcusim" --dir "$dir" --key "$work/pub.pem" --pty --baud "$baud" \
    --serial "$1" --slot-size $(( (size_kib + 64) * 1024 )) >"$dir.out" 2>&1 &
  pids+=($!)
  wait_for "$dir.out" '^pty: '
  ln -s "$(sed -n 's/^pty: //p' "$dir.out")" "$2/$1"
}
# run PORT_DIR N: seconds for a station run over N units
run() {
  local start end
  start=$(date +%s.%N)
  "$bin/otafleetctl" station run --ports "$1/*" --image "$work/image.bin" --key "$work/pub.pem" \
    --operator bench --station-id bench --db "$work/trace.db" --units "$2" --timeout 30m \
    --json >"$1.json" 2>"$1.err" || { echo "bench_station: the run failed:" >&2; cat "$1.err" >&2; exit 1; }
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }'
}

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/key.pem" 2>/dev/null
openssl pkey -in "$work/key.pem" -pubout -out "$work/pub.pem"
head -c $(( size_kib * 1024 - 1024 )) /dev/urandom >"$work/fw.bin"
"$bin/otafleetctl" mcuboot sign "$work/fw.bin" --key "$work/key.pem" --version 1.0.0 \
  --header-size 0x200 --slot-size $(( (size_kib + 64) * 1024 )) --pad-header \
  -o "$work/image.bin" >/dev/null 2>&1
echo "image: $(stat -c %s "$work/image.bin") bytes; ptys paced at ${baud} baud (0: unpaced); $(nproc) cores"

plug alone "$work/one"
t1=$(run "$work/one" 1)
stop_all
for i in $(seq "$units"); do plug "unit$i" "$work/many"; done
tn=$(run "$work/many" "$units")
stop_all
passed=$(grep -c '"result": "pass"' "$work/many.json" || true)
echo "1 unit alone: ${t1} s ($(awk -v t="$t1" 'BEGIN { printf "%.0f", 3600 / t }') units per hour)"
echo "$units units at once: ${tn} s, $passed passed ($(awk -v t="$tn" -v n="$units" 'BEGIN { printf "%.0f", n * 3600 / t }') units per hour)"
echo "aggregate speed-up: $(awk -v a="$t1" -v b="$tn" -v n="$units" 'BEGIN { printf "%.2f", n * a / b }') (ideal $units)"
