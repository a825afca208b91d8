#!/usr/bin/env bash
# Installs every Debian 12 package that swarmdial's build, tests and
# benchmarks need. Idempotent: when everything is present it only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_PKGS=(
  build-essential pkg-config meson ninja-build clang-format
  liburing-dev libboost-program-options-dev libboost-dev
  libfmt-dev nlohmann-json3-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  gnuplot-nox libdpdk-dev libmnl-dev libnftables-dev
  clang clang-14 libclang-rt-14-dev libbpf-dev libsystemd-dev ccache
)
TEST_PKGS=(
  iproute2 nftables procps util-linux python3 python3-libtorrent aria2
  opentracker nodejs ethtool zmap masscan prometheus python3-yaml systemd
  transmission-daemon transmission-cli qbittorrent-nox
)

# --build: what compiling and `swarmdial demo` (gnuplot for its chart) need. --tests (default): also what the test
# suite and benchmarks start: real BitTorrent clients, nftables, iproute2.
want=("${BUILD_PKGS[@]}")
case "${1:---tests}" in
  --build) ;;
  --tests) want+=("${TEST_PKGS[@]}") ;;
  *) echo "install-deps.sh: unknown option $1 (--build | --tests)" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#want[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "install-deps: done"
fi

# The npm tracker the tests start (bittorrent-tracker, pinned by the
# committed package-lock.json). Its optional WebRTC add-ons are native
# builds the HTTP/UDP tracker never loads, so install scripts are skipped.
if [[ ${1:---tests} == --tests && ! -d tests/trackers/node_modules/bittorrent-tracker ]]; then
  if ! command -v npm >/dev/null; then
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
  fi
  echo "install-deps: npm bittorrent-tracker"
  (cd tests/trackers && npm ci --ignore-scripts --omit=optional --no-audit --no-fund --loglevel=error)
fi
