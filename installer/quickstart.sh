#!/usr/bin/env bash
# The README's two quick-start commands on a fresh Debian 12 machine:
#   bash installer/quickstart.sh run    install what is missing, build, start the console (--demo)
#   bash installer/quickstart.sh test   install what is missing, build, run every test, package
# .ci/run calls the second. Builds go to build/<preset>; ccache keeps rebuilds fast.
set -euo pipefail

mode=${1:-run}
shift || true
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

case "$mode" in
  run|test) ;;
  -h|--help)
    sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
    exit 0 ;;
  *)
    echo "quickstart: unknown mode '$mode'; use 'run' or 'test'" >&2
    exit 2 ;;
esac

bash installer/install-deps.sh

jobs=$(nproc)
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/otafleet-ccache}
export CCACHE_BASEDIR=$root
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
export CCACHE_COMPILERCHECK=content
# With -g, ccache hashes the build directory unless told not to; every CI clone has its own,
# so without this no clone would ever hit the cache (only debug-info paths differ).
export CCACHE_NOHASHDIR=1

if [ "$mode" = run ]; then
  preset=dev
  cmake --preset "$preset" >/dev/null
  # Only what the console needs; the test command builds the rest.
  cmake --build --preset "$preset" --parallel "$jobs" \
    --target otafleet otafleet-agent otafleetctl otafleet_lan
  bin="build/$preset/bin/otafleet"
  if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
    echo "quickstart: no display found; starting the console on a virtual display (Xvfb :77)."
    echo "quickstart: take a look with: DISPLAY=:77 import -window root otafleet.png"
    Xvfb :77 -screen 0 1400x900x24 >/dev/null 2>&1 &
    xvfb_pid=$!
    trap 'kill $xvfb_pid 2>/dev/null || true' EXIT
    export DISPLAY=:77
    sleep 1
  fi
  exec_args=(--demo "$@")
  echo "quickstart: starting $bin ${exec_args[*]}"
  "$bin" "${exec_args[@]}"
  exit $?
fi

# test
preset=ci
start=$(date +%s)
echo "== format check (clang-format, .clang-format) =="
mapfile -t sources < <(git ls-files '*.cpp' '*.h' 2>/dev/null || find app services ui plugins tests -name '*.cpp' -o -name '*.h')
if command -v clang-format >/dev/null && ((${#sources[@]})); then
  clang-format --dry-run --Werror "${sources[@]}"
fi
echo "== configure and build ($preset) =="
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" --parallel "$jobs"
echo "== tests =="
export QT_QPA_PLATFORM=offscreen
# The packaging test (label packaging: a clean Debian root, minutes) runs below when asked.
ctest --test-dir "build/$preset" --output-on-failure --parallel 3 --timeout 300 -LE packaging "$@"
echo "== libFuzzer (clang-16 fuzz preset, ${OTAFLEET_FUZZ_SECONDS:-10} s per target, seed ${OTAFLEET_FUZZ_SEED:-1}) =="
bash tests/fuzz/run_libfuzzer.sh "${OTAFLEET_FUZZ_SECONDS:-10}"
echo "== packages (CPack: DEB, RPM, TGZ) =="
rm -f build/$preset/otafleet*.deb build/$preset/otafleet*.rpm build/$preset/otafleet*.tar.gz
cmake --build "build/$preset" --parallel "$jobs" --target package >/dev/null
expected=(otafleet_ otafleet-agent_)
[ -x "build/$preset/bin/otafleetd" ] && expected+=(otafleetd_)
for name in "${expected[@]}"; do
  deb=$(ls build/$preset/${name}*.deb 2>/dev/null || true)
  rpm=$(ls build/$preset/${name%_}-[0-9]*.rpm 2>/dev/null || true)
  [ -n "$deb" ] || { echo "quickstart: missing package build/$preset/${name}*.deb" >&2; exit 1; }
  [ -n "$rpm" ] || { echo "quickstart: missing package build/$preset/${name%_}-*.rpm" >&2; exit 1; }
  echo "$deb"; echo "$rpm"
done
ls build/$preset/otafleet-*-Linux-*.tar.gz || { echo "quickstart: missing the TGZ" >&2; exit 1; }
if [ "${OTAFLEET_PACKAGING_TEST:-0}" = 1 ]; then
  echo "== packaging test (clean Debian 12 root) =="
  ctest --test-dir "build/$preset" -L packaging --output-on-failure
fi
ccache --show-stats 2>/dev/null | grep -E 'Hits|Misses' | head -3 || true
echo "quickstart: all tests passed in $(( $(date +%s) - start )) s"
