#!/usr/bin/env bash
# Benchmark: MCUmgr SMP image upload to otafleet-mcusim, beside the limit of the link.
#   serial  SIZE_KIB image over a pty paced at 115200 baud (8N1): the upload's time beside the
#           line-rate limit (bytes the serial framing puts on the wire for every upload request,
#           times 10 bits, divided by the baud rate) and their ratio (1.00 = the wire is full);
#   udp     the same image over UDP on loopback with 1, 2 and 4 requests in flight, each beside
#           the 1-in-flight time (speed-up).
# Nothing is asserted: this reports. Usage: bench_smp.sh BIN_DIR [SIZE_KIB]
set -euo pipefail
# shellcheck source=smp_line_rate.sh
. "$(dirname "$0")/smp_line_rate.sh"
bin=${1:?usage: bench_smp.sh BIN_DIR [SIZE_KIB]}
size_kib=${2:-256}
baud=115200
work=$(mktemp -d)
sim_pid=
cleanup() {
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_for() {  # FILE PATTERN: up to 10 s
  for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "bench_smp: '$2' never appeared in $1:" >&2
  cat "$1" >&2
  exit 1
}
start_sim() {  # DIR ARGS...: starts the simulator, sets sim_pid
  local dir=$1
  shift
  "$bin/otafleet-mcusim" --dir "$dir" --key "$work/pub.pem" --slot-size $(( (size_kib + 64) * 1024 )) \
    "$@" >"$dir.out" 2>&1 &
  sim_pid=$!
}
stop_sim() { kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; sim_pid=; }
field() { sed -n "s/.*\"$1\": *\([0-9.]*\).*/\1/p" "$2" | head -1; }

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/key.pem" 2>/dev/null
openssl pkey -in "$work/key.pem" -pubout -out "$work/pub.pem"
head -c $(( size_kib * 1024 - 1024 )) /dev/urandom >"$work/fw.bin"
"$bin/otafleetctl" mcuboot sign "$work/fw.bin" --key "$work/key.pem" --version 1.0.0 \
  --header-size 0x200 --slot-size $(( (size_kib + 64) * 1024 )) --pad-header \
  -o "$work/image.bin" >/dev/null 2>&1
bytes=$(stat -c %s "$work/image.bin")
echo "image: $bytes bytes"

# Serial over a paced pty.
start_sim "$work/serial" --pty --baud "$baud"
wait_for "$work/serial.out" '^pty: '
pty=$(sed -n 's/^pty: //p' "$work/serial.out")
"$bin/otafleetctl" mcu upload "$work/image.bin" --key "$work/pub.pem" --port "$pty" \
  --baud "$baud" --json >"$work/serial.json"
stop_sim
secs=$(field seconds "$work/serial.json")
chunk=$(field chunk_size "$work/serial.json")
limit=$(line_rate_limit "$bytes" "$chunk" "$baud")
echo "serial $baud baud: upload ${secs} s, line-rate limit ${limit} s," \
  "ratio $(awk -v a="$secs" -v b="$limit" 'BEGIN { printf "%.2f", a / b }') (chunk $chunk bytes)"

# UDP on loopback, 1, 2 and 4 requests in flight.
base=
for n in 1 2 4; do
  start_sim "$work/udp$n" --udp 127.0.0.1:0 --buf-count 4
  wait_for "$work/udp$n.out" '^udp: '
  address=$(sed -n 's/^udp: //p' "$work/udp$n.out")
  "$bin/otafleetctl" mcu upload "$work/image.bin" --key "$work/pub.pem" --udp "$address" \
    --in-flight "$n" --json >"$work/udp$n.json"
  stop_sim
  secs=$(field seconds "$work/udp$n.json")
  [ -z "$base" ] && base=$secs
  echo "udp loopback, $n in flight: ${secs} s," \
    "$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.1f", b / 1024 / (s > 0 ? s : 1e-9) }') KiB/s," \
    "speed-up $(awk -v a="$base" -v b="$secs" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }') vs 1 in flight"
done
