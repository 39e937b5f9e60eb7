#!/usr/bin/env bash
# Benchmark: one otafleetd on loopback with N simulated devices (`otafleetctl simulate`: the
# agent's real core and ServerLink per device, several simulate processes of at most 2,500 each),
# each figure beside a baseline measured in the same run:
#   memory     otafleetd's RSS idle and with N devices connected; per device = RSS delta / N
#              (the simulate processes' RSS per device alongside, for scale);
#   rollout    time from `rollout start` to completed for a release rolled out to all N
#              (waves 1%,10%,100%, no soak, no rate limit, install time zero) as devices per
#              minute, beside AWS IoT Jobs' documented ceiling of 1,000 per minute
#              (maximumPerMinute of a job's rollout config);
#   telemetry  events per second stored into SQLite: through otafleetd's StoreWorker as its
#              sessions store them (queued, written in batches of up to 1,000 per transaction);
#              through DeviceTelemetryRepository one transaction per event (how otafleetd stored
#              them before the StoreWorker batched them) and in batches; beside the bare
#              `sqlite3` CLI inserting the same rows into the same schema in one transaction;
#   page query p50/p99 of ListDevices (what `otafleetctl fleet devices --page N --page-size K`
#              sends) at random pages, unfiltered and filtered, at N devices and at BIG devices
#              (the store seeded directly through FleetDeviceRepository for the rest).
# Nothing is asserted: this reports. On a shared machine the figures are noisy; compare lines of
# one run, not runs. Usage: bench_fleet.sh BIN_DIR [N [BIG]]   (defaults 10000 1000000)
set -euo pipefail
bin=${1:?usage: bench_fleet.sh BIN_DIR [N [BIG]]}
n=${2:-10000}
big=${3:-1000000}
per_process=2500
poll=$(( n >= 1000 ? 5 : 1 ))  # seconds between progress polls
work=$(mktemp -d)
server_pid=
sim_pids=()
cleanup() {
  for p in "${sim_pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  for p in "${sim_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

say() { echo "bench_fleet: $*" >&2; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
json() {  # json KEY.PATH < JSON
  python3 -c 'import json,sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."): v = v[k] if not isinstance(v, list) else v[int(k)]
print(v)' "$1"
}

# Each device holds one TLS connection in otafleetd and one in its simulate process.
want_fds=$(( n + 1024 ))
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fd_note="fd limit $(ulimit -n)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want_fds" ]; then
  fd_note="$fd_note: below the $want_fds that $n devices need; raise the hard limit (limits.conf)"
  say "$fd_note"
fi

port=$(free_port)
address="127.0.0.1:$port"
"$bin/otafleetctl" pki init --dir "$work/pki" >/dev/null 2>&1
"$bin/otafleetd" setup --dir "$work/srv" --pki "$work/pki" --listen "$address" >/dev/null 2>&1
db="$work/srv/data/otafleetd.sqlite"
ctl() { "$bin/otafleetctl" "$@" --server "$address" --pki "$work/pki"; }

start_server() {
  "$bin/otafleetd" --config "$work/srv/otafleetd.conf" 2>>"$work/srv.log" &
  server_pid=$!
  for _ in $(seq 300); do
    grep -q "listening on" "$work/srv.log" 2>/dev/null && return 0
    sleep 0.1
  done
  say "otafleetd did not start:"; cat "$work/srv.log" >&2; exit 1
}
stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
  : >"$work/srv.log"
}
# Devices online: asked over ConsoleService; while a connect storm keeps the console's own
# handshake from getting through, read from the store (read-only) instead.
online() {
  ctl fleet devices --filter "online=true" --page-size 1 --json 2>/dev/null | json total 2>/dev/null ||
    sqlite3 "file:$db?mode=ro" "SELECT COUNT(*) FROM fleet_devices WHERE online = 1" 2>/dev/null ||
    echo 0
}
# retry CMD...: a console command, again (up to 30 times) while the server is too busy to answer.
retry() {
  local out
  for _ in $(seq 30); do
    out=$("$@" 2>>"$work/ctl.err") && { echo "$out"; return 0; }
    sleep 2
  done
  say "gave up on: $*"; tail -1 "$work/ctl.err" >&2; return 1
}

start_server
sleep 1
idle_rss=$(rss_kib "$server_pid")

# N devices in ceil(N / per_process) simulate processes.
say "starting $n simulated devices"
left=$n
i=0
while [ "$left" -gt 0 ]; do
  k=$(( left < per_process ? left : per_process ))
  # Niced: the simulated devices are the load, otafleetd is what is measured; on 2 cores the
  # devices' own TLS and install work would otherwise starve the server they dial.
  nice -n 10 "$bin/otafleetctl" simulate --server "$address" --pki "$work/pki" --agents "$k" \
    --work-dir "$work/sim$i" --interval 30 >"$work/sim$i.log" 2>&1 &
  sim_pids+=($!)
  left=$(( left - k ))
  i=$(( i + 1 ))
  [ "$left" -gt 0 ] && sleep 10  # processes 10 s apart: a fleet, not one synchronized burst
done
connect_t0=$(now)
deadline=$(( $(date +%s) + 120 + n / 10 ))
while :; do
  up=$(online)
  [ "$up" -ge "$n" ] && break
  if [ "$(date +%s)" -ge "$deadline" ]; then
    say "only $up of $n devices came online"; tail -3 "$work"/sim*.log >&2; break
  fi
  say "$up of $n devices online"
  sleep "$poll"
done
connect_s=$(secs "$connect_t0" "$(now)")
sleep "$poll"
online_n=$(online)
conn_rss=$(rss_kib "$server_pid")
sim_rss=0
for p in "${sim_pids[@]}"; do sim_rss=$(( sim_rss + $(rss_kib "$p") )); done

# A release to all of them: waves 1%, 10%, 100%, no soak, no rate limit, install time zero.
head -c 65536 /dev/urandom >"$work/payload.img"
"$bin/otafleetctl" bundle create --payload rootfs="$work/payload.img" --version 2.0.0 \
  --hardware rev-a --security-version 2 -o "$work/b.otab" >/dev/null
"$bin/otafleetctl" bundle sign "$work/b.otab" --pki "$work/pki" >/dev/null 2>&1
release=$(retry ctl release upload "$work/b.otab" --json | json release.id)
rollout=$(retry ctl rollout create --release "$release" --target "model=sim-gw" \
  --waves 1%,10%,100% --json | json id)
rollout_deadline=$(( $(date +%s) + 120 + n / 5 ))
t0=$(now)
retry ctl rollout start "$rollout" >/dev/null
state=
succeeded=0
while :; do
  status=$(ctl rollout status "$rollout" --json 2>/dev/null || echo '{}')
  state=$(json state <<<"$status" 2>/dev/null || echo "?")
  succeeded=$(json counts.succeeded <<<"$status" 2>/dev/null || echo 0)
  case $state in completed|paused|aborted) break ;; esac
  if [ "$(date +%s)" -ge "$rollout_deadline" ]; then
    say "rollout still $state after $(secs "$t0" "$(now)") s; stopped waiting"
    break
  fi
  say "rollout $state: $succeeded of $n succeeded"
  sleep $(( poll > 1 ? 2 : 1 ))
done
rollout_s=$(secs "$t0" "$(now)")
per_min=$(awk -v d="$succeeded" -v s="$rollout_s" 'BEGIN { printf "%.0f", (s > 0 ? d * 60 / s : 0) }')
server_hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$server_pid/status")
rollout_rss=$(rss_kib "$server_pid")
stored_events=$(sqlite3 "file:$db?mode=ro" "SELECT COUNT(*) FROM device_telemetry" 2>/dev/null ||
  echo "?")

# The page query at N devices, while they are connected.
q_count=$(( n >= 1000 ? 200 : 40 ))
q_size=100
read -r p50_n p99_n total_n < <("$bin/bench_fleet_tool" query "$address" "$work/pki" "$q_count" \
  "$q_size")
read -r fp50_n fp99_n ftotal_n < <("$bin/bench_fleet_tool" query "$address" "$work/pki" \
  "$q_count" "$q_size" "model=sim-gw and online=true")

for p in "${sim_pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
for p in "${sim_pids[@]}"; do wait "$p" 2>/dev/null || true; done
sim_pids=()

# Telemetry ingest beside the bare sqlite3 CLI.
events=$(( n * 10 ))
read -r ingest_one ingest_batch ingest_worker < <("$bin/bench_fleet_tool" telemetry "$work/tele.sqlite" \
  "$events" "$work/tele.sql" 2>>"$work/tool.log")
t_a=$(now)
sqlite3 "$work/bare.sqlite" <"$work/tele.sql" >/dev/null
t_b=$(now)
bare_rate=$(awk -v e="$events" -v a="$t_a" -v b="$t_b" 'BEGIN { printf "%.0f", e / (b - a) }')

# The page query at BIG devices: the store seeded directly, otafleetd restarted on it.
stop_server
seed_t0=$(now)
"$bin/bench_fleet_tool" seed "$db" 0 $(( big > n ? big - n : 0 )) >/dev/null 2>>"$work/tool.log"
seed_s=$(secs "$seed_t0" "$(now)")
start_server
bq_count=$(( big >= 100000 ? 50 : q_count ))
read -r p50_b p99_b total_b < <("$bin/bench_fleet_tool" query "$address" "$work/pki" \
  "$bq_count" "$q_size")
read -r fp50_b fp99_b ftotal_b < <("$bin/bench_fleet_tool" query "$address" "$work/pki" \
  "$bq_count" "$q_size" "model=gw-x1 and hardware=rev-a")
big_rss=$(rss_kib "$server_pid")
stop_server

cat <<REPORT
bench_fleet: $n simulated devices, one otafleetd on loopback, $(nproc) cores ($fd_note)
  connect      $online_n of $n online after ${connect_s} s ($i simulate processes)
  memory       otafleetd RSS idle $(( idle_rss / 1024 )) MiB, with $online_n devices $(( conn_rss / 1024 )) MiB: $(awk -v a="$idle_rss" -v b="$conn_rss" -v n="$n" 'BEGIN { printf "%.1f", (b - a) / n }') KiB per device
               (simulate processes: $(( sim_rss / 1024 )) MiB, $(awk -v s="$sim_rss" -v n="$n" 'BEGIN { printf "%.1f", s / n }') KiB per simulated device)
  rollout      $succeeded of $n succeeded in ${rollout_s} s (state $state): $per_min devices/min
               baseline: AWS IoT Jobs' documented ceiling 1000 devices/min
               otafleetd RSS after the rollout $(( rollout_rss / 1024 )) MiB (peak $(( server_hwm / 1024 )) MiB)
  telemetry    $ingest_worker events/s through otafleetd's StoreWorker (batched, otafleetd's path)
               $ingest_one events/s one transaction per event (otafleetd's path before batching), $ingest_batch events/s in batches of 1000
               baseline: bare sqlite3 CLI, same rows and schema, one transaction: $bare_rate events/s
               ($events events; $stored_events telemetry rows stored by otafleetd during the rollout)
  page query   $total_n devices: p50 $p50_n ms, p99 $p99_n ms (page size $q_size, $q_count queries)
               filter 'model=sim-gw and online=true' ($ftotal_n match): p50 $fp50_n ms, p99 $fp99_n ms
               $total_b devices: p50 $p50_b ms, p99 $p99_b ms ($bq_count queries; seeding took ${seed_s} s)
               filter 'model=gw-x1 and hardware=rev-a' ($ftotal_b match): p50 $fp50_b ms, p99 $fp99_b ms
               otafleetd RSS serving $total_b devices: $(( big_rss / 1024 )) MiB
REPORT
