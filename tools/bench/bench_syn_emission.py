#!/usr/bin/env python3
"""Raw SYN emission on one veth: swarmdial's dpdk backend (net_af_packet
vdev, or net_af_xdp with --port af_xdp; every SYN tracked in its flow
table, large budget, black-holed targets) against zmap and masscan, each sending from one core, side by side
in one run.

Topology: namespaces sd_synb_<pid>_e (the senders' veth end, 198.18.30.2)
and sd_synb_<pid>_p (198.18.30.1/24). Targets are 198.18.128.0/17 behind
the peer as gateway; the peer drops every frame at netdev ingress (see setup()).
Nothing leaves the two namespaces, which are deleted at the end.

The rate is read from the peer's rx_packets counter every 0.25 s; the first
0.75 s of each run (start-up: EAL, zmap's and masscan's set-up) is left out
and the median of the remaining intervals is the run's pps. Tools alternate,
RUNS times each; the medians and their ratios are printed.

Usage: bench_syn_emission.py BUILD_DIR [--runs N] [--seconds S] [--port af_packet|af_xdp]
                             [--only swarmdial,zmap,masscan] [--json FILE]"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("build_dir")
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--seconds", type=float, default=4.0)
ap.add_argument("--budget", type=int, default=500000)
ap.add_argument("--json")
ap.add_argument("--port", choices=["af_packet", "af_xdp"], default="af_packet",
                help="swarmdial's DPDK port on the veth (af_xdp: dial-only, every frame to it)")
ap.add_argument("--only", help="comma-separated subset of swarmdial,zmap,masscan")
args = ap.parse_args()

swarmdial = os.path.abspath(os.path.join(args.build_dir, "tools/swarmdial/swarmdial"))
pid = os.getpid()
E, P = f"sd_synb_{pid}_e", f"sd_synb_{pid}_p"
VE, VP = f"sdsb{pid % 100000}e", f"sdsb{pid % 100000}p"
PEER_IP, SRC_IP, SRC_POOL = "198.18.30.1", "198.18.30.2", "198.18.30.128/26"
TARGETS = "198.18.128.0/17"
tmp = tempfile.mkdtemp(prefix="sd_synb_")


def sh(*cmd, **kw):
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True, **kw)


def rx_packets():
    out = sh("ip", "-n", P, "-s", "-j", "link", "show", "dev", VP).stdout
    return json.loads(out)[0]["stats64"]["rx"]["packets"]


def setup():
    sh("ip", "netns", "add", E)
    sh("ip", "netns", "add", P)
    sh("ip", "link", "add", VE, "netns", E, "type", "veth", "peer", "name", VP, "netns", P)
    sh("ip", "-n", P, "addr", "add", f"{PEER_IP}/24", "dev", VP)
    # zmap will not send from an interface without an address. swarmdial's
    # own addresses (SRC_POOL) stay outside the kernel's.
    sh("ip", "-n", E, "addr", "add", f"{SRC_IP}/24", "dev", VE)
    for ns, dev in ((E, VE), (E, "lo"), (P, VP), (P, "lo")):
        sh("ip", "-n", ns, "link", "set", dev, "up")
    # The wire's far end: a real receiver is another machine, so its cost
    # must not land on the sending core. veth delivers on the sender's CPU;
    # an nftables netdev ingress drop discards each frame before the IP stack, the same
    # cheap sink for every tool (ARP passes:
    # swarmdial resolves its gateway itself). rx_packets still counts every frame.
    rules = (f"table netdev sd_sink {{\n chain ingress {{\n"
             f"  type filter hook ingress device {VP} priority 0; policy drop;\n"
             f"  ether type arp accept\n }}\n}}\n")
    sh("ip", "netns", "exec", P, "nft", "-f", "-", input=rules)
    return sh("ip", "netns", "exec", P, "cat", f"/sys/class/net/{VP}/address").stdout.strip()


def teardown():
    for ns in (E, P):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def commands(peer_mac):
    allow, block = os.path.join(tmp, "allow.txt"), os.path.join(tmp, "block.txt")
    with open(allow, "w") as f:
        f.write(TARGETS + "\n")
    open(block, "w").close()  # zmap's default blocklist holds 198.18.0.0/15
    secs = args.seconds
    # Every tool is bounded twice: by a target count it cannot finish in
    # time, and by time (its own limit, and our SIGINT after secs + 2 s).
    return {
        "swarmdial": [swarmdial, "dial", "--backend", "dpdk", "--shards", "1", "--dpdk",
                      f"--no-huge -m 1024 --no-pci --no-shconf --file-prefix synb{pid} "
                      f"--vdev net_{args.port}0,iface={VE}",
                      "--range", f"{TARGETS}:1-100", "--gateway", PEER_IP, "--source", SRC_POOL,
                      "--half-open", str(args.budget), "--timeout", "500", "--rate", "0",
                      "--duration", str(secs), "--output", os.devnull, "--quiet"],
        "zmap": ["zmap", "-i", VE, "-S", SRC_IP, "-G", peer_mac, "-p", "7000", "-r", "0", "-T",
                 "1", "-P", "200", "-c", "0", "-t", str(int(secs)), "-b", block, "-w", allow, "-o",
                 os.devnull, "-q"],
        "masscan": ["masscan", TARGETS, "-p", "1-100", "--rate", "100000000", "--adapter", VE,
                    "--adapter-ip", SRC_IP, "--router-mac", peer_mac, "--wait", "0", "-oL",
                    os.devnull],
    }


def run_once(cmd):
    log = open(os.path.join(tmp, "log.txt"), "w")
    # cwd: masscan writes paused.conf where it runs when interrupted.
    p = subprocess.Popen(["ip", "netns", "exec", E] + cmd, stdout=log, stderr=log, cwd=tmp)
    samples, start = [], time.monotonic()
    last_t, last_n = start, rx_packets()
    while p.poll() is None and time.monotonic() - start < args.seconds + 2:
        time.sleep(0.25)
        t, n = time.monotonic(), rx_packets()
        if t - start > 0.75 and t - start < args.seconds:
            samples.append((n - last_n) / (t - last_t))
        last_t, last_n = t, n
    if p.poll() is None:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if not samples:
        sys.exit(f"{cmd[0]} produced no samples; see {log.name}")
    return statistics.median(samples)


try:
    mac = setup()
    cmds = commands(mac)
    if args.only:
        cmds = {k: v for k, v in cmds.items() if k in args.only.split(",")}
    results = {name: [] for name in cmds}
    for r in range(args.runs):
        for name, cmd in cmds.items():
            pps = run_once(cmd)
            results[name].append(pps)
            print(f"run {r + 1} {name}: {pps / 1e6:.3f} Mpps", flush=True)
finally:
    teardown()

med = {name: statistics.median(v) for name, v in results.items()}
print("\nSYN emission on one veth, one sending core, medians of "
      f"{args.runs} runs ({args.seconds:.0f} s each):")
for name, v in med.items():
    print(f"  {name:10s} {v / 1e6:6.3f} Mpps")
for other in ("zmap", "masscan"):
    if "swarmdial" in med and other in med:
        print(f"  swarmdial / {other:7s} = {med['swarmdial'] / med[other]:.2f}x")
if args.json:
    with open(args.json, "w") as f:
        json.dump({"runs": results, "median_pps": med}, f, indent=1)
