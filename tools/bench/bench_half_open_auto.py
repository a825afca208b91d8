#!/usr/bin/env python3
"""--half-open auto against fixed budgets, side by side in one run, in the
router lab (tools/lab/router_lab.py): established connections per second
and the share of new flows the router dropped, for budgets 8, 32, 128, 512,
2048 and auto, medians of RUNS, alternating. Each run is measured twice:
over the whole run, and in steady state (after --settle seconds, once auto
has had time to converge). For auto it also prints the time to converge:
the first second at which the budget is within 25% of its median over the
run's second half. Scenarios (each a fresh lab):

  table   a NAT table of 600 flows, unanswered SYNs kept 2 s, half the
          targets black holes (nftables drop in the targets namespace)
  accept  listeners that accept 300 connections/s with a backlog of 32,
          live targets only (four ports)
  uplink  tc tbf at 2 Mbit/s on the router's uplink with a bulk transfer
          through it (a leecher downloading from us), half black holes; the
          bulk transfer's own throughput is printed beside each budget (the
          upload a seeder keeps while it dials)

Usage: bench_half_open_auto.py BUILD_DIR [--runs N] [--seconds S] [--settle S]
       [--scenarios table,accept,uplink] [--budgets 8,32,...,auto] [--json FILE]
Root only; namespaces sd_bha*; every run is bounded by --duration."""
import argparse
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../lab"))
sys.path.insert(0, HERE)
from machine import describe  # noqa: E402
from router_lab import LIVE_PORTS, WIDE_NET, RouterLab  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("build_dir")
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--seconds", type=float, default=40)
ap.add_argument("--settle", type=float, default=15)
ap.add_argument("--scenarios", default="table,accept,uplink")
ap.add_argument("--budgets", default="8,32,128,512,2048,auto",
                help="the budgets compared, 'auto' among them (fewer: a quicker look)")
ap.add_argument("--json")
args = ap.parse_args()
swarmdial = os.path.abspath(os.path.join(args.build_dir, "tools/swarmdial/swarmdial"))
budgets = args.budgets.split(",")
if "auto" not in budgets or len(budgets) < 2:
    sys.exit("bench_half_open_auto: --budgets needs auto and at least one fixed budget")
scenarios = {"table": dict(table=600, syn_sent_s=2),
             "accept": dict(accept_rate=300, backlog=32),
             "uplink": dict(uplink_kbit=2000, bulk=True)}
live_only = {"accept"}
STATUS = re.compile(r"^(\d+):(\d+) .* half-open (\d+)/(\d+)")
print(describe())
print(f"backend uring, one shard, timeout 500 ms, {args.seconds:.0f} s per run (steady state "
      f"after {args.settle:.0f} s), medians of {args.runs}")
tmp = tempfile.mkdtemp(prefix="sd_bha_")


def established_between(rows_path, t0, t1):
    n = 0
    with open(rows_path) as f:
        for row in csv.DictReader(f):
            if row["outcome"] == "established" and t0 * 1e6 <= int(row["t_us"]) < t1 * 1e6:
                n += 1
    return n / (t1 - t0)


def drops_between(samples, t0, t1):
    a = max((s for s in samples if s[0] <= t0), key=lambda s: s[0])
    b = max((s for s in samples if s[0] <= t1), key=lambda s: s[0])
    return (b[2] - a[2]) / max(1, b[1] - a[1])


def converge_s(budget_by_s):
    """The first second at which the budget is within 25% of its median
    over the run's second half (where it cruises and probes)."""
    late = [b for t, b in budget_by_s if t >= args.seconds / 2]
    if not late:
        return float("nan")
    target = statistics.median(late)
    return next((t for t, b in budget_by_s if abs(b - target) <= 0.25 * target), float("nan"))


def one_run(lab, name, b, run):
    ho = ["--half-open", "auto", "--half-open-max", "2048"] if b == "auto" else ["--half-open", b]
    rows = os.path.join(tmp, f"{name}_{b}_{run}.csv")
    summary = os.path.join(tmp, f"{name}_{b}_{run}.json")
    # 198.19.0.0/16: no run at any budget runs out of targets. Accept: four
    # ports, so the listeners' backlogs are small next to the accept rate.
    target = (lab.targets_range(WIDE_NET, (LIVE_PORTS[0], LIVE_PORTS[0] + 3), holes=False)
              if name in live_only else lab.targets_range(WIDE_NET))
    n, d = lab.counters()
    samples = [(0.0, n, d)]
    bulk0 = lab.bulk_received()
    start = time.monotonic()
    p = subprocess.Popen(lab.in_dialer([swarmdial, "dial", "--range", target, *ho, "--timeout", 500,
                                        "--rate", 0, "--shards", 1, "--output", rows, "--summary",
                                        summary, "--status", "--duration", args.seconds,
                                        "--seed", run + 1]),
                         stderr=subprocess.PIPE, text=True)
    while p.poll() is None and time.monotonic() - start < args.seconds * 3 + 30:
        n, d = lab.counters()
        samples.append((time.monotonic() - start, n, d))
        time.sleep(0.5)
    err = p.communicate(timeout=60)[1]
    if os.environ.get("BHA_TRACE"):  # every status line, for a look at how auto moved
        with open(os.path.join(os.environ["BHA_TRACE"], f"{name}_{b}_{run}.status"), "w") as f:
            f.write(err)
    bulk_kbit = (lab.bulk_received() - bulk0) * 8 / 1000 / max(1e-9, time.monotonic() - start)
    n, d = lab.counters()
    samples.append((time.monotonic() - start, n, d))
    if os.environ.get("BHA_TRACE"):  # the router's counters every half second: where drops fell
        with open(os.path.join(os.environ["BHA_TRACE"], f"{name}_{b}_{run}.router"), "w") as f:
            f.writelines(f"{t:.1f} new {n} dropped {d}\n" for t, n, d in samples)
    budget_by_s = []
    for line in err.splitlines():
        m = STATUS.match(line)
        if m:
            budget_by_s.append((int(m.group(1)) * 60 + int(m.group(2)), int(m.group(4))))
    end = args.seconds
    out = {"est_per_s": established_between(rows, 0, end),
           "drops": drops_between(samples, 0, end),
           "steady_est_per_s": established_between(rows, args.settle, end),
           "steady_drops": drops_between(samples, args.settle, end),
           "converge_s": converge_s(budget_by_s) if b == "auto" else float("nan"),
           "bulk_kbit_s": bulk_kbit}
    os.unlink(rows)
    return out


results = {}
keys = ["est_per_s", "drops", "steady_est_per_s", "steady_drops", "converge_s", "bulk_kbit_s"]
for name in args.scenarios.split(","):
    per = {b: {k: [] for k in keys} for b in budgets}
    with RouterLab(f"bha{name[:3]}", **scenarios[name]) as lab:
        for run in range(args.runs):
            for b in budgets:
                for k, v in one_run(lab, name, b, run).items():
                    per[b][k].append(v)
                time.sleep(2.5)  # the router's entries from this run age out
    med = {b: {k: statistics.median(v) for k, v in per[b].items()} for b in budgets}
    print(f"\nscenario {name}:")
    for phase, est_k, drop_k in (("whole run", "est_per_s", "drops"),
                                 (f"steady state (after {args.settle:.0f} s)", "steady_est_per_s",
                                  "steady_drops")):
        best = max(med[b][est_k] for b in budgets if b != "auto")
        worst = max(med[b][drop_k] for b in budgets if b != "auto")
        print(f"  {phase}:")
        for b in budgets:
            bulk = (f"  bulk upload {med[b]['bulk_kbit_s']:6.0f} kbit/s (whole run)"
                    if scenarios[name].get("bulk") else "")
            print(f"    half-open {b:>5}: established {med[b][est_k]:8.1f}/s "
                  f"({med[b][est_k] / best:.2f}x best fixed)  router drops {med[b][drop_k]:.2%}{bulk}")
        print(f"    auto vs best fixed: {med['auto'][est_k] / best:.2f}x; auto drops "
              f"{med['auto'][drop_k]:.2%} (worst fixed {worst:.2%})")
    print(f"  auto converged after {med['auto']['converge_s']:.0f} s (median)")
    results[name] = med
if args.json:
    with open(args.json, "w") as f:
        json.dump(results, f, indent=2)
