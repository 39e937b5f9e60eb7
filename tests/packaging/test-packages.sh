#!/usr/bin/env bash
# The packages as a product of their own (issue 12):
#   bash tests/packaging/test-packages.sh BUILD_DIR     (ctest -L packaging runs it on build/ci)
# 1. builds the packages of BUILD_DIR (cmake --build BUILD_DIR --target package) and the same
#    tree at a lower version in BUILD_DIR-packaging-old (for the upgrade);
# 2. checks them on this machine: lintian (no errors), rpmlint and rpm -qpR/-qpl/-qpc,
#    desktop-file-validate, appstreamcli validate, the MIME type, the relocatable TGZ;
# 3. installs the DEBs into a clean Debian 12 root (debootstrap --variant=minbase from the
#    archive apt uses here, cached in ~/.cache/otafleet-debootstrap) with chroot:
#    apt-get install resolves every dependency, every program answers --version,
#    systemd-analyze verify accepts the units, the agent runs as its system user, an upgrade
#    keeps the edited config and the data, and purge leaves no file behind.
# Prints (does not assert) installed sizes and the time from apt-get install to a running agent.
# Needs root (chroot, mounts) and the tools installer/install-deps.sh installs. Exit 0 only when
# every check passed; 77 (ctest: skipped) when not run as root.
set -euo pipefail

build=${1:?usage: test-packages.sh BUILD_DIR}
build=$(cd "$build" && pwd)
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
jobs=${OTAFLEET_PACKAGING_JOBS:-2}
cache=${OTAFLEET_DEBOOTSTRAP_CACHE:-$HOME/.cache/otafleet-debootstrap}
suite=bookworm

say() { printf '== packaging: %s\n' "$*"; }
fail() {
  printf 'packaging: FAILED: %s\n' "$*" >&2
  exit 1
}

if [ "$(id -u)" -ne 0 ]; then
  echo "packaging: needs root for debootstrap, chroot and mounts; skipped" >&2
  exit 77
fi
for tool in debootstrap lintian rpm rpmbuild desktop-file-validate appstreamcli \
  update-mime-database dpkg-deb zstd python3; do
  command -v "$tool" >/dev/null || fail "$tool is missing; run installer/install-deps.sh"
done

start=$(date +%s)
work=$(mktemp -d /var/tmp/otafleet-packaging.XXXXXX)
root=$work/root
agent_pid=
mounted=()

cleanup() {
  local rc=$?
  [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" 2>/dev/null || true
  done
  # Never delete through a mount point that is still there (it could be the host's /dev).
  if findmnt -rn -o TARGET | grep -q "^$work"; then
    echo "packaging: mounts under $work remain; left it in place" >&2
  else
    rm -rf "$work"
  fi
  exit $rc
}
trap cleanup EXIT INT TERM

mount_in_root() { # mount_in_root ARGS... TARGET
  mount "$@"
  mounted+=("${!#}")
}

# ---------------------------------------------------------------- 1. build the packages
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$src} CCACHE_NOHASHDIR=1
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")
[ -n "$version" ] || fail "no CPACK_PACKAGE_VERSION in $build/CPackConfig.cmake"
IFS=. read -r major minor patch <<<"${version%%+*}"
if ((patch > 0)); then
  old_version=$major.$minor.$((patch - 1))
elif ((minor > 0)); then
  old_version=$major.$((minor - 1)).0
elif ((major > 0)); then
  old_version=$((major - 1)).0.0
else
  fail "version $version has no lower version to upgrade from"
fi
old=$build-packaging-old
# OTAFLEET_PACKAGING_REUSE=1: test the packages the last run built (when working on this script).
if [ "${OTAFLEET_PACKAGING_REUSE:-0}" != 1 ]; then
say "building packages $version (and $old_version for the upgrade)"
t=$(date +%s)
rm -f "$build"/otafleet*.deb "$build"/otafleet*.rpm "$build"/otafleet*.tar.gz
cmake --build "$build" --parallel "$jobs" --target package >"$work/package.log" 2>&1 ||
  { tail -40 "$work/package.log"; fail "cmake --build $build --target package"; }
# The older build sits beside BUILD_DIR (same depth), so ccache serves its unchanged objects.
generator=$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$build/CMakeCache.txt")
cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }
cmake -S "$src" -B "$old" -G "$generator" -DOTAFLEET_FORCE_VERSION="$old_version" \
  -DOTAFLEET_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE="$(cache_value CMAKE_BUILD_TYPE)" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$(cache_value CMAKE_CXX_FLAGS_RELWITHDEBINFO)" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="$(cache_value CMAKE_C_FLAGS_RELWITHDEBINFO)" \
  -DCMAKE_CXX_COMPILER_LAUNCHER="$(cache_value CMAKE_CXX_COMPILER_LAUNCHER)" \
  -DCMAKE_C_COMPILER_LAUNCHER="$(cache_value CMAKE_C_COMPILER_LAUNCHER)" \
  >"$work/old-configure.log" 2>&1 || { tail -20 "$work/old-configure.log"; fail "configure $old"; }
cmake --build "$old" --parallel "$jobs" >"$work/old-build.log" 2>&1 ||
  { tail -40 "$work/old-build.log"; fail "build $old"; }
rm -f "$old"/otafleet*.deb
(cd "$old" && cpack -G DEB >"$work/old-cpack.log" 2>&1) ||
  { tail -20 "$work/old-cpack.log"; fail "cpack in $old"; }
say "packages built in $(($(date +%s) - t)) s"
fi

shopt -s nullglob
debs=("$build"/otafleet*_"$version"_*.deb)
old_debs=("$old"/otafleet*_"$old_version"_*.deb)
rpms=("$build"/otafleet*.rpm)
tgzs=("$build"/otafleet-"$version"-Linux-*.tar.gz)
shopt -u nullglob
packages=(otafleet otafleet-agent)
[ -f "$build/bin/otafleetd" ] && packages+=(otafleetd)
((${#debs[@]} == ${#packages[@]})) || fail "expected DEBs for ${packages[*]}, got: ${debs[*]}"
((${#old_debs[@]} == ${#packages[@]})) || fail "expected old DEBs, got: ${old_debs[*]}"
((${#rpms[@]} == ${#packages[@]})) || fail "expected RPMs for ${packages[*]}, got: ${rpms[*]}"
((${#tgzs[@]} == 1)) || fail "expected one TGZ, got: ${tgzs[*]}"

# ---------------------------------------------------------------- 2. checks on this machine
say "lintian"
lintian --fail-on error --tag-display-limit 0 \
  "${debs[@]}" || fail "lintian reports errors"

say "rpm: requires, files, config files, rpmlint (no errors)"
for rpm in "${rpms[@]}"; do
  name=$(rpm -qp --qf '%{NAME}' "$rpm" 2>/dev/null)
  rpm -qpR "$rpm" 2>/dev/null | grep -q 'libQt6Core.so.6()(64bit)' ||
    fail "$name: rpm computed no requirement on libQt6Core.so.6"
  files=$(rpm -qpl "$rpm" 2>/dev/null)
  case $name in
    otafleet) expect=(/usr/bin/otafleet /usr/bin/otafleetctl /usr/share/mime/packages/otafleet.xml) ;;
    otafleet-agent) expect=(/usr/bin/otafleet-agent /etc/otafleet/agent.conf
      /usr/lib/systemd/system/otafleet-agent.service) ;;
    otafleetd) expect=(/usr/bin/otafleetd) ;;
    *) fail "unexpected RPM $rpm" ;;
  esac
  for f in "${expect[@]}"; do
    grep -qx "$f" <<<"$files" || fail "$name.rpm lacks $f"
  done
  [ "$name" != otafleet-agent ] || rpm -qpc "$rpm" 2>/dev/null | grep -qx /etc/otafleet/agent.conf ||
    fail "otafleet-agent.rpm does not mark /etc/otafleet/agent.conf as config"
  printf '%s requires: %s\n' "$name" "$(rpm -qpR "$rpm" 2>/dev/null | tr '\n' ' ')"
done
if command -v rpmlint >/dev/null; then
  # installer/rpm/rpmlint.toml: our conventions (gzip man pages, the project's license, packages
  # signed at publication); warnings are printed, an error fails the test.
  rpmlint_out=$(cd "$work" && rpmlint -c "$src/installer/rpm/rpmlint.toml" "${rpms[@]}" 2>&1) || true
  echo "$rpmlint_out"
  grep -Eq '^[^ ]+: E: ' <<<"$rpmlint_out" && fail "rpmlint reports errors"
  grep -Eq ' 0 errors, ' <<<"$rpmlint_out" || fail "rpmlint did not run to its summary"
else
  echo "rpmlint is not installed; rpm -qpR/-qpl/-qpc above are the RPM checks"
fi

say "desktop entry, AppStream metadata, MIME type"
x=$work/extract
for deb in "${debs[@]}"; do dpkg-deb -x "$deb" "$x"; done
desktop-file-validate "$x/usr/share/applications/otafleet.desktop" || fail "desktop-file-validate"
grep -qx 'Exec=otafleet %f' "$x/usr/share/applications/otafleet.desktop" ||
  fail "the desktop entry does not pass the opened file to otafleet"
grep -qx 'MimeType=application/x-otafleet-bundle;' "$x/usr/share/applications/otafleet.desktop" ||
  fail "the desktop entry does not claim .otab bundles"
appstreamcli validate --no-net "$x/usr/share/metainfo/org.otafleet.Console.metainfo.xml" ||
  fail "appstreamcli validate"
mkdir -p "$work/mime/packages"
cp "$x/usr/share/mime/packages/otafleet.xml" "$work/mime/packages/"
mime_out=$(XDG_DATA_HOME=$work update-mime-database "$work/mime" 2>&1)
[ -z "$mime_out" ] || fail "update-mime-database: $mime_out"
grep -q 'application/x-otafleet-bundle' "$work/mime/globs2" || fail "*.otab is not in the MIME globs"
grep -q '^application/x-otafleet-bundle' "$work/mime/types" || fail "the MIME type was not registered"

say "relocatable TGZ"
mkdir -p "$work/tgz/some/where"
tar -xzf "${tgzs[0]}" -C "$work/tgz/some/where"
tgz_root=$(echo "$work"/tgz/some/where/*)
for program in otafleetctl otafleet-agent; do
  got=$("$tgz_root/bin/$program" --version) || fail "TGZ: $program --version"
  [ "$got" = "$program $version" ] || fail "TGZ: $program says '$got', not '$program $version'"
done
ls "$tgz_root"/lib*/otafleet/plugins/*.so >/dev/null 2>&1 || fail "TGZ: no transport plugins"
[ ! -e "$tgz_root/etc" ] || fail "TGZ: contains /etc files"

# ---------------------------------------------------------------- 3. a clean Debian 12 root
# The Debian archive apt uses here (deb822 .sources or one-line .list entries).
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
if [ -z "$mirror" ]; then
  mirror=$(awk -v s="$suite" '$1 == "deb" && $3 == s {print $2; exit}' \
    /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
fi
[ -n "$mirror" ] || fail "no Debian archive found in /etc/apt/sources.list*"
key=$(printf '%s %s minbase systemd\n' "$suite" "$mirror" | sha256sum | cut -c1-12)
tarball=$cache/$suite-minbase-$key.tar.zst
mkdir -p "$cache/apt-archives/partial" "$root"
t=$(date +%s)
if [ -f "$tarball" ]; then
  say "root from the cache $tarball"
  tar --zstd -xpf "$tarball" -C "$root"
else
  say "debootstrap --variant=minbase $suite from $mirror (cached in $tarball)"
  debootstrap --variant=minbase --include=systemd "$suite" "$root" "$mirror" \
    >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; fail "debootstrap"; }
  rm -rf "$root"/var/cache/apt/archives/*.deb
  tar --zstd -cpf "$tarball.tmp" -C "$root" . && mv "$tarball.tmp" "$tarball"
fi
say "root ready in $(($(date +%s) - t)) s"

# Same archive entries as this machine (the Debian ones), the host's DNS, downloaded .debs kept.
rm -f "$root/etc/apt/sources.list"
for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] && grep -q debian "$f" && cp "$f" "$root/etc/apt/sources.list.d/"
done
cp /etc/apt/apt.conf.d/99artifact-registry "$root/etc/apt/apt.conf.d/" 2>/dev/null || true
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod 0755 "$root/usr/sbin/policy-rc.d"
mount_in_root -t proc proc "$root/proc"
mount_in_root --bind /dev "$root/dev"
mount_in_root --bind "$cache/apt-archives" "$root/var/cache/apt/archives"

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }
apt_get() { in_root apt-get -y -q -o Dpkg::Options::=--force-confold "$@"; }
# install_debs DIR: what a user types, `apt-get install ./otafleet*.deb`, in /tmp/pkgs/DIR.
install_debs() {
  in_root sh -c "cd /tmp/pkgs/$1 && apt-get -y -q -o Dpkg::Options::=--force-confold \
    install --no-install-recommends ./otafleet*.deb"
}

mkdir -p "$root/tmp/pkgs/old" "$root/tmp/pkgs/new"
cp "${old_debs[@]}" "$root/tmp/pkgs/old/"
cp "${debs[@]}" "$root/tmp/pkgs/new/"
# Files of the clean root, to compare with after the purge.
list_root() {
  (cd "$root" && find . -xdev \( -path ./proc -o -path ./dev -o -path ./tmp -o -path ./run \
    -o -path ./var/cache -o -path ./var/lib/apt -o -path ./var/log \) -prune -o -print | sort)
}

say "apt-get update"
apt_get update >"$work/apt-update.log" 2>&1 || { tail -20 "$work/apt-update.log"; fail "apt-get update"; }
# What apt installs as dependencies stays after the purge; only otafleet's own files must go.
list_root >"$work/files-clean"

say "apt-get install ./otafleet*.deb ($old_version)"
t_install=$(date +%s.%N)
install_debs old >"$work/install-old.log" 2>&1 ||
  { tail -30 "$work/install-old.log"; fail "apt-get install of the $old_version packages"; }

# A device as an installer would set it up: a PKI from the fleet (made here with the build's
# otafleetctl), 'otafleet-agent setup' into the data directory, the config in /etc/otafleet.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$build/bin/otafleetctl" pki init --dir "$root/root/pki" >"$work/pki.log" 2>&1 ||
  { cat "$work/pki.log"; fail "otafleetctl pki init"; }
in_root otafleet-agent setup --dir /var/lib/otafleet --pki /root/pki --listen "127.0.0.1:$port" \
  --name packaging-test >"$work/setup.log" 2>&1 || { cat "$work/setup.log"; fail "otafleet-agent setup"; }
# Its config, with the paths made absolute, becomes /etc/otafleet/agent.conf (the edited conffile).
awk -v d=/var/lib/otafleet '
  /^\[agent\]/ { print; print "data_dir = " d; next }
  /^(slot_a|slot_b|bundle_root|crl|certificate|key|operator_ca|uboot_env_config|grub_env) *=/ {
    split($0, kv, /[ \t]*=[ \t]*/)
    if (substr(kv[2], 1, 1) != "/") { print kv[1] " = " d "/" kv[2]; next }
  }
  { print }' "$root/var/lib/otafleet/agent.conf" >"$root/etc/otafleet/agent.conf"
rm "$root/var/lib/otafleet/agent.conf"
in_root chown -R otafleet-agent:otafleet-agent /var/lib/otafleet

# start_agent LOG: the agent as the service runs it (its user, /etc/otafleet/agent.conf), until
# it prints that it listens.
start_agent() {
  chroot --userspec=otafleet-agent:otafleet-agent "$root" /usr/bin/env -i PATH=/usr/bin:/bin \
    /usr/bin/otafleet-agent --config /etc/otafleet/agent.conf >"$1" 2>&1 &
  agent_pid=$!
  local i
  for ((i = 0; i < 300; i++)); do
    grep -q 'listening on' "$1" && return 0
    kill -0 "$agent_pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$1"
  fail "the installed agent did not start listening"
}
stop_agent() {
  kill "$agent_pid" && wait "$agent_pid" 2>/dev/null || true
  agent_pid=
}
start_agent "$work/agent-old.log"
t_running=$(date +%s.%N)
stop_agent

say "upgrade $old_version -> $version keeps the edited config and the data"
in_root runuser -u otafleet-agent -- touch /var/lib/otafleet/kept-by-upgrade
config_before=$(sha256sum <"$root/etc/otafleet/agent.conf")
install_debs new >"$work/install-new.log" 2>&1 ||
  { tail -30 "$work/install-new.log"; fail "apt-get install of the $version packages"; }
for p in "${packages[@]}"; do
  got=$(in_root dpkg-query -W -f='${Version}' "$p")
  [ "$got" = "$version" ] || fail "$p is at $got after the upgrade, not $version"
done
[ "$(sha256sum <"$root/etc/otafleet/agent.conf")" = "$config_before" ] ||
  fail "the upgrade changed the edited /etc/otafleet/agent.conf"
[ -f "$root/var/lib/otafleet/kept-by-upgrade" ] || fail "the upgrade lost /var/lib/otafleet data"
[ -f "$root/var/lib/otafleet/state/boot.state" ] || fail "the upgrade lost the agent's boot state"
start_agent "$work/agent-new.log"
stop_agent

say "every program answers --version with $version"
check_version() { # check_version PROGRAM [ENV...]
  local program=$1
  shift
  local got
  got=$(in_root "$@" "$program" --version) || fail "$program --version failed in the root"
  [ "$got" = "$program $version" ] || fail "$program --version says '$got', not '$program $version'"
  echo "$got"
}
check_version otafleetctl
check_version otafleet-agent
check_version otafleet QT_QPA_PLATFORM=offscreen
[[ " ${packages[*]} " != *" otafleetd "* ]] || check_version otafleetd

say "systemd-analyze verify"
units=(/usr/lib/systemd/system/otafleet-agent.service)
[[ " ${packages[*]} " != *" otafleetd "* ]] || units+=(/usr/lib/systemd/system/otafleetd.service)
verify_out=$(in_root systemd-analyze verify "${units[@]}" 2>&1) ||
  { echo "$verify_out"; fail "systemd-analyze verify rejects the units"; }
[ -z "$verify_out" ] || { echo "$verify_out"; fail "systemd-analyze verify warns about the units"; }

say "installed size (printed, not asserted)"
in_root dpkg-query -W -f='  ${Package} ${Version}: ${Installed-Size} KiB\n' "${packages[@]}"
python3 -c "print('  time from apt-get install to a running agent: %.1f s' % ($t_running - $t_install))"

say "apt-get purge leaves no file behind"
in_root systemctl enable otafleet-agent.service >/dev/null 2>&1 ||
  fail "systemctl enable otafleet-agent in the root"
[ -L "$root/etc/systemd/system/multi-user.target.wants/otafleet-agent.service" ] ||
  fail "enabling the agent made no symlink to test the purge with"
apt_get purge "${packages[@]}" >"$work/purge.log" 2>&1 || { tail -20 "$work/purge.log"; fail "purge"; }
list_root >"$work/files-purged"
left=$(comm -13 "$work/files-clean" "$work/files-purged" | grep -i otafleet || true)
[ -z "$left" ] || { echo "$left"; fail "files left behind after apt-get purge"; }
for p in "${packages[@]}"; do
  ! in_root dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q installed ||
    fail "$p is still known to dpkg after the purge"
done

say "all checks passed in $(($(date +%s) - start)) s"
