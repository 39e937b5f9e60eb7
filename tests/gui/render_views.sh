#!/usr/bin/env bash
# Renders every main view of the console to PNG under a virtual X display: the console starts on
# a temporary embedded fleet filled by --sample-fleet (simulated devices and a rollout history,
# nobody contacted) and --render-views draws the device list, the dashboard, the rollouts, the
# rollout monitor, the approval inbox, the rollout wizard (targets, a plan error, summary) and
# every telemetry chart (progress, waves, failure reasons, adoption, throughput, durations), the
# releases (a two-person release's report), the New release dialog, and the Security menu's audit
# log (verified), users and notifications.
# Each PNG is then checked: a real PNG of the expected size with more than a handful of colours
# (a blank or black window fails).
#
#   tests/gui/render_views.sh OTAFLEET_BINARY OUT_DIR [--update-docs]
#
# --update-docs copies the images the README shows into resources/screenshots/.
# Needs xvfb-run (package xvfb, installed by installer/install-deps.sh) and ImageMagick's identify.
set -euo pipefail

usage() { echo "usage: $0 OTAFLEET_BINARY OUT_DIR [--update-docs]" >&2; exit 2; }
(($# >= 2)) || usage
console=$1
out=$2
update_docs=0
[[ ${3:-} == --update-docs ]] && update_docs=1
[[ ${3:-} == "" || $update_docs == 1 ]] || usage
source_dir=$(cd "$(dirname "$0")/../.." && pwd)

for tool in xvfb-run identify; do
  if ! command -v "$tool" >/dev/null; then
    echo "render_views: $tool is missing; run 'bash installer/install-deps.sh' (it installs xvfb and imagemagick)." >&2
    exit 1
  fi
done
[[ -x $console ]] || { echo "render_views: $console is not an executable; build the otafleet target first." >&2; exit 1; }

data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
rm -rf "$out"
mkdir -p "$out"

echo "render_views: rendering into $out" >&2
# Always under Xvfb, also on a desktop: a fixed screen and no window flashing on the user's.
env -u WAYLAND_DISPLAY QT_QPA_PLATFORM=xcb HOME="$data/home" XDG_RUNTIME_DIR="$data" \
  QT_LOGGING_RULES="*.info=false" \
  xvfb-run -a -s "-screen 0 1600x1000x24" \
  "$console" --data-dir "$data/fleet" --sample-fleet --render-views "$out"

expected=(devices dashboard rollouts rollout-monitor approvals wizard-targets wizard-plan-error
          wizard-summary telemetry-progress telemetry-waves telemetry-failure-reasons
          telemetry-adoption telemetry-throughput telemetry-install-duration releases
          release-sign audit users notifications)
failed=0
for name in "${expected[@]}"; do
  png="$out/$name.png"
  if [[ ! -s $png ]]; then
    echo "render_views: $name.png was not written" >&2; failed=1; continue
  fi
  read -r format width height colours < <(identify -format '%m %w %h %k\n' "$png")
  if [[ $format != PNG ]]; then
    echo "render_views: $name.png is $format, not PNG" >&2; failed=1
  elif ((width < 700 || height < 500)); then
    echo "render_views: $name.png is only ${width}x${height}" >&2; failed=1
  elif ((colours < 100)); then
    echo "render_views: $name.png has $colours colours: the view was not drawn" >&2; failed=1
  else
    echo "render_views: $name.png ${width}x${height}, $colours colours" >&2
  fi
done
((failed == 0)) || exit 1

if ((update_docs)); then
  for name in dashboard rollout-monitor wizard-summary approvals telemetry-progress releases; do
    cp "$out/$name.png" "$source_dir/resources/screenshots/$name.png"
  done
  echo "render_views: README images updated in resources/screenshots/" >&2
fi
