"""tracker-load --reannounce interval: peers join at --rate, then each
announces again the tracker's own interval after its answer, as clients do.

- npm bittorrent-tracker with a 4 s interval, --interval-scale 0.5: 200
  peers join over the first 2 s and then announce every 2 s, so the offered
  load stays at 100/s (the swarm over its interval), every peer announces
  the number of times its join time leaves room for, the tracker holds each
  peer once, and the summary carries the interval the tracker asked for.
- The test's faulty tracker (interval 1800 s, scale 0.001: 1.8 s; of every
  ten announces one dropped and one answered under a wrong transaction id):
  every announce that timed out is retried (retries = timeouts) and the run
  goes on; the tracker receives exactly what was sent.
- Bad input: an unknown mode, a scale out of range or without interval
  mode, scrapes with interval mode: one line each, exit 2."""
import json
import os
import subprocess
import sys
import tempfile

from seedtest import SWARMDIAL, Check, read_json
from trackertest import NodeTracker

HERE = os.path.dirname(os.path.abspath(__file__))
check = Check("tracker-load re-announces")
tmp = tempfile.mkdtemp(prefix="sd_treann_")


def load(*args):
    summary = os.path.join(tmp, "s.json")
    p = subprocess.run([SWARMDIAL, "tracker-load", *map(str, args), "--summary", summary, "--quiet"],
                       capture_output=True, text=True, timeout=60)
    check.that(p.returncode == 0, f"tracker-load {args}: exit {p.returncode} {p.stderr[-300:]}")
    return read_json(summary)


tracker = NodeTracker(interval_ms=4000)
try:
    # The joins take one interval, so the re-announces that follow are as
    # even as they were (a swarm that joined in a burst re-announces in one).
    T, P, rate, dur, every = 4, 50, 100, 9.0, 2.0
    s = load("--tracker", tracker.udp, "--reannounce", "interval", "--interval-scale", 0.5,
             "--rate", rate, "--duration", dur, "--torrents", T, "--peers", P,
             "--popularity", "uniform", "--timeout", 2000)
    n = T * P
    # Peer i joins at i / rate and announces every 2 s (plus a reply's
    # fraction of a millisecond) while the run lasts.
    expected = sum(int((dur - i / rate) / every) + 1 for i in range(n))
    r = s["reannounce"]
    print(f"sent {s['sent']} (model {expected}), ok {s['ok']}, reannounce {r}, "
          f"interval {s['interval_s']}, offered {s['offered_rate']:.1f}/s")
    check.that(r["mode"] == "interval" and r["joined"] == n, f"every peer joined once: {r}")
    check.that(expected - n * 0.05 <= s["sent"] <= expected, f"announces {s['sent']}, model {expected}")
    check.that(s["ok"] == s["sent"] and r["retries"] == 0, f"all answered: {s['errors']}")
    check.that(s["interval_s"]["min"] == s["interval_s"]["max"] == 4, f"interval {s['interval_s']}")
    steady = [row["offered_per_s"] for row in s["timeline"] if 2.5 <= row["t_s"] <= 8.5]
    print(f"offered per second after the joins: {[round(x) for x in steady]}")
    check.that(steady and all(abs(x - n / every) <= 0.2 * n / every for x in steady),
               f"the swarm over its interval offers {n / every:.0f}/s: {steady}")
    stats = tracker.stats()
    check.that(stats["peersAll"] == P, f"the tracker holds each peer once: {stats['peersAll']} of {P}")
finally:
    tracker.close()

bug = subprocess.Popen([sys.executable, os.path.join(HERE, "buggy_udp_tracker.py")],
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
try:
    port = int(bug.stdout.readline().split()[1])
    s = load("--tracker", f"udp://127.0.0.1:{port}", "--reannounce", "interval",
             "--interval-scale", 0.001, "--rate", 400, "--duration", 6, "--torrents", 2, "--peers", 100,
             "--popularity", "uniform", "--timeout", 500, "--connections", 2)
finally:
    bug.stdin.close()
    counts = json.loads(bug.stdout.readline())
    bug.wait(timeout=10)
r = s["reannounce"]
print(f"faulty tracker: {counts}; sent {s['sent']}, errors {s['errors']}, reannounce {r}")
check.that(r["joined"] == 200, f"every peer joined: {r}")
check.that(r["retries"] == s["errors"]["timeout"] > 0,
           f"each timed-out announce retried: {r['retries']} retries, {s['errors']['timeout']} timeouts")
check.that(counts["announce"] == s["sent"], f"tracker saw {counts['announce']}, sent {s['sent']}")
check.that(s["sent"] >= 200 * 3, f"peers kept announcing every 1.8 s: {s['sent']}")

for args, want in [
    (["--reannounce", "often"], "--reannounce"),
    (["--reannounce", "interval", "--interval-scale", "0"], "--interval-scale"),
    (["--interval-scale", "0.5"], "--interval-scale"),
    (["--reannounce", "interval", "--request-mix", "announce=10,scrape=1"], "--reannounce"),
]:
    p = subprocess.run([SWARMDIAL, "tracker-load", "--tracker", "udp://127.0.0.1:1", "--rate", "10",
                        "--duration", "1", *args], capture_output=True, text=True, timeout=10)
    lines = p.stderr.strip().splitlines()
    check.that(p.returncode == 2 and len(lines) == 1 and want in lines[0],
               f"{args}: exit {p.returncode}, {p.stderr.strip()!r}")
check.done()
