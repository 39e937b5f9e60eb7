#!/usr/bin/env bash
# Benchmark: the agent's footprint and a push of a bundle (default 256 MiB) to a local
# otafleet-agent over TLS, each beside a baseline measured in the same run:
#   binary    size as built and stripped, and the shared libraries it loads (count, bytes);
#   idle      RSS (anonymous = the agent's own, file = shared library pages) after start and
#             after one GetInfo, beside two idle TLS servers holding the agent's TLS identity,
#             after start and after one handshake: `openssl s_server`, and bench_grpc_idle (a
#             bare gRPC server: the floor of the agent's transport libraries, without Qt);
#   streaming peak RSS of the agent during upload + verify + install (VmHWM reset just before
#             the push), beside the peak RSS of `cat` and `sha256sum` reading the same bundle;
#   speed     time and MB/s of the push beside `curl` fetching the bundle from nginx over HTTPS
#             (TLS 1.3, the agent's identity) to disk with fsync, `openssl dgst -sha256` and
#             `cp + sync`, each as a ratio to curl (the wire's pace); then where the push's time
#             went by phase, from the agent's own telemetry (transfer, hash check, write + slot
#             fsync, finalize = manifest + boot switch);
#   round trip the same push to fresh agents through the fault proxy (bench_delay_proxy): with
#             no delay, and with 25 ms each way (50 ms round trip; tc netem needs a kernel module
#             containers lack), as a ratio to the proxy's no-delay push;
#   mender    idle RSS of the `mender` client daemon (Debian's mender-client, a bench
#             dependency) started in a temp dir with its own configuration and no server.
#   before    with BEFORE_BIN_DIR (another build, e.g. main's): the same push with its agent and
#             otafleetctl, to a fresh agent, measured the same way right before ours (time, peak
#             RSS of both programs, time profile).
# Nothing is asserted: this reports. On a shared machine the figures are noisy; compare lines of
# one run, not runs. Usage: bench_push.sh BIN_DIR [SIZE_MIB [BEFORE_BIN_DIR]]
set -euo pipefail
bin=${1:?usage: bench_push.sh BIN_DIR [SIZE_MIB [BEFORE_BIN_DIR]]}
size_mib=${2:-256}
before=${3:-}
work=$(mktemp -d)
agent_pid=
server_pid=
sampler_pid=
nginx_pid=
proxy_pid=
mender_pid=
before_pid=
cleanup() {
  for p in $sampler_pid $server_pid $agent_pid $nginx_pid $proxy_pid $mender_pid $before_pid; do
    kill "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }
rate() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", (b / 1048576) / (s > 0 ? s : 1e-9) }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# status PID FIELD: a /proc/PID/status figure in KiB (or a count), read without forking.
status() {
  local key value _
  while read -r key value _; do
    [ "$key" = "$2:" ] && { echo "$value"; return; }
  done <"/proc/$1/status"
}
# footprint PID: "RSS anon file threads" in KiB (threads as a count).
footprint() {
  echo "$(status "$1" VmRSS) $(status "$1" RssAnon) $(status "$1" RssFile) $(status "$1" Threads)"
}
wait_for() {  # FILE PATTERN: up to 10 s
  for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "bench_push: '$2' never appeared in $1:" >&2
  cat "$1" >&2
  exit 1
}

port=$(free_port)
"$bin/otafleetctl" pki init --dir "$work/pki" >/dev/null 2>&1
"$bin/otafleet-agent" setup --dir "$work/agent" --pki "$work/pki" --listen "127.0.0.1:$port" \
  --slot-size $(( (size_mib + 8) * 1048576 )) >/dev/null 2>&1
"$bin/otafleet-agent" --config "$work/agent/agent.conf" 2>"$work/agent.log" &
agent_pid=$!
wait_for "$work/agent.log" "listening on"
sleep 0.5
read -r idle_rss idle_anon idle_file idle_threads <<<"$(footprint "$agent_pid")"
"$bin/otafleetctl" device info --target "127.0.0.1:$port" --pki "$work/pki" >/dev/null
sleep 0.2
read -r info_rss info_anon info_file info_threads <<<"$(footprint "$agent_pid")"
# Where the idle RSS sits: the largest mappings (shared libraries, heap), resident KiB each.
largest=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { name = ($6 == "" ? "[anon]" : $6); sub(".*/", "", name) }
               /^Rss:/ { rss[name] += $2 }
               END { for (n in rss) printf "%d %s\n", rss[n], n }' "/proc/$agent_pid/smaps" |
  sort -rn | head -8 | awk '{ printf "%s%s %.1f", (NR > 1 ? ", " : ""), $2, $1 / 1024 }')

# Baselines: TLS servers holding the same identity, idle. baseline NAME PORT CMD...: starts CMD,
# records "RSS anon file threads" after start and after one TLS 1.3 handshake (ALPN h2, which
# gRPC insists on) in $work/NAME.start and $work/NAME.handshake.
baseline() {
  local name=$1 p=$2
  shift 2
  "$@" </dev/null >"$work/$name.log" 2>&1 &
  server_pid=$!
  sleep 0.5
  footprint "$server_pid" >"$work/$name.start"
  openssl s_client -connect "127.0.0.1:$p" -tls1_3 -alpn h2 </dev/null >/dev/null 2>&1 || true
  sleep 0.2
  footprint "$server_pid" >"$work/$name.handshake"
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}
cert="$work/agent/tls/agent.pem"
key="$work/agent/tls/agent.key"
baselines=()
if [ -r "$cert" ] && [ -r "$key" ]; then
  s_port=$(free_port)
  baseline s_server "$s_port" openssl s_server -quiet -accept "127.0.0.1:$s_port" -cert "$cert" \
    -key "$key" -tls1_3
  baselines+=("s_server|openssl s_server")
  if [ -x "$bin/bench_grpc_idle" ]; then
    g_port=$(free_port)
    baseline grpc "$g_port" "$bin/bench_grpc_idle" "$cert" "$key" "$g_port"
    baselines+=("grpc|bare gRPC/TLS server")
  fi
fi

# mender: the Debian client daemon, idle, with a configuration of its own in $work (a server
# that is not there; /etc/mender is not read) and its state in $work/mender. Without a server it
# still reaches its idle loop (check-wait between inventory and update checks) and stays there.
mender_note="mender-client is not installed (installer/install-deps.sh installs it as a bench dependency)"
if command -v mender >/dev/null; then
  mkdir -p "$work/mender"
  echo "device_type=otafleet-devkit" >"$work/mender/device_type"
  cat >"$work/mender.conf" <<CONF
{ "ServerURL": "https://127.0.0.1:$(free_port)", "UpdatePollIntervalSeconds": 1800,
  "InventoryPollIntervalSeconds": 28800, "RetryPollIntervalSeconds": 300 }
CONF
  mender --config "$work/mender.conf" --fallback-config "$work/mender-fallback.conf" \
    --data "$work/mender" --no-syslog --log-file "$work/mender.log" daemon </dev/null \
    >/dev/null 2>&1 &
  mender_pid=$!
  for _ in $(seq 50); do grep -q "check-wait" "$work/mender.log" 2>/dev/null && break; sleep 0.1; done
  sleep 0.5
  if kill -0 "$mender_pid" 2>/dev/null && grep -q "check-wait" "$work/mender.log"; then
    footprint "$mender_pid" >"$work/mender.start"
    mender_note=
  else
    mender_note="mender daemon did not reach its idle loop: $(tail -1 "$work/mender.log" 2>/dev/null)"
  fi
  kill "$mender_pid" 2>/dev/null || true
  wait "$mender_pid" 2>/dev/null || true
  mender_pid=
fi

head -c $(( size_mib * 1048576 )) /dev/urandom > "$work/payload.img"
"$bin/otafleetctl" bundle create --payload rootfs="$work/payload.img" --version 9.9.9 \
  --hardware rev-a --security-version 9 -o "$work/b.otab" >/dev/null
"$bin/otafleetctl" bundle sign "$work/b.otab" --pki "$work/pki" >/dev/null 2>&1
bytes=$(stat -c %s "$work/b.otab")
sync
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

t0=$(now); openssl dgst -sha256 "$work/b.otab" >/dev/null; t1=$(now)
dgst=$(secs "$t0" "$t1")
t0=$(now); cp "$work/b.otab" "$work/copy.otab"; sync "$work/copy.otab"; t1=$(now)
copy=$(secs "$t0" "$t1")
rm -f "$work/copy.otab"
/usr/bin/env time -f '%M' -o "$work/cat.rss" cat "$work/b.otab" >/dev/null
/usr/bin/env time -f '%M' -o "$work/sha.rss" sha256sum "$work/b.otab" >/dev/null

# The wire's pace: curl fetching the same file from nginx over HTTPS (TLS 1.3, the agent's
# certificate and key) into a file, then fsync (`sync FILE`). nginx-light is a bench dependency
# (installer/install-deps.sh); without it the line says so.
curl_s=
curl_note="nginx or curl not installed (installer/install-deps.sh installs nginx-light)"
if command -v nginx >/dev/null && command -v curl >/dev/null && [ -r "$cert" ] && [ -r "$key" ]; then
  n_port=$(free_port)
  mkdir -p "$work/www" "$work/nginx-tmp"
  ln "$work/b.otab" "$work/www/b.otab"
  cat >"$work/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
user root;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 16; }
http {
  access_log off;
  sendfile on;
  client_body_temp_path $work/nginx-tmp;
  proxy_temp_path $work/nginx-tmp;
  fastcgi_temp_path $work/nginx-tmp;
  server {
    listen 127.0.0.1:$n_port ssl;
    ssl_certificate $cert;
    ssl_certificate_key $key;
    ssl_protocols TLSv1.3;
    root $work/www;
  }
}
CONF
  nginx -c "$work/nginx.conf" -p "$work" >/dev/null 2>&1 &
  nginx_pid=$!
  for _ in $(seq 50); do
    curl -sk -o /dev/null "https://127.0.0.1:$n_port/" 2>/dev/null && break
    sleep 0.1
  done
  t0=$(now)
  if curl -sk --tlsv1.3 -o "$work/curl.otab" "https://127.0.0.1:$n_port/b.otab" &&
     sync "$work/curl.otab"; then
    t1=$(now)
    curl_s=$(secs "$t0" "$t1")
  else
    curl_note="nginx did not serve the bundle: $(tail -1 "$work/nginx.err" 2>/dev/null)"
  fi
  kill "$nginx_pid" 2>/dev/null || true
  wait "$nginx_pid" 2>/dev/null || true
  nginx_pid=
  rm -f "$work/curl.otab" "$work/www/b.otab"
fi

# Peak while streaming: VmHWM restarts from the idle RSS (clear_refs 5), and a sampler records the
# largest anonymous and file-backed parts seen (VmHWM alone does not split them).
# sampled_push NAME AGENT_PID BIN_DIR PORT: one timed push; $work/NAME.{secs,hwm,max,ctl} hold its
# seconds, the agent's VmHWM, "anon file threads" at most, and otafleetctl's peak RSS.
sampled_push() {
  local name=$1 pid=$2 dir=$3 p=$4 started ended a f t
  echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true
  read -r _ a f t <<<"$(footprint "$pid")"
  echo "$a $f $t" >"$work/$name.max"
  rm -f "$work/push.done"
  (
    max_anon=0 max_file=0 max_threads=0
    while kill -0 "$pid" 2>/dev/null && [ ! -e "$work/push.done" ]; do
      read -r _ a f t <<<"$(footprint "$pid")"
      (( a > max_anon )) && max_anon=$a
      (( f > max_file )) && max_file=$f
      (( t > max_threads )) && max_threads=$t
      echo "$max_anon $max_file $max_threads" >"$work/$name.max"
      sleep 0.02
    done
  ) &
  sampler_pid=$!
  started=$(now)
  /usr/bin/env time -f '%M' -o "$work/$name.ctl" "$dir/otafleetctl" device push "$work/b.otab" \
    --target "127.0.0.1:$p" --pki "$work/pki" --no-reboot >/dev/null 2>"$work/$name.push" ||
    echo "  ($name push failed: $(tail -1 "$work/$name.push"))" >&2
  ended=$(now)
  touch "$work/push.done"
  wait "$sampler_pid" 2>/dev/null || true
  sampler_pid=
  secs "$started" "$ended" >"$work/$name.secs"
  status "$pid" VmHWM >"$work/$name.hwm"
}

# Before/after: the same push with another build's agent and otafleetctl, to a fresh agent of its
# own, measured the same way just before ours (so neither gets a warmer machine).
before_s=
if [ -n "$before" ]; then
  b_port=$(free_port)
  "$before/otafleet-agent" setup --dir "$work/before" --pki "$work/pki" \
    --listen "127.0.0.1:$b_port" --slot-size $(( (size_mib + 8) * 1048576 )) >/dev/null 2>&1
  "$before/otafleet-agent" --config "$work/before/agent.conf" 2>"$work/before.log" &
  before_pid=$!
  wait_for "$work/before.log" "listening on"
  sleep 0.5
  sampled_push before "$before_pid" "$before" "$b_port"
  before_s=$(cat "$work/before.secs")
  before_hwm=$(cat "$work/before.hwm")
  before_ctl=$(cat "$work/before.ctl")
  "$before/otafleetctl" device events --target "127.0.0.1:$b_port" --pki "$work/pki" --json \
    >"$work/before-events.json" 2>/dev/null || true
  kill "$before_pid" 2>/dev/null || true
  wait "$before_pid" 2>/dev/null || true
  before_pid=
  rm -rf "$work/before"
fi

sampled_push ours "$agent_pid" "$bin" "$port"
push=$(cat "$work/ours.secs")
stream_hwm=$(cat "$work/ours.hwm")
read -r stream_anon stream_file stream_threads <"$work/ours.max"
ctl_rss=$(cat "$work/ours.ctl")

# The same push over a long round trip: each run a fresh device (the first one now holds the
# release), pushed through the fault proxy with latency (bench_delay_proxy ONE_WAY_MS), once
# without delay (what the proxy itself costs) and once with 25 ms each way.
delay_note=
proxied_push() {  # NAME ONE_WAY_MS: seconds of the push on stdout
  local name=$1 ms=$2 p started ended pid target
  p=$(free_port)
  "$bin/otafleet-agent" setup --dir "$work/$name" --pki "$work/pki" --listen "127.0.0.1:$p" \
    --slot-size $(( (size_mib + 8) * 1048576 )) >/dev/null 2>&1
  "$bin/otafleet-agent" --config "$work/$name/agent.conf" 2>"$work/$name.log" &
  pid=$!
  wait_for "$work/$name.log" "listening on"
  mkfifo "$work/$name.proxy-in"
  "$bin/bench_delay_proxy" "$p" "$ms" <"$work/$name.proxy-in" >"$work/$name.proxy" &
  proxy_pid=$!
  exec 7>"$work/$name.proxy-in"
  wait_for "$work/$name.proxy" "127.0.0.1:"
  target=$(head -1 "$work/$name.proxy")
  started=$(now)
  "$bin/otafleetctl" device push "$work/b.otab" --target "$target" --pki "$work/pki" \
    --no-reboot >/dev/null 2>"$work/$name.push" || echo "  ($name push failed: $(tail -1 "$work/$name.push"))" >&2
  ended=$(now)
  exec 7>&-
  wait "$proxy_pid" 2>/dev/null || true
  proxy_pid=
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$work/$name"
  secs "$started" "$ended"
}
if [ -x "$bin/bench_delay_proxy" ]; then
  proxy0=$(proxied_push delay0 0)
  proxy50=$(proxied_push delay50 25)
else
  delay_note="$bin/bench_delay_proxy not built (cmake --build ... --target bench_delay_proxy)"
fi

# The binary: as built, stripped, and what the dynamic loader maps beside it.
agent_bin="$bin/otafleet-agent"
strip -o "$work/agent.stripped" "$agent_bin"
libs=$(ldd "$agent_bin" | awk '$3 ~ /^\// { print $3 }' | sort -u)
lib_count=$(echo "$libs" | grep -c . || true)
lib_bytes=$(echo "$libs" | xargs -r readlink -f | xargs -r stat -L -c %s | awk '{ s += $1 } END { print s + 0 }')
needed=$(readelf -d "$agent_bin" | grep -c NEEDED || true)

printf '\nbench_push: otafleet-agent footprint\n'
printf '  binary: %s bytes as built, %s bytes stripped; %s direct + %s shared libraries loaded in all (%.1f MiB on disk)\n' \
  "$(stat -c %s "$agent_bin")" "$(stat -c %s "$work/agent.stripped")" "$needed" "$lib_count" \
  "$(awk -v b="$lib_bytes" 'BEGIN { print b / 1048576 }')"
printf '  %-44s %8s %8s %8s %8s\n' "RSS in MiB" "total" "anon" "file" "threads"
row() {
  local cells=() v
  for v in "$2" "$3" "$4"; do [ "$v" = - ] && cells+=(-) || cells+=("$(mib "$v")"); done
  printf '  %-44s %8s %8s %8s %8s\n' "$1" "${cells[@]}" "$5"
}
[ ${#baselines[@]} -gt 0 ] || echo "  (no agent TLS identity in tls/: TLS server baselines skipped)"
for entry in "${baselines[@]}"; do
  IFS='|' read -r name label <<<"$entry"
  read -r r a f t <"$work/$name.start"
  row "baseline: $label idle" "$r" "$a" "$f" "$t"
  read -r r a f t <"$work/$name.handshake"
  row "baseline: $label, 1 handshake" "$r" "$a" "$f" "$t"
done
if [ -z "$mender_note" ]; then
  read -r r a f t <"$work/mender.start"
  row "baseline: mender daemon idle (no server)" "$r" "$a" "$f" "$t"
else
  echo "  baseline: mender skipped: $mender_note"
fi
row "agent idle after start" "$idle_rss" "$idle_anon" "$idle_file" "$idle_threads"
row "agent idle after one GetInfo" "$info_rss" "$info_anon" "$info_file" "$info_threads"
row "agent peak while streaming (VmHWM, max parts)" "$stream_hwm" "$stream_anon" "$stream_file" "$stream_threads"
row "baseline: cat bundle >/dev/null (peak)" "$(cat "$work/cat.rss")" "-" "-" "1"
row "baseline: sha256sum bundle (peak)" "$(cat "$work/sha.rss")" "-" "-" "1"
echo "  largest idle mappings (MiB): $largest"
echo "  (file = clean pages of shared libraries, shared with every process using them;"
echo "   anon = the agent's own heap, stacks and relocated data)"

printf '\nbench_push: %s MiB bundle (%d bytes) to a local agent over TLS (upload + verify + install)\n' "$size_mib" "$bytes"
echo "  load: $load_before (before the timed runs), $(cut -d' ' -f1-3 /proc/loadavg) (after); $(nproc) cores"
# Ratios are to curl from nginx when it ran, else to openssl dgst.
base=${curl_s:-$dgst}
printf '%-40s %9s %10s %8s\n' "what" "seconds" "MB/s" "ratio"
line() { printf '%-40s %9s %10s %8s\n' "$1" "$2" "$(rate "$bytes" "$2")" "$(ratio "$2" "$base")"; }
if [ -n "$curl_s" ]; then
  line "baseline: curl < nginx HTTPS, fsync" "$curl_s"
else
  echo "  baseline: curl from nginx skipped: $curl_note (ratios are to openssl dgst)"
fi
line "baseline: openssl dgst -sha256" "$dgst"
line "baseline: cp + sync" "$copy"
line "otafleetctl device push --no-reboot" "$push"
[ -n "$before_s" ] && line "the same push, BEFORE_BIN_DIR's build" "$before_s"
if [ -n "$delay_note" ]; then
  echo "  push over 50 ms round trips skipped: $delay_note"
else
  line "push through the proxy, no delay" "$proxy0"
  line "push through the proxy, 50 ms round trip" "$proxy50"
  printf '  50 ms round trip: %s%% of the no-delay throughput through the proxy, %s%% of the direct push\n' \
    "$(awk -v a="$proxy0" -v b="$proxy50" 'BEGIN { printf "%.0f", 100 * a / b }')" \
    "$(awk -v a="$push" -v b="$proxy50" 'BEGIN { printf "%.0f", 100 * a / b }')"
fi

# Where the push's time went, from the agent's telemetry (duration_ms of each phase event).
"$bin/otafleetctl" device events --target "127.0.0.1:$port" --pki "$work/pki" --json \
  >"$work/events.json" 2>/dev/null || true
profile() {  # EVENTS_JSON SECONDS TITLE
  python3 - "$1" "$2" "$3" <<'PY' || echo "  (no phase profile: the events could not be read)"
import json, sys
events = json.load(open(sys.argv[1])).get("events", [])
total = float(sys.argv[2])
seen = {}
for e in events:
    if e.get("type") == "phase":
        seen[e.get("phase")] = e
def secs(phase, key="duration_ms"):
    return float(seen.get(phase, {}).get(key, 0) or 0) / 1000.0
transfer, hashed = secs("upload-completed"), secs("upload-completed", "hash_ms")
verify = secs("install-verifying")
write, fsync = secs("install-writing"), secs("install-writing", "sync_ms")
finalize = secs("install-finalizing")
rows = [("transfer (client read, TLS, gRPC, agent append)", transfer - hashed),
        ("hash while receiving (inside the transfer)", hashed),
        ("install checks (signature, chain; staged hash if resumed)", verify),
        ("write: staged payload copied into the slot", write - fsync),
        ("fsync of the slot (the payload's one disk write)", fsync),
        ("boot switch (manifest, boot state: fsync, rename)", finalize)]
print(f"time profile of {sys.argv[3]} by phase (agent telemetry):")
for label, s in rows:
    print(f"  {label:<58} {s:7.3f} s {100 * s / total:5.1f} %")
accounted = sum(s for _, s in rows)
print(f"  {'other (connection, client start, install RPC)':<58} {max(total - accounted, 0):7.3f} s")
PY
}
profile "$work/events.json" "$push" "the push"
[ -n "$before_s" ] && profile "$work/before-events.json" "$before_s" "the push with BEFORE_BIN_DIR's build"
printf 'peak RSS: agent %s KiB while streaming, otafleetctl %s KiB (payload %s MiB; neither holds it in memory)\n' \
  "$stream_hwm" "$ctl_rss" "$size_mib"
if [ -n "$before_s" ]; then
  printf '  with BEFORE_BIN_DIR'"'"'s build: agent %s KiB while streaming, otafleetctl %s KiB\n' \
    "$before_hwm" "$before_ctl"
fi
