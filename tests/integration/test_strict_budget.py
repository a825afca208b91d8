"""Strictness: dial only black-holed targets with --half-open 32 --shards 2
--timeout 300 while sampling the kernel's SYN_SENT sockets in /proc/net/tcp
every few ms. The kernel must never hold more than 64, and the attempt rate
must come out near budget / timeout (64 / 0.3 s = 213/s)."""
import os
import sys
import tempfile
import time

from sdtest import BlackHole, Check, SynSentSampler, read_json, read_rows, run_dial

backend = sys.argv[2]
check = Check(f"strict budget ({backend})")
tmp = tempfile.mkdtemp(prefix="sd_strict_")
hole = BlackHole("0.0.0.0")
sampler = SynSentSampler([hole.port])
out, summary = os.path.join(tmp, "rows.csv"), os.path.join(tmp, "summary.json")
try:
    t0 = time.monotonic()
    r = run_dial(["--range", f"127.0.4.0/23:{hole.port}", "--backend", backend, "--shards", 2,
                  "--half-open", 32, "--timeout", 300, "--rate", 0, "--output", out,
                  "--summary", summary, "--quiet"])
    elapsed = time.monotonic() - t0
    peak = sampler.stop()
    check.that(r.returncode == 0, f"exit {r.returncode}: {r.stderr.strip()}")
    rows = read_rows(out)
    check.that(len(rows) == 512, f"{len(rows)} rows")
    check.that(all(row["outcome"] == "timeout" for row in rows), "all black holes time out")
    print(f"peak SYN_SENT {peak} over {sampler.samples} samples; {elapsed:.2f} s")
    check.that(sampler.samples > 100, "the sampler actually sampled")
    check.that(peak <= 64, f"kernel held {peak} SYN_SENT sockets, budget is 64")
    check.that(peak >= 48, f"budget barely used (peak {peak}): the test would prove nothing")
    s = read_json(summary)
    rate = s["rates"]["syn_per_s"]
    print(f"attempt rate {rate:.1f}/s, budget/timeout = 213.3/s")
    check.that(150 <= rate <= 230, f"attempt rate {rate:.1f}/s is not near budget/timeout")
    for sh in s["shards"]:
        check.that(sh["half_open_high_water"] == 32, f"shard high water {sh}")
finally:
    sampler.stop() if not sampler._stop else None
    hole.close()
check.done()
