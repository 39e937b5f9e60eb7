#!/usr/bin/env bash
# Benchmark: push a bundle (default 256 MiB) to a local otafleet-agent over TLS, beside the
# physical limits measured in the same run: `openssl dgst -sha256` of the same file and a plain
# copy of it. Prints time, MB/s and peak RSS of the agent and of otafleetctl, with ratios.
# Nothing is asserted: this reports. Usage: bench_push.sh BIN_DIR [SIZE_MIB]
set -euo pipefail
bin=${1:?usage: bench_push.sh BIN_DIR [SIZE_MIB]}
size_mib=${2:-256}
work=$(mktemp -d)
agent_pid=
cleanup() { [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

now() { date +%s.%N; }
rate() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", (b / 1048576) / (s > 0 ? s : 1e-9) }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

"$bin/otafleetctl" pki init --dir "$work/pki" >/dev/null 2>&1
"$bin/otafleet-agent" setup --dir "$work/agent" --pki "$work/pki" --listen "127.0.0.1:$port" \
  --slot-size $(( (size_mib + 8) * 1048576 )) >/dev/null 2>&1
"$bin/otafleet-agent" --config "$work/agent/agent.conf" 2>"$work/agent.log" &
agent_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/agent.log" && break; sleep 0.1; done

head -c $(( size_mib * 1048576 )) /dev/urandom > "$work/payload.img"
"$bin/otafleetctl" bundle create --payload rootfs="$work/payload.img" --version 9.9.9 \
  --hardware rev-a --security-version 9 -o "$work/b.otab" >/dev/null
"$bin/otafleetctl" bundle sign "$work/b.otab" --pki "$work/pki" >/dev/null 2>&1
bytes=$(stat -c %s "$work/b.otab")
sync

t0=$(now); openssl dgst -sha256 "$work/b.otab" >/dev/null; t1=$(now)
dgst=$(secs "$t0" "$t1")
t0=$(now); cp "$work/b.otab" "$work/copy.otab"; sync "$work/copy.otab"; t1=$(now)
copy=$(secs "$t0" "$t1")
rm -f "$work/copy.otab"

t0=$(now)
/usr/bin/env time -f '%M' -o "$work/ctl.rss" "$bin/otafleetctl" device push "$work/b.otab" \
  --target "127.0.0.1:$port" --pki "$work/pki" --no-reboot >/dev/null
t1=$(now)
push=$(secs "$t0" "$t1")
agent_rss=$(awk '/VmHWM/ { print $2 }' "/proc/$agent_pid/status")
ctl_rss=$(cat "$work/ctl.rss")

printf '\nbench_push: %s MiB bundle (%d bytes) to a local agent over TLS (upload + verify + install)\n' "$size_mib" "$bytes"
printf '%-36s %9s %10s %8s\n' "what" "seconds" "MB/s" "ratio"
printf '%-36s %9s %10s %8s\n' "baseline: openssl dgst -sha256" "$dgst" "$(rate "$bytes" "$dgst")" "1.00"
printf '%-36s %9s %10s %8s\n' "baseline: cp + sync" "$copy" "$(rate "$bytes" "$copy")" "$(ratio "$copy" "$dgst")"
printf '%-36s %9s %10s %8s\n' "otafleetctl device push --no-reboot" "$push" "$(rate "$bytes" "$push")" "$(ratio "$push" "$dgst")"
printf 'peak RSS: agent %s KiB, otafleetctl %s KiB (payload %s MiB; neither holds it in memory)\n' \
  "$agent_rss" "$ctl_rss" "$size_mib"
