#!/usr/bin/env bash
# First run on a fresh Debian 12 machine: install what is missing, build,
# then run `swarmdial demo`: a temporary torrent seeded to an emulated swarm
# of 1,000 loopback peers (most dead or black-holed, as in a public swarm),
# inside a half-open budget, with a live status line and a final report.
# No root and no network setup needed beyond the package install.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh --build
[[ -f build/build.ninja ]] || meson setup build >/dev/null
ninja -C build >/dev/null
exec ./build/tools/swarmdial/swarmdial demo --status "$@"
