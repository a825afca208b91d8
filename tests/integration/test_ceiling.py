"""`swarmdial ceiling` against planted ceilings in the router lab
(tools/lab/router_lab.py: sd_* namespaces, 198.18.0.0/15), and on loopback:

- accept rate: listeners that accept 400 connections a second with an 8-deep
  backlog; past that the kernel drops SYNs. The ceiling found must be within
  10% of 400.
- router table: a NAT table of 600 flows that keeps an unanswered SYN 2 s,
  towards targets half of which are black holes: the table holds 600 / (2 s
  x 0.5) = 600 new flows a second (closed and reset flows do not count
  against `ct count`). Within 10% of 600, and the router dropped flows in the
  failing steps only.
- a threshold the first step already breaks is reported as such;
- a tracker (opentracker in the targets namespace) behind a router that
  forwards 2000 datagrams a second to it: `ceiling --tracker` within 10%;
- SIGTERM mid-search writes the table and a summary of the steps so far;
- bad input is one line and exit 2.
Without root, only the loopback cases run."""
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from sdtest import SWARMDIAL, Check, is_root, read_json

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tools/lab"))
from router_lab import RouterLab  # noqa: E402

check = Check("ceiling")
tag = f"ce{os.getpid() % 10000}"
tmp = f"/tmp/sd_{tag}"


def ceiling(args, wrap=lambda c: c, timeout=240):
    cmd = wrap([SWARMDIAL, "ceiling", *[str(a) for a in args]])
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def steps_text(s):
    return "; ".join(f"{st['offered_rate']:.0f}:{st['verdict']}" for st in s["steps"])


# Bad input: one line naming the flag, exit 2.
for args, flag in (([], "--range"),
                   (["--range", "127.0.0.1/32:1", "--max-answer-drop", "1.5"], "--max-answer-drop"),
                   (["--range", "127.0.0.1/32:1", "--start-rate", "500", "--max-rate", "100"], "--max-rate"),
                   (["--range", "127.0.0.1/32:1", "--tracker", "udp://127.0.0.1:1"], "--tracker"),
                   (["--range", "127.0.0.1/32:1", "--precision", "0"], "--precision")):
    r = ceiling(args)
    lines = r.stderr.strip().splitlines()
    check.that(r.returncode == 2 and len(lines) == 1 and flag in lines[0],
               f"{args}: exit {r.returncode}, stderr {r.stderr!r}")

# A latency limit no step can meet: the first step fails and says so.
r = ceiling(["--range", "127.0.0.1/32:1-50", "--timeout", 200, "--start-rate", 200, "--warmup", 0.2,
             "--step-duration", 0.5, "--max-p99", 0.001, "--summary", f"{tmp}_below.json", "--shards", 1])
check.that(r.returncode == 0, f"below start: exit {r.returncode}: {r.stderr[-300:]}")
s = read_json(f"{tmp}_below.json")
check.that(s["ceiling"]["state"] == "below_start_rate" and len(s["steps"]) == 1
           and s["steps"][0]["verdict"] == "latency", f"below start: {s['ceiling']} {steps_text(s)}")
check.that("already failed" in r.stdout, f"the table says the first step failed: {r.stdout}")

# SIGTERM mid-search: what was measured is written, marked interrupted.
p = subprocess.Popen([SWARMDIAL, "ceiling", "--range", "127.0.0.1/32:1-50", "--timeout", "200",
                      "--start-rate", "100", "--warmup", "0.2", "--step-duration", "0.5", "--status",
                      "--summary", f"{tmp}_term.json", "--shards", "1"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
passed = 0
for line in p.stderr:
    if ": pass (" in line:
        passed += 1
        if passed == 2:
            break
time.sleep(0.3)
p.send_signal(signal.SIGTERM)
out, err = p.communicate(timeout=30)
check.that(p.returncode == 0, f"SIGTERM: exit {p.returncode}: {err[-300:]}")
s = read_json(f"{tmp}_term.json")
check.that(s["interrupted"] and s["ceiling"]["state"] == "interrupted" and len(s["steps"]) >= 2,
           f"SIGTERM: {s['interrupted']} {s['ceiling']} {steps_text(s)}")
check.that("interrupted: the ceiling is at least" in out, f"SIGTERM table: {out}")

if not is_root():
    print("not root: the router lab cases are skipped")
    check.done()

with RouterLab(tag, accept_rate=400, backlog=8) as lab:
    r = ceiling(["--range", "198.18.3.0/28:10000-10003", "--timeout", 1000, "--start-rate", 100,
                 "--max-rate", 3200, "--warmup", 1, "--step-duration", 3, "--precision", 0.05,
                 "--shards", 1, "--summary", f"{tmp}_accept.json", "--plot", f"{tmp}_accept.svg"],
                wrap=lab.in_dialer)
    check.that(r.returncode == 0, f"accept: exit {r.returncode}: {r.stderr[-300:]}")
    s = read_json(f"{tmp}_accept.json")
    found = s["ceiling"]["rate"]
    print(f"accept rate 400/s: {s['ceiling']['text']} [{steps_text(s)}]")
    check.that(s["ceiling"]["state"] == "found" and 360 <= found <= 440,
               f"accept-rate ceiling {found} not within 10% of 400: {steps_text(s)}")
    check.that(s["configure"]["rate"] < found and s["configure"]["half_open_per_shard"] >= 1,
               f"budget advice: {s.get('configure')}")
    with open(f"{tmp}_accept.svg") as f:
        svg = f.read()
    check.that(svg.lstrip().startswith("<?xml") and "ceiling" in svg, "the plot is an SVG with the ceiling")

with RouterLab(tag, table=600, syn_sent_s=2) as lab:
    counts = []
    # 200 targets, half black holes, dialled round and round: each step
    # goes round them many times, so the answered share does not wander by
    # sampling a different mix (a step is one permutation lap after another).
    r = ceiling(["--range", "198.18.3.0/30:10000-10024,20000-20024", "--timeout", 500, "--start-rate", 200,
                 "--max-rate", 6400, "--warmup", 2.5, "--step-duration", 5, "--precision", 0.05,
                 "--shards", 1, "--summary", f"{tmp}_table.json"], wrap=lab.in_dialer)
    check.that(r.returncode == 0, f"table: exit {r.returncode}: {r.stderr[-300:]}")
    s = read_json(f"{tmp}_table.json")
    found = s["ceiling"]["rate"]
    print(f"table 600 / (2 s x 0.5): {s['ceiling']['text']} [{steps_text(s)}]")
    check.that(abs(s["baseline_answered_fraction"] - 0.5) < 0.05,
               f"half the targets are black holes: baseline {s['baseline_answered_fraction']}")
    check.that(s["ceiling"]["state"] == "found" and 540 <= found <= 660,
               f"table ceiling {found} not within 10% of 600: {steps_text(s)}")
    new, dropped = lab.counters()
    check.that(dropped > 0, f"the router dropped new flows in the failing steps: {dropped} of {new}")

# A tracker's ceiling: opentracker in the targets namespace, behind a router
# that forwards at most 2000 datagrams a second to it.
hashes = [hashlib.sha1(f"swarmdial-load-torrent-{i}".encode()).hexdigest() for i in range(20)]
ot_dir = tempfile.mkdtemp(prefix="sd_ot_")
try:
    os.chmod(ot_dir, 0o755)
    with open(os.path.join(ot_dir, "whitelist"), "w") as f:
        f.writelines(h + "\n" for h in hashes)
    os.chmod(os.path.join(ot_dir, "whitelist"), 0o644)
    with RouterLab(tag) as lab:
        lab.limit_udp(6969, 2000)
        ot = lab.start_in(lab.targets, ["opentracker", "-i", "198.18.3.1", "-p", 6969, "-P", 6969,
                                        "-d", ot_dir, "-u", "nobody", "-w", "/whitelist"], ready=None)
        time.sleep(1)
        check.that(ot.poll() is None, "opentracker runs in the targets namespace")
        r = ceiling(["--tracker", "udp://198.18.3.1:6969", "--torrents", 20, "--peers", 50,
                     "--timeout", 1000, "--start-rate", 250, "--max-rate", 16000, "--warmup", 1,
                     "--step-duration", 3, "--precision", 0.05, "--summary", f"{tmp}_tracker.json"],
                    wrap=lab.in_dialer)
        check.that(r.returncode == 0, f"tracker: exit {r.returncode}: {r.stderr[-300:]}")
        s = read_json(f"{tmp}_tracker.json")
        found = s["ceiling"]["rate"]
        print(f"tracker behind 2000 datagrams/s: {s['ceiling']['text']} [{steps_text(s)}]")
        check.that(s["mode"] == "tracker" and s["ceiling"]["unit"] == "announces/s", f"{s['mode']}")
        check.that(s["ceiling"]["state"] == "found" and 1800 <= found <= 2200,
                   f"tracker ceiling {found} not within 10% of 2000: {steps_text(s)}")
        check.that(s["steps"][0]["answered_fraction"] > 0.99, f"opentracker answers: {s['steps'][0]}")
finally:
    shutil.rmtree(ot_dir, ignore_errors=True)

for suffix in ("_below.json", "_term.json", "_accept.json", "_accept.svg", "_table.json", "_tracker.json"):
    try:
        os.unlink(tmp + suffix)
    except FileNotFoundError:
        pass
check.done()
