#!/usr/bin/env bash
# Benchmark: an otafleet bundle uploaded over SMP to a real otafleet-agent on a pty it paces at
# 115200 baud (8N1), beside the line-rate limit (bytes SMP's serial framing puts on the wire for
# every upload request, times 10 bits, divided by the baud rate) and their ratio (1.00 = the wire
# is full). Upload only: verifying and installing is the agent's install path, timed by
# bench_push.sh. Nothing is asserted: this reports. Usage: bench_agentsmp.sh BIN_DIR [SIZE_KIB]
# (default 4096: about nine minutes at 115200 baud).
set -euo pipefail
# shellcheck source=smp_line_rate.sh
. "$(dirname "$0")/smp_line_rate.sh"
bin=${1:?usage: bench_agentsmp.sh BIN_DIR [SIZE_KIB]}
size_kib=${2:-4096}
baud=115200
work=$(mktemp -d)
agent_pid=
trap '[ -z "$agent_pid" ] || kill "$agent_pid" 2>/dev/null; rm -rf "$work"' EXIT

"$bin/otafleetctl" pki init --dir "$work/pki" >/dev/null 2>&1
head -c $(( size_kib * 1024 - 4096 )) /dev/urandom >"$work/rootfs.bin"
"$bin/otafleetctl" bundle create --payload rootfs="$work/rootfs.bin" --version 2.0.0 \
  --hardware rev-a --security-version 2 -o "$work/update.otab" >/dev/null 2>&1
"$bin/otafleetctl" bundle sign "$work/update.otab" --pki "$work/pki" >/dev/null 2>&1
port=$(( 20000 + RANDOM % 20000 ))
"$bin/otafleet-agent" setup --dir "$work/device" --pki "$work/pki" --listen "127.0.0.1:$port" \
  --slot-size $(( (size_kib + 1024) * 1024 )) >/dev/null 2>&1
printf '\n[smp]\nserial = pty\nbaud = %s\n' "$baud" >>"$work/device/agent.conf"
"$bin/otafleet-agent" --config "$work/device/agent.conf" >"$work/agent.log" 2>&1 &
agent_pid=$!
for _ in $(seq 150); do grep -q 'otafleet-agent: listening' "$work/agent.log" && break; sleep 0.1; done
pty=$(sed -n 's/^otafleet-agent: smp pty //p' "$work/agent.log")
if [ -z "$pty" ]; then
  echo "bench_agentsmp: the agent did not announce its pty:" >&2
  cat "$work/agent.log" >&2
  exit 1
fi
bytes=$(stat -c %s "$work/update.otab")
echo "bundle: $bytes bytes"
"$bin/otafleetctl" mcu upload "$work/update.otab" --pki "$work/pki" --port "$pty" \
  --baud "$baud" --timeout 10000 --json >"$work/upload.json"
secs=$(sed -n 's/.*"seconds": *\([0-9.]*\).*/\1/p' "$work/upload.json" | head -1)
chunk=$(sed -n 's/.*"chunk_size": *\([0-9.]*\).*/\1/p' "$work/upload.json" | head -1)
limit=$(line_rate_limit "$bytes" "$chunk" "$baud")
echo "agent over a pty at $baud baud: upload ${secs} s, line-rate limit ${limit} s," \
  "ratio $(awk -v a="$secs" -v b="$limit" 'BEGIN { printf "%.2f", a / b }') (chunk $chunk bytes)"
