#!/usr/bin/env python3
"""Throughput of a handed-off flow over each exception path of the dpdk
backend, against a plain kernel connect() on the same veth, side by side in
one run: an echo of SIZE bytes each way through one socket, every byte
checked (tests/dpdk/dpdk_echo_client), to a kernel echo server in the peer
namespace.

  plain   the kernel's own connect() from an address on the veth
  tap     net_af_packet port: the repaired socket's packets pass through
          the shard and a DPDK TAP (the TAP exception path)
  af_xdp  net_af_xdp port with swarmdial's XDP program: only the handshake
          goes through the engine, the repaired socket's data does not

The three alternate, RUNS times each; medians (MB/s, both directions
counted) and each path's ratio to plain are printed. The topology is the
integration tests' (tests/integration/dpdk_net.py): sd_* namespaces, a
veth, 198.18.x.y addresses, all deleted at the end.

Usage: bench_handoff_echo.py BUILD_DIR [--runs N] [--size BYTES] [--json FILE]"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../../tests/integration"))
from dpdk_net import DpdkNet  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("build_dir")
ap.add_argument("--runs", type=int, default=5)
ap.add_argument("--size", type=int, default=64 << 20)
ap.add_argument("--json")
args = ap.parse_args()

client = os.path.abspath(os.path.join(args.build_dir, "tests/dpdk/dpdk_echo_client"))
PLAIN_IP = "198.18.27.2"
net = DpdkNet("echob", subnet=27)


def run(path):
    if path == "plain":
        cmd = [client, "--plain", "-", PLAIN_IP, net.peer_ip, 6200, args.size]
    else:
        cmd = [client, net.eal_args(1, driver="af_xdp" if path == "af_xdp" else "af_packet"),
               net.engine_ip, net.peer_ip, 6200, args.size]
    r = subprocess.run(net.in_engine(cmd), capture_output=True, text=True, timeout=300)
    lines = r.stdout.strip().splitlines()
    res = json.loads(lines[-1]) if lines else {}
    if r.returncode != 0 or res.get("echoed") != args.size:
        sys.exit(f"{path}: echo failed (exit {r.returncode}): {res} {r.stderr[-300:]}")
    return 2 * args.size / res["seconds"] / 1e6


results = {"plain": [], "tap": [], "af_xdp": []}
try:
    net.start_in_peer([sys.executable, os.path.join(HERE, "../../tests/integration/peer_echo.py"),
                       net.peer_ip, 6200])
    for r in range(args.runs):
        for path in results:
            # The plain run's address exists only for it: the engine's runs
            # must find the kernel without an address of its own on the wire.
            if path == "plain":
                subprocess.run(["ip", "-n", net.engine, "addr", "add", f"{PLAIN_IP}/24", "dev",
                                net.engine_if], check=True)
            try:
                rate = run(path)
            finally:
                if path == "plain":
                    subprocess.run(["ip", "-n", net.engine, "addr", "del", f"{PLAIN_IP}/24",
                                    "dev", net.engine_if], check=True)
            results[path].append(rate)
            print(f"run {r + 1} {path}: {rate:.1f} MB/s", flush=True)
finally:
    net.close()

med = {path: statistics.median(v) for path, v in results.items()}
print(f"\nEcho of {args.size >> 20} MiB each way through one handed-off socket, medians of "
      f"{args.runs} runs:")
for path, v in med.items():
    ratio = "" if path == "plain" else f"  = {v / med['plain']:.2f}x plain"
    print(f"  {path:7s} {v:8.1f} MB/s{ratio}")
if args.json:
    with open(args.json, "w") as f:
        json.dump({"runs": results, "median_mb_s": med}, f, indent=1)
