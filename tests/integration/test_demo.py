"""`swarmdial demo`, small: its report must agree with the emulated swarm's
ground truth (outcomes per behaviour, leechers completed), the half-open
high-water mark must stay within the budget, the SVG chart must parse as
XML, and the demo's temporary files must be gone afterwards."""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

from sdtest import Check, read_json

swarmdial = sys.argv[1]
check = Check("demo")
out = tempfile.mkdtemp(prefix="sd_demo_")
before = set(glob.glob(os.path.join(tempfile.gettempdir(), "swarmdial-demo.*")))
leechers, slow, dead, holes, mib, budget = 4, 2, 60, 30, 8, 12
try:
    p = subprocess.run(
        [swarmdial, "demo", "--size-mib", str(mib), "--piece-kib", "64", "--leechers", str(leechers),
         "--slow", str(slow), "--slow-accept", "200", "--slow-rate", "20000000", "--dead", str(dead),
         "--blackhole", str(holes), "--half-open", str(budget), "--timeout", "400",
         "--base", "127.79.0.0", "--port", "7001", "--out", out, "--status", "--max-seconds", "40"],
        capture_output=True, text=True, timeout=120)
    print(p.stderr[-3000:])
    print(p.stdout)
    check.that(p.returncode == 0, f"exit code {p.returncode}")
    r = read_json(os.path.join(out, "report.json"))
    truth = r["swarm"]["planned"]
    check.that(truth == {"leecher": leechers, "slow": slow, "dead": dead, "blackhole": holes},
               f"planned swarm {truth}")
    o = r["dial"]["outcomes"]
    check.that(o["established"] == leechers + slow, f"established {o['established']}")
    check.that(o["refused"] == dead, f"refused {o['refused']} vs {dead} dead peers")
    check.that(o["timeout"] == holes, f"timeout {o['timeout']} vs {holes} black holes")
    check.that(r["dial"]["targets"] == leechers + slow + dead + holes, f"targets {r['dial']['targets']}")
    by = r["dial"]["by_behaviour"]
    check.that(by["dead"]["refused"] == dead and by["dead"]["established"] == 0, f"dead {by['dead']}")
    check.that(by["blackhole"]["timeout"] == holes and by["blackhole"]["established"] == 0,
               f"blackhole {by['blackhole']}")
    check.that(by["leecher"]["established"] == leechers and by["leecher"]["timeout"] == 0,
               f"leecher {by['leecher']}")
    check.that(r["dial"]["rows_outside_swarm"] == 0, "rows for addresses outside the swarm")
    b = r["swarm"]["behaviours"]
    # The swarm's own view: one connection per live peer, none to the others.
    check.that(b["leecher"]["connections"] == leechers and b["slow"]["connections"] == slow,
               f"swarm saw {b['leecher']['connections']}+{b['slow']['connections']} connections")
    check.that(r["leechers_completed"] == leechers, f"leechers completed {r['leechers_completed']}")
    size = r["torrent"]["bytes"]
    check.that(size == mib << 20, f"torrent size {size}")
    check.that(b["leecher"]["bytes_verified"] == leechers * size,
               f"leechers verified {b['leecher']['bytes_verified']} of {leechers * size}")
    check.that(b["leecher"]["hash_failures"] == 0, "hash failures")
    check.that(r["seed"]["bytes_up"] >= b["leecher"]["bytes_verified"], "seeder sent less than was verified")
    hw, bud = r["dial"]["half_open_high_water"], r["dial"]["half_open_budget"]
    check.that(bud == budget and 0 < hw <= bud, f"half-open high water {hw} of {bud}")
    check.that(all(s[1] <= budget for s in r["timeline"]), "a timeline sample above the budget")
    svg = os.path.join(out, "chart.svg")
    check.that(r["chart"] == svg and os.path.getsize(svg) > 1000, "chart.svg written")
    root = ET.parse(svg).getroot()
    check.that(root.tag.endswith("svg"), f"chart root element {root.tag}")
    check.that("leechers" in p.stdout and "half-open high-water" in p.stdout, "report printed")
    after = set(glob.glob(os.path.join(tempfile.gettempdir(), "swarmdial-demo.*")))
    check.that(after == before, f"temporary files left behind: {sorted(after - before)}")
    check.that(sorted(os.listdir(out)) == ["chart.svg", "report.json"], f"out dir {os.listdir(out)}")

    # Bad input: one line naming the flag, exit 2.
    for args, flag in [(["--leechers", "-1"], "--leechers"), (["--base", "10.0.0.0"], "--base"),
                       (["--piece-kib", "100"], "--piece-kib"), (["--bogus"], "bogus")]:
        e = subprocess.run([swarmdial, "demo", *args, "--out", out], capture_output=True, text=True)
        lines = e.stderr.strip().splitlines()
        check.that(e.returncode == 2 and len(lines) == 1 and flag in lines[0],
                   f"demo {args}: rc {e.returncode} {e.stderr!r}")
finally:
    shutil.rmtree(out, ignore_errors=True)
check.done()
