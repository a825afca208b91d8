"""The soak (tools/soak/soak.py), shortened to 2 minutes: `swarmdial seed`
against swarm generations that join and leave, black holes filling its
half-open budget, a real tracker. The soak's own verdict must be "flat"
(RSS and descriptors-beyond-peers slopes under its limits, no io_uring
overflow, exit 0), and the run must really have been a soak: samples every
second, leechers served, the budget used."""
import json
import os
import subprocess
import sys
import tempfile

from seedtest import SWARMDIAL, Check

check = Check("soak (2 minutes)")
out = tempfile.mkdtemp(prefix="sd_soak_test_")
soak = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "soak", "soak.py")
env = dict(os.environ)
if "ASAN_OPTIONS" in env:
    # The sanitizer pass: ASan's quarantine keeps freed memory out of reuse
    # on purpose (up to 256 MiB), which reads as steady growth. Without it,
    # what is left to grow is the seeder's own.
    env["ASAN_OPTIONS"] += ":quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
r = subprocess.run([sys.executable, soak, SWARMDIAL, "--minutes", "2", "--out", out],
                   capture_output=True, text=True, timeout=400, env=env)
print(r.stdout[-3000:], r.stderr[-2000:])
if r.returncode != 0:
    # What the seeder itself said (a sanitizer report, an abort's message).
    try:
        with open(os.path.join(out, "seed.stderr")) as f:
            print("seed stderr:", f.read()[-6000:])
    except OSError:
        pass
check.that(r.returncode == 0, f"soak exit {r.returncode}")
with open(os.path.join(out, "soak.json")) as f:
    rep = json.load(f)
check.that(rep["verdict"] == "flat", f"verdict {rep['verdict']}: {rep['problems']}")
check.that(rep["samples"] >= 100, f"{rep['samples']} samples in 2 minutes")
check.that(rep["generations"] >= 5, f"{rep['generations']} swarm generations")
check.that(rep["served"].get("peers_served", 0) >= 5, f"peers served: {rep['served']}")
check.that(rep["half_open_occupancy"]["max"] == 1.0, f"budget never full: {rep['half_open_occupancy']}")
check.that(rep["uring_overflow"] == {"cq": 0, "sq": 0}, f"overflow {rep['uring_overflow']}")
with open(os.path.join(out, "samples.csv")) as f:
    rows = f.read().splitlines()
check.that(len(rows) == rep["samples"] + 1, "samples.csv has every sample")
check.done()
