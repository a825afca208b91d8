#!/usr/bin/env python3
"""Handshakes per second against kernel peers on one veth: the dpdk backend
(net_af_packet vdev, userspace handshakes) against uring (kernel TCP), at
the same budget, side by side in one run.

Topology: namespaces sd_hsb_<pid>_e (198.18.31.2 on its veth end, used by
uring; dpdk's own addresses are 198.18.31.128/26, which the kernel does not
hold) and sd_hsb_<pid>_p (198.18.31.1, and every address of 198.18.32.0/22
local through one AnyIP route). bench_acceptor in the peer accepts and
closes on PORTS on all of them. Each backend dials the same 51,200 targets
with one shard (core 0); the acceptor runs on core 1. Established per
second comes from swarmdial's summary; backends alternate, RUNS times each.

Usage: bench_dpdk_handshakes.py BUILD_DIR [--runs N] [--budgets 64,512]"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("build_dir")
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--budgets", default="64,512")
ap.add_argument("--json")
args = ap.parse_args()

build = os.path.abspath(args.build_dir)
swarmdial = os.path.join(build, "tools/swarmdial/swarmdial")
acceptor_bin = os.path.join(build, "tools/bench/bench_acceptor")
pid = os.getpid()
E, P = f"sd_hsb_{pid}_e", f"sd_hsb_{pid}_p"
VE, VP = f"sdhb{pid % 100000}e", f"sdhb{pid % 100000}p"
# The engine's pool stays clear of .255: that is the peer's broadcast address
# on 198.18.31.0/24, and it never answers a SYN from there.
PEER_IP, KERNEL_IP, ENGINE_POOL, TARGETS = ("198.18.31.1", "198.18.31.2", "198.18.31.128/26",
                                            "198.18.32.0/22")
PORTS = (1000, 1049)
tmp = tempfile.mkdtemp(prefix="sd_hsb_")


def sh(*cmd, **kw):
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True, **kw)


def setup():
    sh("ip", "netns", "add", E)
    sh("ip", "netns", "add", P)
    sh("ip", "link", "add", VE, "netns", E, "type", "veth", "peer", "name", VP, "netns", P)
    sh("ip", "-n", E, "addr", "add", f"{KERNEL_IP}/24", "dev", VE)
    sh("ip", "-n", P, "addr", "add", f"{PEER_IP}/24", "dev", VP)
    for ns, dev in ((E, VE), (E, "lo"), (P, VP), (P, "lo")):
        sh("ip", "-n", ns, "link", "set", dev, "up")
    sh("ip", "-n", P, "route", "add", "local", TARGETS, "dev", "lo")
    sh("ip", "-n", E, "route", "add", TARGETS, "via", PEER_IP)
    # The peer keeps veth's default offloads: its SYN-ACKs reach DPDK with
    # the TCP checksum left partial, which the engine accepts.
    sh("ip", "netns", "exec", P, "sysctl", "-qw", "net.core.somaxconn=65535")
    sh("ip", "netns", "exec", P, "sysctl", "-qw", "net.ipv4.tcp_max_syn_backlog=65535")


def teardown():
    for ns in (E, P):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def run_once(backend, budget):
    summary = os.path.join(tmp, "s.json")
    cmd = [swarmdial, "dial", "--backend", backend, "--shards", "1", "--range",
           f"{TARGETS}:{PORTS[0]}-{PORTS[1]}", "--half-open", str(budget), "--rate", "0",
           "--timeout", "1000", "--output", os.devnull, "--summary", summary, "--quiet",
           "--seed", "1"]
    if backend == "dpdk":
        cmd += ["--source", ENGINE_POOL, "--gateway", PEER_IP, "--dpdk",
                f"--no-huge -m 512 --no-pci --no-shconf --file-prefix hsb{pid} "
                f"--vdev net_af_packet0,iface={VE}"]
    r = subprocess.run(["ip", "netns", "exec", E] + cmd, capture_output=True, text=True,
                       timeout=300)
    if r.returncode != 0:
        sys.exit(f"{backend} failed: {r.stderr}")
    s = json.load(open(summary))
    est = s["outcomes"]["established"]
    if est < 0.99 * s["targets"]:
        sys.exit(f"{backend}: only {est} of {s['targets']} established: {s['outcomes']}")
    if s["outcomes"]["timeout"]:
        print(f"  ({backend}: {s['outcomes']['timeout']} timeouts; the run waited for them)")
    return s["rates"]["established_per_s"]


results = {}
# veth hands every frame to the receiving CPU's backlog; a whole budget of
# SYNs leaving at once (rate 0) overflows the default 1000 and the lost SYNs
# turn into 1 s timeouts that end the run. Raised for the run, restored after.
backlog = open("/proc/sys/net/core/netdev_max_backlog").read().strip()
try:
    with open("/proc/sys/net/core/netdev_max_backlog", "w") as f:
        f.write("16384")
    setup()
    ports = [str(p) for p in range(PORTS[0], PORTS[1] + 1)]
    acceptor = subprocess.Popen(["ip", "netns", "exec", P, "taskset", "-c", "1", acceptor_bin,
                                 *ports], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert acceptor.stdout.readline().strip() == "ready"
    try:
        for budget in [int(b) for b in args.budgets.split(",")]:
            for r in range(args.runs):
                for backend in ("uring", "dpdk"):
                    v = run_once(backend, budget)
                    results.setdefault(f"{backend}@{budget}", []).append(v)
                    print(f"half-open {budget} run {r + 1} {backend}: {v:,.0f} established/s",
                          flush=True)
    finally:
        acceptor.stdin.close()
        acceptor.wait(timeout=10)
finally:
    teardown()
    with open("/proc/sys/net/core/netdev_max_backlog", "w") as f:
        f.write(backlog)

print(f"\nhandshakes/s against kernel peers on one veth, one shard, medians of {args.runs}:")
for budget in [int(b) for b in args.budgets.split(",")]:
    u = statistics.median(results[f"uring@{budget}"])
    d = statistics.median(results[f"dpdk@{budget}"])
    print(f"  half-open {budget:5d}: dpdk {d:10,.0f}/s  uring {u:10,.0f}/s  dpdk/uring = {d / u:.2f}x")
if args.json:
    with open(args.json, "w") as f:
        json.dump(results, f, indent=1)
