#!/usr/bin/env bash
# Benchmark: delta bundles (`otafleetctl bundle delta`, applied by the agent's PayloadWriter)
# beside `bsdiff`/`bspatch` and `zstd --patch-from` on the same image pairs, measured in the same
# run: patch size, create time and peak RSS, apply time and peak RSS. The pairs are real
# binaries: LLVM 14 -> 16 builds of the same tools, and a real library turned into its "next
# release" (code inserted mid-text so everything after it shifts, displacement fixups after the
# insertion, a block of functions moved, a version string changed). Nothing is asserted.
# Usage: bench_delta.sh BIN_DIR [full|smoke]   (smoke: one small pair, so the script cannot rot)
set -euo pipefail
bin=${1:?usage: bench_delta.sh BIN_DIR [full|smoke]}
mode=${2:-full}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# "next release" of a real binary: see the header. Deterministic (seeded).
next_release() {
  python3 - "$1" "$2" <<'PY'
import random, sys
src, dst = sys.argv[1], sys.argv[2]
d = bytearray(open(src, 'rb').read())
r = random.Random(42)
n = len(d)
cut = int(n * 0.4)
new_code = bytes(d[int(n * 0.2) + i] ^ (i & 7) for i in range(12 * 1024))
d[cut:cut] = new_code                                   # 12 KiB of new code, the rest shifts
for _ in range(400):                                    # rel32 fixups after the insertion
    at = r.randrange(cut + len(new_code), len(d) - 4)
    v = int.from_bytes(d[at:at + 4], 'little') + 12 * 1024
    d[at:at + 4] = (v & 0xffffffff).to_bytes(4, 'little')
block = int(n * 0.15)                                   # a 96 KiB group of functions moves
moved = d[block:block + 96 * 1024]
del d[block:block + 96 * 1024]
d[int(len(d) * 0.7):int(len(d) * 0.7)] = moved
d += b'release 1.2.0 built by otafleet bench\0'
open(dst, 'wb').write(d)
PY
}

pairs=()
add_pair() {  # name old new
  [ -r "$2" ] && [ -r "$3" ] && pairs+=("$1|$2|$3") || echo "bench_delta: skipping $1 (missing $2 or $3)"
}
if [ "$mode" = smoke ]; then
  head -c $((1536 * 1024)) "$bin/otafleetctl" >"$work/ctl-head.old"
  next_release "$work/ctl-head.old" "$work/ctl-head.new"
  add_pair "otafleetctl 1.5 MiB, next release" "$work/ctl-head.old" "$work/ctl-head.new"
else
  qtcore=$(readlink -f /usr/lib/x86_64-linux-gnu/libQt6Core.so.6)
  if [ -r "$qtcore" ]; then
    next_release "$qtcore" "$work/qtcore.new"
    add_pair "libQt6Core 6.4.2, next release" "$qtcore" "$work/qtcore.new"
  fi
  add_pair "llvm-tblgen 14 -> 16" /usr/lib/llvm-14/bin/llvm-tblgen /usr/lib/llvm-16/bin/llvm-tblgen
  add_pair "obj2yaml 14 -> 16" /usr/lib/llvm-14/bin/obj2yaml /usr/lib/llvm-16/bin/obj2yaml
  add_pair "llvm-readobj 14 -> 16" /usr/lib/llvm-14/bin/llvm-readobj /usr/lib/llvm-16/bin/llvm-readobj
fi

# measure OUT_PREFIX CMD...: wall seconds and peak RSS (KiB) of one command.
measure() {
  local out=$1
  shift
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/env time -f '%M' -o "$out.rss" "$@" >/dev/null 2>"$out.err" || {
    echo "bench_delta: failed: $*" >&2
    cat "$out.err" >&2
    exit 1
  }
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }' >"$out.secs"
}
row() {  # tool patch target prefix-create prefix-apply
  printf '  %-26s %10d %7.2f%% %8s %9d %8s %9d\n' "$1" "$2" "$(awk -v p="$2" -v t="$3" 'BEGIN { print 100 * p / t }')" \
    "$(cat "$4.secs")" "$(( $(cat "$4.rss") / 1024 ))" "$(cat "$5.secs")" "$(( $(cat "$5.rss") / 1024 ))"
}
window_log() {  # zstd --long=W that covers base + target, as bundle delta uses
  awk -v s="$(( $1 + $2 ))" 'BEGIN { w = 10; while (2 ^ w < s) w++; print w }'
}

printf '\nbench_delta: patch size, create and apply time (s) and peak RSS (MiB); zstd level 19 for both zstd tools\n'
for pair in "${pairs[@]}"; do
  IFS='|' read -r name old new <<<"$pair"
  p="$work/pair"
  rm -rf "$p" && mkdir -p "$p"
  old_size=$(stat -c %s "$old")
  new_size=$(stat -c %s "$new")
  "$bin/otafleetctl" bundle create --payload rootfs="$old" --version 1.1.0 --hardware rev-a \
    --security-version 1 -o "$p/old.otab" >/dev/null
  "$bin/otafleetctl" bundle create --payload rootfs="$new" --version 1.2.0 --hardware rev-a \
    --security-version 1 -o "$p/new.otab" >/dev/null

  measure "$p/ota-create" "$bin/otafleetctl" bundle delta --from "$p/old.otab" --to "$p/new.otab" -o "$p/d.otab"
  ota_patch=$("$bin/otafleetctl" bundle inspect "$p/d.otab" --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["manifest"]["payloads"][0]["size"])' 2>/dev/null ||
    stat -c %s "$p/d.otab")
  measure "$p/ota-apply" "$bin/bench_delta_apply" "$p/d.otab" "$old" "$p/ota.out"
  cmp -s "$p/ota.out" "$new" || { echo "bench_delta: otafleet output differs for $name" >&2; exit 1; }

  measure "$p/bsd-create" bsdiff "$old" "$new" "$p/patch.bsdiff"
  measure "$p/bsd-apply" bspatch "$old" "$p/bsd.out" "$p/patch.bsdiff"
  cmp -s "$p/bsd.out" "$new" || { echo "bench_delta: bspatch output differs for $name" >&2; exit 1; }

  w=$(window_log "$old_size" "$new_size")
  measure "$p/zstd-create" zstd -q -f -19 --long="$w" --patch-from="$old" "$new" -o "$p/patch.zst"
  measure "$p/zstd-apply" zstd -q -f -d --long="$w" --patch-from="$old" "$p/patch.zst" -o "$p/zstd.out"
  cmp -s "$p/zstd.out" "$new" || { echo "bench_delta: zstd output differs for $name" >&2; exit 1; }

  printf '\n%s: %d -> %d bytes\n' "$name" "$old_size" "$new_size"
  printf '  %-26s %10s %8s %8s %9s %8s %9s\n' tool "patch B" "of new" "create" "cr. RSS" apply "ap. RSS"
  row "otafleetctl bundle delta" "$ota_patch" "$new_size" "$p/ota-create" "$p/ota-apply"
  row "bsdiff / bspatch" "$(stat -c %s "$p/patch.bsdiff")" "$new_size" "$p/bsd-create" "$p/bsd-apply"
  row "zstd --patch-from" "$(stat -c %s "$p/patch.zst")" "$new_size" "$p/zstd-create" "$p/zstd-apply"
  printf '  ratios (otafleet / bsdiff): patch %s, create %s, apply %s\n' \
    "$(awk -v a="$ota_patch" -v b="$(stat -c %s "$p/patch.bsdiff")" 'BEGIN { printf "%.2f", a / b }')" \
    "$(awk -v a="$(cat "$p/ota-create.secs")" -v b="$(cat "$p/bsd-create.secs")" 'BEGIN { printf "%.2f", a / (b > 0 ? b : 0.01) }')" \
    "$(awk -v a="$(cat "$p/ota-apply.secs")" -v b="$(cat "$p/bsd-apply.secs")" 'BEGIN { printf "%.2f", a / (b > 0 ? b : 0.01) }')"
done
echo
echo "otafleet apply = the agent's PayloadWriter (stored-hash pre-check not included; the agent adds one read of the patch)."
