#!/usr/bin/env bash
# Installs the Debian 12 packages otafleet builds, runs and tests with. Idempotent: installs only
# what is missing, so running it on a prepared machine costs one dpkg query.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # Qt 6
  qt6-base-dev qt6-base-dev-tools libqt6sql6-sqlite qt6-serialport-dev qt6-connectivity-dev
  qt6-svg-dev libqt6svg6 qt6-qpa-plugins libgl-dev
  # charts
  libqcustomplot-dev libqcustomplot2.1-qt6
  # gRPC / protobuf
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  # crypto, PKCS#11, storage, compression
  libssl-dev openssl libp11-dev libp11-kit-dev softhsm2 opensc libsqlite3-dev sqlite3 libzstd-dev zstd
  # a token served by another process (tst_tokenstall: `p11-kit server` + p11-kit-client.so)
  p11-kit p11-kit-modules
  # otafleetd's store on PostgreSQL (tst_serverstore starts its own server in a temp dir)
  libqt6sql6-psql postgresql
  gnutls-bin
  # fuzzing (libFuzzer ships with clang's runtime)
  clang-16 libclang-rt-16-dev
  # screenshots and GUI tests under a virtual display
  xvfb xauth imagemagick
  # packaging: CPack's DEB (dpkg-shlibdeps) and RPM (rpmbuild) generators, man pages (gzip), and
  # tests/packaging: a clean Debian root, lintian, rpmlint, desktop and AppStream validators
  dpkg-dev file time python3 gzip rpm debootstrap lintian rpmlint desktop-file-utils appstream
  shared-mime-info
  u-boot-tools libubootenv-tool grub-common
  bsdiff
  rauc squashfs-tools
  # benchmarks: tests/bench/bench_push.sh measures the push beside curl fetching from nginx, and
  # the agent's idle RSS beside the mender client's (its own service is switched off below)
  nginx-light curl mender-client
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "otafleet: installing ${#missing[@]} missing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if [[ " ${missing[*]} " == *" mender-client "* ]] && command -v systemctl >/dev/null; then
    # Only the benchmark runs it, in a temp dir: no daemon polling a server from boot on.
    "${sudo_cmd[@]}" systemctl disable --now mender-client 2>/dev/null || true
  fi
else
  echo "otafleet: all build dependencies are present"
fi
