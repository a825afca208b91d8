"""SIGTERM in mid-run: new SYNs stop, in-flight attempts settle, and every
target that was attempted still has exactly one row; the summary is written
and says the run was interrupted. Exit code 0."""
import os
import signal
import subprocess
import sys
import tempfile
import time

from sdtest import SWARMDIAL, BlackHole, Check, Listener, read_json, read_rows

backend = sys.argv[2]
check = Check(f"signal flush ({backend})")
tmp = tempfile.mkdtemp(prefix="sd_signal_")
hole = BlackHole("0.0.0.0")
live = Listener("0.0.0.0")  # every 127.x address is live on this port
targets = os.path.join(tmp, "targets.txt")
with open(targets, "w") as f:
    for i in range(2000):
        host = f"127.5.{i // 250}.{i % 250 + 1}"
        f.write(f"{host}:{hole.port if i % 2 else live.port}\n")
out, summary = os.path.join(tmp, "rows.csv"), os.path.join(tmp, "summary.json")
try:
    p = subprocess.Popen(
                         [SWARMDIAL, "dial", "--targets", targets, "--backend", backend,
                          "--half-open", "64", "--shards", "2", "--rate", "300", "--timeout",
                          "800", "--retries", "2", "--output", out, "--summary", summary,
                          "--quiet"], stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)
    t0 = time.monotonic()
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = "hung"
    took = time.monotonic() - t0
    check.that(rc == 0, f"exit {rc}: {p.stderr.read().strip()}")
    check.that(took < 3.0, f"took {took:.2f} s to stop (timeout is 0.8 s)")
    rows = read_rows(out)
    s = read_json(summary)
    check.that(s["interrupted"] is True, "summary marks the run interrupted")
    attempted = len(rows)
    check.that(0 < attempted < 2000, f"{attempted} rows: the signal should land mid-run")
    keys = {(r["target"], r["port"]) for r in rows}
    check.that(len(keys) == attempted, "no duplicate rows")
    check.that(s["targets"] == attempted, f"summary targets {s['targets']} vs {attempted} rows")
    total_attempts = sum(int(r["attempts"]) for r in rows)
    check.that(s["syn_sent"] == total_attempts,
               f"every SYN sent belongs to a row: syn_sent {s['syn_sent']} vs {total_attempts}")
    check.that(all(r["outcome"] in ("established", "timeout") for r in rows), "outcomes valid")

    # --duration stops new SYNs by itself, the same way a signal does.
    t0 = time.monotonic()
    r = subprocess.run([SWARMDIAL, "dial", "--targets", targets, "--backend", backend,
                        "--half-open", "64", "--rate", "300", "--timeout", "500", "--duration",
                        "1", "--output", out, "--summary", summary, "--quiet"],
                       capture_output=True, text=True, timeout=30)
    took = time.monotonic() - t0
    rows, s = read_rows(out), read_json(summary)
    check.that(r.returncode == 0 and took < 2.5, f"--duration 1: exit {r.returncode} in {took:.2f} s")
    # The upper bound tests the stop: nothing is sent past --duration. The
    # lower one says it dialed at about the rate, which ThreadSanitizer's
    # pace does not keep (40-193 rows seen there): the TSan pass sets
    # SWARMDIAL_TEST_SANITIZER_PACE and keeps only the upper bound.
    low = 1 if os.environ.get("SWARMDIAL_TEST_SANITIZER_PACE") else 200
    check.that(low <= len(rows) <= 400, f"--duration 1 at 300/s gave {len(rows)} rows")
    check.that(s["syn_sent"] == len(rows) and not s["interrupted"], "--duration summary")
finally:
    hole.close()
    live.close()
check.done()
