#!/usr/bin/env python3
"""tracker-load benchmark: how fast one generator core can announce to
opentracker, and what each side pays per announce.

opentracker is pinned to core 1, the generator to core 0. For UDP and then
HTTP the target rate steps up; each step runs RUNS times and the median
achieved rate is kept. The tracker's ceiling is the highest step whose median
achieved rate is within 5% of the target with under 1% errors. At every step
it prints the generator's CPU per announce (its own thread's user+sys) and
opentracker's (from /proc/PID/stat over the same run), and their ratio: the
generator is not the bottleneck when it spends less CPU than the tracker.

--model aquatic runs aquatic's bencher workload instead of the default
(1000 torrents x 50 peers, tracker-load's default model): 1,000,000 torrents and
2,000,000 peers (2 per torrent on average, concentrated on few torrents:
aquatic draws them with an exponential weight, here Zipf 1), 75% seeds,
numwant 30, request mix announce 100 / scrape 1 / connect 0, 1 to 10
info-hashes per scrape (UDP only; opentracker whitelists every hash). Its
ceiling is printed next to aquatic's published opentracker figure, 190,540
responses/s on one core of an EPYC Milan, with the ratio.

--udp-gso both runs every UDP step with and without UDP GSO (a run of
equal-sized requests sent as one UDP_SEGMENT message), alternating, so the
gain is measured side by side.

Usage: bench_tracker_load.py BUILD_DIR [--runs N] [--duration S] [--model default|aquatic]
       [--udp-gso on|off|both] [--json FILE]
Loopback only; every run is bounded by its duration."""
import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "interop"))
from trackertest import OpenTracker  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine import describe  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("build_dir")
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--duration", type=float, default=3)
ap.add_argument("--udp-rates", default="20000,40000,80000,120000,160000,200000")
ap.add_argument("--http-rates", default="2000,5000,10000,15000,20000,30000")
ap.add_argument("--model", choices=["default", "aquatic"], default="default")
ap.add_argument("--udp-gso", choices=["on", "off", "both"], default="on")
ap.add_argument("--json")
a = ap.parse_args()
swarmdial = os.path.join(a.build_dir, "tools", "swarmdial", "swarmdial")
AQUATIC_OPENTRACKER = 190540  # responses/s, one core of an EPYC Milan (aquatic's bencher)
if a.model == "aquatic":
    T, P = 1_000_000, 2
    MODEL = ["--popularity", "zipf:1", "--seeders", "0.75", "--numwant", "30",
             "--request-mix", "announce=100,scrape=1,connect=0", "--scrape-torrents", "10"]
    if a.http_rates == ap.get_default("http_rates"):
        a.http_rates = ""  # aquatic's bencher publishes UDP figures
else:
    T, P = 1000, 50
    MODEL = []  # tracker-load's own defaults
hashes = [hashlib.sha1(f"swarmdial-load-torrent-{i}".encode()).hexdigest() for i in range(T)]
tick = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick


def one_run(ot, url, rate, gso="on"):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        before = proc_cpu(ot.proc.pid)
        subprocess.run(["taskset", "-c", "0", swarmdial, "tracker-load", "--tracker", url, "--rate", str(rate),
                        "--duration", str(a.duration), "--torrents", str(T), "--peers", str(P), *MODEL,
                        "--connections", "64", "--timeout", "2000", "--summary", out.name, "--quiet",
                        *(["--udp-gso", gso] if url.startswith("udp") else [])],
                       check=True, timeout=a.duration + 60)
        tracker_cpu = proc_cpu(ot.proc.pid) - before
        s = json.load(open(out.name))
    sent = max(1, s["sent"])
    return {"achieved": s["achieved_rate"], "errors": s["error_total"] / sent,
            "gen_us": s["cpu"]["us_per_announce"], "tracker_us": tracker_cpu * 1e6 / sent,
            "p50": s["latency_us"]["p50"], "p99": s["latency_us"]["p99"], "lag_p99": s["send_lag_us"]["p99"],
            "gso_per_announce": s["udp"]["gso_sends"] / sent}


print(describe())
print("features: sendmmsg/recvmmsg, SO_TIMESTAMPNS receive times, "
      f"UDP GSO {a.udp_gso} (UDP_SEGMENT; 'gso/ann' is GSO sends per announce)")
results = {}
ot = OpenTracker(hashes, cpu=1)
try:
    plans = []
    if a.udp_rates:
        for gso in (["on", "off"] if a.udp_gso == "both" else [a.udp_gso]):
            plans.append(("udp", ot.udp, gso, a.udp_rates))
    if a.http_rates:
        plans.append(("http", ot.http, "on", a.http_rates))
    for proto in dict.fromkeys(p[0] for p in plans):
        variants = [p for p in plans if p[0] == proto]
        rates = list(map(int, variants[0][3].split(",")))
        print(f"\n{proto}: gso  target/s  achieved/s (median of {a.runs})  errors  gen us/ann  tracker us/ann  "
              f"gen/tracker  p50 us  p99 us  send-lag p99 us  gso/ann")
        rows = {v[2]: [] for v in variants}
        ceilings = {v[2]: None for v in variants}
        live = [v[2] for v in variants]
        for rate in rates:
            if not live:
                break
            runs = {g: [] for g in live}
            for _ in range(a.runs):  # alternating, so the variants share the machine's noise
                for g in live:
                    runs[g].append(one_run(ot, variants[0][1], rate, g))
            for g in list(live):
                med = {k: statistics.median(r[k] for r in runs[g]) for k in runs[g][0]}
                ok = med["achieved"] >= rate * 0.95 and med["errors"] < 0.01
                ratio = med["gen_us"] / med["tracker_us"] if med["tracker_us"] else float("nan")
                print(f"{proto}: {g:>3}  {rate:9d}  {med['achieved']:10.0f}  {med['errors']:7.2%}  "
                      f"{med['gen_us']:9.2f}  {med['tracker_us']:13.2f}  {ratio:10.2f}x  {med['p50']:6.0f}  "
                      f"{med['p99']:6.0f}  {med['lag_p99']:8.0f}  {med['gso_per_announce']:.3f}  "
                      f"{'ok' if ok else 'saturated'}")
                rows[g].append({"rate": rate, **med, "gen_over_tracker_cpu": ratio, "sustained": ok})
                if ok:
                    ceilings[g] = rows[g][-1]
                else:
                    live.remove(g)
            if len(variants) == 2 and len(runs) == 2:
                on = statistics.median(r["gen_us"] for r in runs["on"])
                off = statistics.median(r["gen_us"] for r in runs["off"])
                print(f"{proto}: at {rate}/s generator us per announce with GSO / without = {on / off:.2f}x")
        for g in rows:
            key = proto if len(variants) == 1 else f"{proto}_gso_{g}"
            results[key] = {"steps": rows[g], "ceiling": ceilings[g]}
            c = ceilings[g]
            if c:
                print(f"{key}: ceiling {c['rate']}/s sustained; generator {c['gen_us']:.2f} us vs "
                      f"opentracker {c['tracker_us']:.2f} us per announce = {c['gen_over_tracker_cpu']:.2f}x")
                if a.model == "aquatic" and proto == "udp":
                    print(f"{key}: opentracker here {c['achieved']:.0f} responses/s on one core; aquatic's "
                          f"published opentracker figure {AQUATIC_OPENTRACKER}/s (EPYC Milan) = "
                          f"{c['achieved'] / AQUATIC_OPENTRACKER:.2f}x")
finally:
    ot.close()
if a.json:
    with open(a.json, "w") as f:
        json.dump(results, f, indent=1)
