"""--metrics serves Prometheus text at /metrics while a run is going, with
the metric names of DESIGN and values that match the run."""
import os
import re
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from sdtest import SWARMDIAL, Check, Listener, closed_port, free_tcp_port, read_json, write_targets

check = Check("metrics endpoint")
tmp = tempfile.mkdtemp(prefix="sd_metrics_")
live = [Listener(f"127.0.6.{i}") for i in range(1, 4)]
refused = [(f"127.0.7.{i}", closed_port()) for i in range(1, 6)]
targets = os.path.join(tmp, "t.txt")
write_targets(targets, [(l.addr, l.port) for l in live] + refused)
port = free_tcp_port()
summary = os.path.join(tmp, "s.json")
p = subprocess.Popen([SWARMDIAL, "dial", "--targets", targets, "--hold", "--duration", "30",
                      "--metrics", f"127.0.0.1:{port}", "--summary", summary, "--quiet",
                      "--shards", "2", "--half-open", "8", "--output", os.path.join(tmp, "r.csv")],
                     stderr=subprocess.PIPE, text=True)
page = ""
try:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            page = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
            # The held peers can show before every refusal is counted (two
            # shards, and a slow build under ASan): wait for both.
            if ('swarmdial_peers{direction="outbound"} 3' in page
                    and 'swarmdial_outcomes_total{outcome="refused"} 5' in page):
                break
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.1)
    def value(pattern):
        m = re.search("^" + re.escape(pattern) + r" (\S+)$", page, re.M)
        return float(m.group(1)) if m else None
    for name in ["swarmdial_syn_sent_total", "swarmdial_outcomes_total", "swarmdial_half_open",
                 "swarmdial_half_open_budget", "swarmdial_half_open_high_water",
                 "swarmdial_connect_seconds", "swarmdial_peers"]:
        check.that(f"# TYPE {name} " in page, f"metric family {name} present")
    check.that(value('swarmdial_outcomes_total{outcome="established"}') == 3, "3 established")
    check.that(value('swarmdial_outcomes_total{outcome="refused"}') == 5, "5 refused")
    syn = sum(value(f'swarmdial_syn_sent_total{{shard="{i}"}}') or 0 for i in range(2))
    check.that(syn == 8, f"syn_sent over shards = {syn}")
    check.that(value('swarmdial_half_open_budget{shard="0"}') == 8, "budget gauge")
    check.that(value('swarmdial_peers{direction="outbound"}') == 3, "3 held peers")
    check.that(value('swarmdial_connect_seconds_count') == 3, "histogram count")
    check.that(value('swarmdial_connect_seconds_bucket{le="+Inf"}') == 3, "histogram +Inf bucket")
    # A ring sized for the load never overflows; the counters exist so a soak can watch them.
    check.that(value('swarmdial_uring_overflow_total{queue="cq"}') == 0, "no CQ overflow")
    check.that(value('swarmdial_uring_overflow_total{queue="sq"}') == 0, "no SQ drop")
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/other", timeout=2)
        check.that(False, "unknown path should be 404")
    except urllib.error.HTTPError as e:
        check.that(e.code == 404, f"unknown path gives {e.code}")
    # A flood of idle connections (each would be held to the 10 s read
    # timeout) takes at most the endpoint's 32 sessions, not the descriptors
    # the peers need; once they go, scrapes are served again.
    fds_before = len(os.listdir(f"/proc/{p.pid}/fd"))
    idle = []
    for _ in range(300):
        c = socket.create_connection(("127.0.0.1", port), timeout=2)
        idle.append(c)
    time.sleep(0.5)
    fds_flooded = len(os.listdir(f"/proc/{p.pid}/fd"))
    print(f"300 idle connections to /metrics: descriptors {fds_before} -> {fds_flooded}")
    check.that(fds_flooded - fds_before <= 34, f"descriptors grew by {fds_flooded - fds_before}")
    for c in idle:
        c.close()
    served, deadline = False, time.monotonic() + 5
    while not served and time.monotonic() < deadline:
        try:
            served = "swarmdial_syn_sent_total" in urllib.request.urlopen(
                f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    check.that(served, "scrapes are served again once the idle connections close")
    # The held flows really are open: the kernel shows them established.
    p.send_signal(2)
    rc = p.wait(timeout=15)
    check.that(rc == 0, f"exit {rc} {p.stderr.read()}")
    s = read_json(summary)
    check.that(s["outcomes"]["established"] == 3 and s["interrupted"], "summary after SIGINT")
finally:
    if p.poll() is None:
        p.kill()
    for l in live:
        l.close()
check.done()
