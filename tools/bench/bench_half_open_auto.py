#!/usr/bin/env python3
"""--half-open auto against fixed budgets, side by side in one run, in the
router lab (tools/lab/router_lab.py): established connections per second
and the share of new flows the router dropped, for budgets 8, 32, 128, 512,
2048 and auto, medians of RUNS, alternating. Scenarios (each a fresh lab):

  table   a NAT table of 600 flows, unanswered SYNs kept 2 s, half the
          targets black holes (nftables drop in the targets namespace)
  accept  listeners that accept 300 connections/s with a backlog of 32

Usage: bench_half_open_auto.py BUILD_DIR [--runs N] [--seconds S]
       [--scenarios table,accept] [--json FILE]
Root only; namespaces sd_bha*; every run is bounded by --duration."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../lab"))
sys.path.insert(0, HERE)
from machine import describe  # noqa: E402
from router_lab import RouterLab  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("build_dir")
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--seconds", type=float, default=20)
ap.add_argument("--scenarios", default="table,accept")
ap.add_argument("--json")
args = ap.parse_args()
swarmdial = os.path.abspath(os.path.join(args.build_dir, "tools/swarmdial/swarmdial"))
budgets = ["8", "32", "128", "512", "2048", "auto"]
scenarios = {"table": dict(table=600, syn_sent_s=2),
             "accept": dict(accept_rate=300, backlog=32)}
print(describe())
print(f"backend uring, one shard, timeout 500 ms, {args.seconds:.0f} s per run, "
      f"medians of {args.runs}")
tmp = tempfile.mkdtemp(prefix="sd_bha_")
results = {}
for name in args.scenarios.split(","):
    per = {b: {"est_per_s": [], "drops": []} for b in budgets}
    with RouterLab(f"bha{name[:3]}", **scenarios[name]) as lab:
        for run in range(args.runs):
            for b in budgets:
                ho = ["--half-open", "auto", "--half-open-max", "2048"] if b == "auto" else ["--half-open", b]
                summary = os.path.join(tmp, f"{name}_{b}_{run}.json")
                n0, d0 = lab.counters()
                subprocess.run(lab.in_dialer([swarmdial, "dial", "--range", lab.targets_range(), *ho,
                                              "--timeout", 500, "--rate", 0, "--shards", 1,
                                              "--output", "/dev/null", "--summary", summary,
                                              "--quiet", "--duration", args.seconds,
                                              "--seed", run + 1]),
                               check=True, timeout=args.seconds * 3 + 30)
                n1, d1 = lab.counters()
                s = json.load(open(summary))
                per[b]["est_per_s"].append(s["outcomes"]["established"] / s["duration_s"])
                per[b]["drops"].append((d1 - d0) / max(1, n1 - n0))
                time.sleep(2.5)  # the router's entries from this run age out
    med = {b: {k: statistics.median(v) for k, v in per[b].items()} for b in budgets}
    best = max(med[b]["est_per_s"] for b in budgets if b != "auto")
    worst_drops = max(med[b]["drops"] for b in budgets if b != "auto")
    print(f"\nscenario {name}:")
    for b in budgets:
        print(f"  half-open {b:>5}: established {med[b]['est_per_s']:8.1f}/s "
              f"({med[b]['est_per_s'] / best:.2f}x best fixed)  router drops {med[b]['drops']:.2%}")
    print(f"  auto vs best fixed: {med['auto']['est_per_s'] / best:.2f}x; auto drops "
          f"{med['auto']['drops']:.2%} (worst fixed {worst_drops:.2%})")
    results[name] = med
if args.json:
    with open(args.json, "w") as f:
        json.dump(results, f, indent=2)
