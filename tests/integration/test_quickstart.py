"""The README's first command, as written: `bash tools/quickstart.sh` from the
source tree (it reuses the build directory this suite was built in). It must
exit 0, print the demo's report, and leave the report and chart in
./swarmdial-demo, which the test then removes."""
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

from sdtest import Check, read_json

source_root = sys.argv[2]
check = Check("quickstart")
out = os.path.join(source_root, "swarmdial-demo")
existed = os.path.exists(out)
p = subprocess.run(["bash", "tools/quickstart.sh"], cwd=source_root, capture_output=True,
                   text=True, timeout=600)
print(p.stdout)
print(p.stderr[-2000:])
check.that(p.returncode == 0, f"exit code {p.returncode}")
check.that("swarmdial demo: seeded" in p.stdout and "leechers" in p.stdout, "report printed")
r = read_json(os.path.join(out, "report.json"))
check.that(r["swarm"]["peers"] == 1000, f"default swarm of {r['swarm']['peers']} peers")
check.that(r["leechers_completed"] == r["swarm"]["planned"]["leecher"], "every leecher completed")
check.that(r["duration_s"] < 60, f"took {r['duration_s']:.1f} s")
check.that(ET.parse(os.path.join(out, "chart.svg")).getroot().tag.endswith("svg"), "chart")
if not existed:
    shutil.rmtree(out, ignore_errors=True)
check.done()
