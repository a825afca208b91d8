#!/usr/bin/env bash
# Installs every Debian 12 package that swarmdial's build, tests and
# benchmarks need. Idempotent: when everything is present it only checks.
set -euo pipefail

BUILD_PKGS=(
  build-essential pkg-config meson ninja-build clang-format
  liburing-dev libboost-program-options-dev libboost-dev
  libfmt-dev nlohmann-json3-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
TEST_PKGS=(
  iproute2 nftables procps python3
)

want=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}")
if [[ "${1:-}" == "--with-extra" ]]; then
  # Heavier packages used by the peer-wire, tracker and DPDK work.
  want+=(libdpdk-dev dpdk clang llvm libbpf-dev libxdp-dev aria2 python3-libtorrent opentracker
         nodejs npm gnuplot zmap masscan)
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#want[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
