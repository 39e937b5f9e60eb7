#!/usr/bin/env bash
# Benchmark: create+sign and verify a bundle (default 1 GiB payload) with otafleetctl, beside the
# physical limit measured in the same run (`openssl dgst -sha256` of the same payload) and, when
# Debian's rauc (and squashfs-tools) is installed, `rauc bundle` / `rauc info` of the same payload
# signed with a throwaway openssl certificate. Prints seconds, peak RSS (/usr/bin/time %M) and
# bytes read (strace, a second pass: the timed pass runs without it), with ratios to the digest.
# The issue's claim "signing a 1 GiB payload reads it once and never holds it in memory" shows as
# a peak RSS far below the payload size and read bytes close to one payload per step.
# Nothing is asserted: this reports. Usage: bench_bundle.sh BIN_DIR [SIZE_MIB=1024]
set -euo pipefail
bin=${1:?usage: bench_bundle.sh BIN_DIR [SIZE_MIB]}
size_mib=${2:-1024}
work=$(mktemp -d "${TMPDIR:-/tmp}/bench_bundle.XXXXXX")
trap 'rm -rf "$work"' EXIT

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
now() { date +%s.%N; }

# run NAME CMD...: times CMD, records seconds and peak RSS (KiB) in $work/NAME.{s,rss}.
run() {
    local name=$1
    shift
    sync
    local t0 t1
    t0=$(now)
    /usr/bin/time -f '%M' -o "$work/$name.rss" "$@" >"$work/$name.out" 2>&1 || {
        echo "bench_bundle: '$*' failed:" >&2
        cat "$work/$name.out" >&2
        exit 1
    }
    t1=$(now)
    secs "$t0" "$t1" >"$work/$name.s"
}
# read_mib CMD...: MiB the command (and its threads) read from files, counted by strace.
read_mib() {
    if ! command -v strace >/dev/null; then
        echo "n/a"
        return
    fi
    strace -f -qq -e trace=read,pread64,readv,preadv -e signal=none -o "$work/strace" "$@" \
        >/dev/null 2>&1 || true
    awk '{ if (match($0, /= [0-9]+$/)) s += substr($0, RSTART + 2) }
         END { printf "%.1f", s / 1048576 }' "$work/strace"
}

"$bin/otafleetctl" pki init --dir "$work/pki" >/dev/null 2>&1
head -c $((size_mib * 1048576)) /dev/urandom >"$work/payload.img"
payload_kib=$((size_mib * 1024))

run dgst openssl dgst -sha256 "$work/payload.img"
create=("$bin/otafleetctl" bundle create --payload "rootfs=$work/payload.img" --version 9.9.9
    --hardware rev-a --security-version 9 -o "$work/b.otab")
sign=("$bin/otafleetctl" bundle sign "$work/b.otab" --pki "$work/pki")
verify=("$bin/otafleetctl" bundle verify "$work/b.otab" --pki "$work/pki")
run create "${create[@]}"
run sign "${sign[@]}"
run verify "${verify[@]}"
# The same steps again under strace for the bytes read (slower, not timed).
rm -f "$work/b.otab"
dgst_read=$(read_mib openssl dgst -sha256 "$work/payload.img")
create_read=$(read_mib "${create[@]}")
sign_read=$(read_mib "${sign[@]}")
verify_read=$(read_mib "${verify[@]}")

rauc_note="rauc not installed (apt-get install rauc squashfs-tools): skipped"
if command -v rauc >/dev/null && command -v mksquashfs >/dev/null; then
    # A throwaway self-signed signing certificate; rauc's keyring is that certificate.
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
        -subj /CN=bench-rauc -keyout "$work/rauc.key" -out "$work/rauc.pem" >/dev/null 2>&1
    mkdir -p "$work/rauc-in"
    ln "$work/payload.img" "$work/rauc-in/rootfs.img"
    printf '[update]\ncompatible=otafleet-bench\nversion=9.9.9\n\n[bundle]\nformat=plain\n\n' \
        >"$work/rauc-in/manifest.raucm"
    printf '[image.rootfs]\nfilename=rootfs.img\n' >>"$work/rauc-in/manifest.raucm"
    # Uncompressed squashfs, like otafleet's raw payload: compares signing, not compressors.
    run rauc_bundle rauc bundle --cert "$work/rauc.pem" --key "$work/rauc.key" \
        --mksquashfs-args="-noI -noD -noF -noX -no-fragments" "$work/rauc-in" "$work/b.raucb"
    run rauc_info rauc info --keyring "$work/rauc.pem" "$work/b.raucb"
    rauc_note=""
fi

dgst=$(cat "$work/dgst.s")
row() { # what seconds rss_kib read_mib
    printf '%-44s %8s %7s %12s %10s\n' "$1" "$2" "$(ratio "$2" "$dgst")" "$(mib "$3")" "$4"
}
bytes=$(stat -c %s "$work/b.otab")
printf '\nbench_bundle: %s MiB random payload, bundle %d bytes\n' "$size_mib" "$bytes"
printf '%-44s %8s %7s %12s %10s\n' "what" "seconds" "x dgst" "peak RSS MiB" "read MiB"
row "baseline: openssl dgst -sha256 payload" "$dgst" "$(cat "$work/dgst.rss")" "$dgst_read"
row "otafleetctl bundle create" "$(cat "$work/create.s")" "$(cat "$work/create.rss")" "$create_read"
row "otafleetctl bundle sign" "$(cat "$work/sign.s")" "$(cat "$work/sign.rss")" "$sign_read"
cs=$(awk -v a="$(cat "$work/create.s")" -v b="$(cat "$work/sign.s")" \
    'BEGIN { printf "%.2f", a + b }')
row "otafleetctl create+sign" "$cs" "$(cat "$work/sign.rss")" "-"
row "otafleetctl bundle verify" "$(cat "$work/verify.s")" "$(cat "$work/verify.rss")" "$verify_read"
if [[ -z $rauc_note ]]; then
    row "rauc bundle (plain, uncompressed squashfs)" "$(cat "$work/rauc_bundle.s")" \
        "$(cat "$work/rauc_bundle.rss")" "-"
    row "rauc info (checks the signature)" "$(cat "$work/rauc_info.s")" \
        "$(cat "$work/rauc_info.rss")" "-"
    printf 'otafleet vs rauc: create+sign %sx, verify %sx the time of rauc\n' \
        "$(ratio "$cs" "$(cat "$work/rauc_bundle.s")")" \
        "$(ratio "$(cat "$work/verify.s")" "$(cat "$work/rauc_info.s")")"
else
    echo "$rauc_note"
fi
max_rss=$(cat "$work/create.rss" "$work/sign.rss" "$work/verify.rss" | sort -n | tail -1)
share=$(awk -v r="$max_rss" -v p="$payload_kib" 'BEGIN { printf "%.1f", 100 * r / p }')
printf 'peak RSS of any otafleetctl step: %s MiB = %s%% of the %s MiB payload' \
    "$(mib "$max_rss")" "$share" "$size_mib"
echo " (streamed, never held)"
