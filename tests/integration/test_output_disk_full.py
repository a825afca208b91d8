"""--output on a full disk (a 64 KiB tmpfs mounted here): the error is one
clear line, the file ends on a complete row, the summary says how many rows
were written and lost (together: every target), and the exit code is 1."""
import os
import subprocess
import tempfile

from sdtest import Check, is_root, read_json, read_rows, run_dial, skip

if not is_root():
    skip("mounting a tmpfs needs root")
check = Check("output disk full")
tmp = tempfile.mkdtemp(prefix="sd_full_")
mnt = os.path.join(tmp, "mnt")
os.mkdir(mnt)
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "sd_full", mnt], check=True)
try:
    out = os.path.join(mnt, "rows.csv")
    summary = os.path.join(tmp, "s.json")
    # 5120 refused targets on loopback: about 200 KiB of rows for 64 KiB.
    r = run_dial(["--range", "127.0.1.0/24:1-20", "--rate", 0, "--timeout", 500, "--quiet",
                  "--output", out, "--summary", summary])
    print(r.stderr.strip())
    check.that(r.returncode == 1, f"exit {r.returncode}, expected 1")
    check.that("No space left on device" in r.stderr and "--output" in r.stderr,
               f"the error names the output and the cause: {r.stderr!r}")
    with open(out, "rb") as f:
        body = f.read()
    check.that(body.endswith(b"\n"), "the file ends on a complete row")
    rows = read_rows(out)
    s = read_json(summary)
    print("summary rows:", s["rows"], "targets:", s["targets"])
    check.that(s["rows"]["lost"] > 0, "rows lost are counted")
    check.that(s["rows"]["written"] == len(rows), f"{s['rows']['written']} written, {len(rows)} in the file")
    check.that(s["rows"]["written"] + s["rows"]["lost"] == 5120, "written + lost = every target")
    check.that(s["rows"]["error"] == "No space left on device", f"error in the summary: {s['rows']}")
    check.that(all(x["outcome"] == "refused" for x in rows), "rows in the file are whole rows")
finally:
    subprocess.run(["umount", mnt])
check.done()
