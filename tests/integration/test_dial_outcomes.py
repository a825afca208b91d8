"""A mix of targets whose true outcome the test knows (live listeners,
refusing ports, black holes, an IPv6 listener) dialed with one backend.
Every target must get exactly one final row with the right outcome, and the
summary totals must match the rows. Run once per backend."""
import collections
import os
import sys
import tempfile

from sdtest import (BlackHole, Check, Listener, closed_port, read_json, read_rows, run_dial,
                    write_targets)

backend = sys.argv[2]
fmt = sys.argv[3] if len(sys.argv) > 3 else "csv"
check = Check(f"dial outcomes ({backend}, {fmt})")
tmp = tempfile.mkdtemp(prefix="sd_outcomes_")

listeners = [Listener(f"127.0.3.{i}") for i in range(1, 5)]
v6 = None
try:
    v6 = Listener("::1")
except OSError:
    pass
hole = BlackHole("0.0.0.0")
expected = {}
for l in listeners:
    expected[(l.addr, l.port)] = "established"
    for i in range(3):  # other addresses on the same port: nothing listens there
        expected[(f"127.0.13.{i + 1}", l.port)] = "refused"
for i in range(1, 31):
    expected[(f"127.0.14.{i}", hole.port)] = "timeout"
if v6:
    expected[("::1", v6.port)] = "established"
    expected[("::1", closed_port("::1"))] = "refused"

targets = os.path.join(tmp, "targets.txt")
entries = list(expected) + list(expected)[:5]  # duplicates must be dialed once
write_targets(targets, entries)
out = os.path.join(tmp, f"rows.{fmt}")
summary = os.path.join(tmp, "summary.json")
try:
    r = run_dial(["--targets", targets, "--backend", backend, "--shards", 2, "--half-open", 16,
                  "--timeout", 400, "--retries", 1, "--rate", 0, "--output", out, "--format", fmt,
                  "--summary", summary, "--quiet"])
    check.that(r.returncode == 0, f"exit code {r.returncode}, stderr: {r.stderr.strip()}")
    rows = read_rows(out)
    keys = collections.Counter((row["target"], int(row["port"])) for row in rows)
    check.that(len(rows) == len(expected), f"{len(rows)} rows for {len(expected)} targets")
    check.that(all(n == 1 for n in keys.values()), "every target has exactly one row")
    for row in rows:
        key = (row["target"], int(row["port"]))
        want = expected.get(key)
        check.that(row["outcome"] == want, f"{key}: outcome {row['outcome']}, expected {want}")
        attempts = int(row["attempts"])
        check.that(attempts == (2 if want == "timeout" else 1), f"{key}: attempts {attempts}")
        rtt = row["rtt_us"]
        if want == "timeout":
            check.that(rtt in ("", None), f"{key}: a timeout has no rtt ({rtt})")
        else:
            check.that(rtt not in ("", None) and int(rtt) >= 0, f"{key}: rtt {rtt}")
    s = read_json(summary)
    by_outcome = collections.Counter(row["outcome"] for row in rows)
    for name in ("established", "refused", "timeout", "unreachable", "error"):
        check.that(s["outcomes"][name] == by_outcome.get(name, 0),
                   f"summary {name}={s['outcomes'][name]} rows={by_outcome.get(name, 0)}")
    check.that(s["targets"] == len(rows), "summary target count")
    n_timeout = by_outcome.get("timeout", 0)
    check.that(s["syn_sent"] == len(rows) + n_timeout, f"syn_sent {s['syn_sent']} counts retries")
    check.that(s["retries"] == n_timeout, "one retry per timed-out target")
    check.that(s["backend"] == backend, "summary names the backend")
    for sh in s["shards"]:
        check.that(sh["half_open_high_water"] <= sh["half_open_budget"] == 16, f"shard {sh}")
    check.that(s["connect_rtt_us"]["count"] == by_outcome["established"], "rtt count")
    check.that(s["connect_rtt_us"]["p50"] <= s["connect_rtt_us"]["p99"] <= s["connect_rtt_us"]["max"],
               "percentiles ordered")
finally:
    for l in listeners:
        l.close()
    if v6:
        v6.close()
    hole.close()
check.done()
