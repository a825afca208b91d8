"""swarmdial under the supervisors that wrap it. GNU `timeout` sends SIGTERM
to the child and then to its process group, so the same stop arrives twice
at once: each of 20 runs of `dial` and of `seed` under `timeout
--preserve-status 1` (the child's own exit code) must end
with exit 0 and a complete summary marked interrupted. A signal more than a
second after the first forces the exit: a `dial` settling black holes with
a 20 s timeout stops at once and still writes its rows and a summary marked
interrupted and forced."""
import hashlib
import os
import signal
import subprocess
import tempfile
import time

from sdtest import SWARMDIAL, BlackHole, Check, bencode, closed_port, read_json, read_rows

RUNS = 20
check = Check("signals from supervisors")
tmp = tempfile.mkdtemp(prefix="sd_wrap_")


data = os.urandom(100_000)
with open(os.path.join(tmp, "f.bin"), "wb") as f:
    f.write(data)
piece = 16384
hashes = b"".join(hashlib.sha1(data[i:i + piece]).digest() for i in range(0, len(data), piece))
torrent = os.path.join(tmp, "t.torrent")
with open(torrent, "wb") as f:
    f.write(bencode({"info": {"name": "f.bin", "length": len(data), "piece length": piece,
                              "pieces": hashes}}))

dead = closed_port("127.0.0.9")
commands = {
    "dial": ["dial", "--range", "127.0.9.0/24:1-100", "--rate", "2000", "--timeout", "500",
             "--output", "/dev/null", "--quiet"],
    "seed": ["seed", "--torrent", torrent, "--data", os.path.join(tmp, "f.bin"), "--listen",
             "127.0.0.1:0", "--peers", f"127.0.0.9:{dead}", "--quiet"],
}
for name, args in commands.items():
    missing, bad_rc = 0, []
    for i in range(RUNS):
        summary = os.path.join(tmp, f"{name}_{i}.json")
        r = subprocess.run(["timeout", "--preserve-status", "1", SWARMDIAL, *args, "--summary", summary],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            bad_rc.append((r.returncode, r.stderr.strip()[-200:]))
        try:
            s = read_json(summary)
            if s.get("interrupted") is not True or "outcomes" not in s:
                missing += 1
        except (OSError, ValueError):
            missing += 1
    print(f"{name}: {RUNS} runs under timeout 1: {missing} without a summary, exits {bad_rc}")
    check.that(missing == 0, f"{name}: {missing} of {RUNS} runs wrote no interrupted summary")
    check.that(not bad_rc, f"{name}: exit codes {bad_rc[:3]}")

# A later signal forces the exit, and what was made is still written.
hole = BlackHole("0.0.0.0")
rows_out, summary = os.path.join(tmp, "forced.csv"), os.path.join(tmp, "forced.json")
p = subprocess.Popen([SWARMDIAL, "dial", "--range", f"127.0.10.0/24:{hole.port}", "--rate", "200",
                      "--half-open", "64", "--timeout", "20000", "--output", rows_out,
                      "--summary", summary, "--quiet"], stderr=subprocess.PIPE, text=True)
try:
    time.sleep(1.0)
    p.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    p.send_signal(signal.SIGTERM)  # within a second: the same request
    time.sleep(1.0)
    check.that(p.poll() is None, "a second SIGTERM within 1 s did not force the exit")
    t0 = time.monotonic()
    p.send_signal(signal.SIGTERM)  # later: forced
    rc = p.wait(timeout=15)
    took = time.monotonic() - t0
    err = p.stderr.read()
    check.that(rc == 0, f"forced exit code {rc}: {err}")
    check.that(took < 3, f"forced exit took {took:.1f} s")
    s = read_json(summary)
    check.that(s["interrupted"] is True and s["forced_exit"] is True, f"summary flags: {s}")
    rows = read_rows(rows_out)
    check.that(len(rows) == s["targets"], f"{len(rows)} rows vs summary targets {s['targets']}")
    check.that(s["syn_sent"] >= 64, f"syn_sent {s['syn_sent']}: the budget was filled")
finally:
    if p.poll() is None:
        p.kill()
    hole.close()
check.done()
