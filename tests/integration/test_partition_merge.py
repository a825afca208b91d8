"""`dial --partition K/N` and `swarmdial merge`, on loopback: a target set of
live, refusing and black-holed ports dialled once whole and then in N = 1, 3
and 8 partitions (each its own process, shard counts differing), and as an
Indexed Job would run it (`--partition auto` with JOB_COMPLETION_INDEX).

- the merged rows are the single run's target set exactly, once each;
- the merged totals equal the single run's;
- the merged percentiles are those of the histogram of every merged row;
- merge refuses mixed seeds, a missing partition and a truncated file (one
  line, exit 2), and `--partition` refuses what cannot be split."""
import bisect
import csv
import json
import math
import os
import subprocess
import tempfile

from sdtest import SWARMDIAL, BlackHole, Check, Listener, closed_port, read_json

check = Check("partition merge")
tmp = tempfile.mkdtemp(prefix="sd_part_")
live = Listener("0.0.0.0")
hole = BlackHole("0.0.0.0")
refused = closed_port("0.0.0.0")
RANGE = f"127.77.0.0/25:{live.port},{refused},{hole.port}"
SEED = 11


def dial(extra, name, env=None, shards=2, seed=SEED):
    rows, summary = os.path.join(tmp, f"{name}.csv"), os.path.join(tmp, f"{name}.json")
    cmd = [SWARMDIAL, "dial", "--range", RANGE, "--seed", seed, "--timeout", 300, "--rate", 0,
           "--half-open", 64, "--shards", shards, "--output", rows, "--summary", summary, *extra]
    return subprocess.Popen([str(c) for c in cmd], env=env, stderr=subprocess.PIPE, text=True), rows, summary


def finish(p, what):
    err = p.communicate(timeout=120)[1]
    check.that(p.returncode == 0, f"{what}: exit {p.returncode}: {err[-300:]}")


def rows_of(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def merge(summaries, rows, name):
    out, rows_out = os.path.join(tmp, f"{name}.json"), os.path.join(tmp, f"{name}.csv")
    r = subprocess.run([SWARMDIAL, "merge", *summaries, "-o", out, "--rows", *rows, "--rows-output", rows_out],
                       capture_output=True, text=True, timeout=60)
    check.that(r.returncode == 0, f"merge {name}: exit {r.returncode}: {r.stderr}")
    return read_json(out), rows_of(rows_out)


# The histogram's buckets, as engine/latency_histogram.cpp draws them.
def bucket_of(us):
    if us < 32:
        return us
    msb = us.bit_length() - 1
    shift = msb - 5
    return min((shift + 1) * 32 + ((us >> shift) - 32), 32 * 32 - 1)


def bucket_upper(b):
    if b < 32:
        return b
    shift = b // 32 - 1
    return ((b % 32 + 32 + 1) << shift) - 1


def percentile(values, q):
    buckets = sorted(bucket_of(v) for v in values)
    rank = max(1, min(len(buckets), math.ceil(q * len(buckets))))
    return min(bucket_upper(buckets[rank - 1]), max(values))


p, single_rows, single_summary = dial([], "single")
finish(p, "single run")
single = read_json(single_summary)
want = sorted((r["target"], r["port"]) for r in rows_of(single_rows))
check.that(len(want) == 128 * 3 == len(set(want)), f"single run dialled {len(want)} targets")

for n in (1, 3, 8):
    parts = [dial(["--partition", f"{k}/{n}"], f"p{n}_{k}", shards=1 + k % 2) for k in range(n)]
    for k, (proc, _, _) in enumerate(parts):
        finish(proc, f"partition {k}/{n}")
    merged, rows = merge([s for _, _, s in parts], [r for _, r, _ in parts], f"merged{n}")
    got = sorted((r["target"], r["port"]) for r in rows)
    check.that(got == want, f"N={n}: merged rows are the single run's targets once each "
                            f"({len(got)} rows, {len(set(got))} distinct, want {len(want)})")
    check.that(sorted({r["partition"] for r in rows}) == [str(k) for k in range(n)],
               f"N={n}: every row carries its partition")
    check.that(merged["targets"] == single["targets"] and merged["outcomes"] == single["outcomes"],
               f"N={n}: totals {merged['outcomes']} vs single {single['outcomes']}")
    rtts = [int(r["rtt_us"]) for r in rows if r["outcome"] == "established"]
    lat = merged["connect_rtt_us"]
    check.that(lat["count"] == len(rtts) == merged["outcomes"]["established"],
               f"N={n}: histogram count {lat['count']}, established rows {len(rtts)}")
    for q, key in ((0.5, "p50"), (0.9, "p90"), (0.99, "p99")):
        check.that(lat[key] == percentile(rtts, q),
                   f"N={n}: merged {key} {lat[key]} vs the rows' histogram {percentile(rtts, q)}")
    check.that(lat["max"] == max(rtts), f"N={n}: max {lat['max']} vs {max(rtts)}")
    check.that(merged["run"]["partitions"] == n and len(merged["merged_from"]) == n, f"N={n}: {merged['run']}")

# As a Kubernetes Indexed Job runs it: four pods, JOB_COMPLETION_INDEX 0-3.
pods = []
for k in range(4):
    env = dict(os.environ, JOB_COMPLETION_INDEX=str(k), SWARMDIAL_PARTITIONS="4")
    pods.append(dial(["--partition", "auto"], f"pod{k}", env=env, shards=1 + k % 2))
for k, (proc, _, _) in enumerate(pods):
    finish(proc, f"pod {k}")
merged, rows = merge([s for _, _, s in pods], [r for _, r, _ in pods], "fleet")
check.that(sorted((r["target"], r["port"]) for r in rows) == want and
           merged["outcomes"] == single["outcomes"], f"fleet of 4: {merged['outcomes']}")

# Merge errors: one line naming the problem, exit 2.
p, _, other_seed = dial(["--partition", "1/3"], "seed12", seed=SEED + 1)
finish(p, "another seed")
truncated = os.path.join(tmp, "truncated.json")
with open(os.path.join(tmp, "p3_0.json")) as f, open(truncated, "w") as g:
    g.write(f.read()[:200])
for files, needle in (([os.path.join(tmp, "p3_0.json"), other_seed, os.path.join(tmp, "p3_2.json")], "seed"),
                      ([os.path.join(tmp, "p3_0.json"), os.path.join(tmp, "p3_2.json")], "missing partition 1 of 3"),
                      ([truncated, os.path.join(tmp, "p3_1.json"), os.path.join(tmp, "p3_2.json")], "truncated"),
                      ([os.path.join(tmp, "p3_0.json"), os.path.join(tmp, "p3_0.json")], "twice")):
    r = subprocess.run([SWARMDIAL, "merge", *files, "-o", os.path.join(tmp, "bad.json")],
                       capture_output=True, text=True, timeout=30)
    lines = r.stderr.strip().splitlines()
    check.that(r.returncode == 2 and len(lines) == 1 and needle in lines[0],
               f"merge {needle}: exit {r.returncode}: {r.stderr!r}")

# --partition that cannot be split: one line, exit 2.
for extra, env, needle in ((["--partition", "3/3"], None, "does not exist"),
                           (["--partition", "1/x"], None, "K/N"),
                           (["--partition", "auto"], {"PATH": os.environ["PATH"]}, "JOB_COMPLETION_INDEX")):
    r = subprocess.run([SWARMDIAL, "dial", "--range", RANGE, "--seed", str(SEED), *extra, "--output", "/dev/null"],
                       capture_output=True, text=True, env=env, timeout=30)
    check.that(r.returncode == 2 and needle in r.stderr and len(r.stderr.strip().splitlines()) == 1,
               f"{extra}: exit {r.returncode}: {r.stderr!r}")
r = subprocess.run([SWARMDIAL, "dial", "--range", RANGE, "--partition", "0/2", "--output", "/dev/null"],
                   capture_output=True, text=True, timeout=30)
check.that(r.returncode == 2 and "--seed" in r.stderr, f"N > 1 without --seed: {r.stderr!r}")

live.close()
hole.close()
check.done()
