#!/usr/bin/env python3
"""Dialer benchmark: uring against the epoll baseline, side by side in one run.

1. Established connections per second on loopback at half-open 64, 512 and
   4096: a C++ accept-and-close peer listens on 0.0.0.0 on several ports, so
   every 127.x address is a live peer; swarmdial dials a /16 of them.
2. SYNs launched per second against black holes at half-open 4096 with a
   20 ms timeout.
For each configuration the backends alternate, RUNS times each, and the
medians are reported with their ratio. CPU per established connection is
the dialing process's own user+sys time (wait4 rusage) over its count.

Usage: bench_dial.py BUILD_DIR [--runs N] [--targets N] [--json FILE]
Loopback only; every run is bounded by its target count and a timeout."""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("build_dir")
ap.add_argument("--runs", type=int, default=5)
ap.add_argument("--targets", type=int, default=60000)
ap.add_argument("--budgets", default="64,512,4096")
ap.add_argument("--json")
args = ap.parse_args()

swarmdial = os.path.join(args.build_dir, "tools/swarmdial/swarmdial")
acceptor_bin = os.path.join(args.build_dir, "tools/bench/bench_acceptor")
tmp = tempfile.mkdtemp(prefix="sd_bench_")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def run_once(backend, target_args, half_open, timeout_ms):
    summary = os.path.join(tmp, "s.json")
    cmd = [swarmdial, "dial", *target_args, "--backend", backend, "--half-open", str(half_open),
           "--shards", "1", "--rate", "0", "--timeout", str(timeout_ms), "--output", os.devnull,
           "--summary", summary, "--quiet", "--seed", "1"]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{backend} run failed: {p.stderr.read().decode()}")
    s = json.load(open(summary))
    return s, ru.ru_utime + ru.ru_stime, wall


def median(xs):
    return statistics.median(xs)


results = {"established": [], "black_hole": []}

# --- established/s -----------------------------------------------------
ports = [free_port() for _ in range(4)]
acceptor = subprocess.Popen([acceptor_bin, *map(str, ports)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
assert acceptor.stdout.readline().strip() == "ready"
hosts_needed = max(1, args.targets // len(ports))
prefix = 32 - max(1, (hosts_needed - 1).bit_length())
targets_file = os.path.join(tmp, "targets.txt")
with open(targets_file, "w") as f:
    n = 0
    for i in range(hosts_needed):
        for port in ports:
            f.write(f"127.{30 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}:{port}\n")
            n += 1
print(f"established/s: {n} targets over {len(ports)} listening ports on 127.30.0.0/16+, "
      f"{args.runs} runs per backend, medians")
try:
    for budget in [int(b) for b in args.budgets.split(",")]:
        per = {"uring": {"rate": [], "cpu_us": []}, "epoll": {"rate": [], "cpu_us": []}}
        for _ in range(args.runs):
            for backend in ("uring", "epoll"):
                s, cpu, _ = run_once(backend, ["--targets", targets_file], budget, 2000)
                est = s["outcomes"]["established"]
                if est < 0.99 * n:
                    sys.exit(f"only {est}/{n} established: {s['outcomes']}")
                per[backend]["rate"].append(s["rates"]["established_per_s"])
                per[backend]["cpu_us"].append(cpu / est * 1e6)
        u, e = median(per["uring"]["rate"]), median(per["epoll"]["rate"])
        uc, ec = median(per["uring"]["cpu_us"]), median(per["epoll"]["cpu_us"])
        print(f"  half-open {budget:5d}: uring {u:9.0f}/s  epoll {e:9.0f}/s  ratio {u / e:.2f}x   "
              f"cpu/conn uring {uc:.2f} us  epoll {ec:.2f} us  ratio {uc / ec:.2f}x")
        results["established"].append({"half_open": budget, "uring_per_s": u, "epoll_per_s": e,
                                       "ratio": u / e, "uring_cpu_us": uc, "epoll_cpu_us": ec,
                                       "cpu_ratio": uc / ec, "runs": per})
finally:
    acceptor.stdin.close()
    acceptor.wait(timeout=10)

# --- SYNs/s against black holes ----------------------------------------
hole = socket.socket()
hole.bind(("0.0.0.0", 0))
hole.listen(0)
filler = socket.create_connection(("127.0.0.1", hole.getsockname()[1]))
port = hole.getsockname()[1]
print(f"black holes: 127.40.0.0/16:{port}, half-open 4096, timeout 20 ms, medians")
try:
    per = {"uring": [], "epoll": []}
    for _ in range(args.runs):
        for backend in ("uring", "epoll"):
            s, cpu, wall = run_once(backend, ["--range", f"127.40.0.0/16:{port}"], 4096, 20)
            per[backend].append(s["rates"]["syn_per_s"])
    u, e = median(per["uring"]), median(per["epoll"])
    print(f"  SYN/s: uring {u:9.0f}  epoll {e:9.0f}  ratio {u / e:.2f}x")
    results["black_hole"] = {"uring_syn_per_s": u, "epoll_syn_per_s": e, "ratio": u / e, "runs": per}
finally:
    filler.close()
    hole.close()

if args.json:
    with open(args.json, "w") as f:
        json.dump(results, f, indent=2)
