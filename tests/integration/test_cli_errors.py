"""Bad input gets one line on stderr that names the flag (or the file and
line) and exit code 2, before any SYN is sent."""
import os
import shutil
import subprocess
import tempfile

from sdtest import SWARMDIAL, Check, run_dial

check = Check("cli errors")
tmp = tempfile.mkdtemp(prefix="sd_cli_")
good = os.path.join(tmp, "good.txt")
with open(good, "w") as f:
    f.write("127.0.0.1:9\n")
bad_line = os.path.join(tmp, "bad.txt")
with open(bad_line, "w") as f:
    f.write("127.0.0.1:9\n# comment\n127.0.0.300:80\n")
bad_exclude = os.path.join(tmp, "exclude.txt")
with open(bad_exclude, "w") as f:
    f.write("127.0.0.0/8\n127.0.0.0/99\n")
unreadable = os.path.join(tmp, "nope", "targets.txt")

cases = [
    (["--targets", bad_line], [f"{bad_line}:3", "--targets"]),
    (["--targets", unreadable], ["--targets", "cannot read"]),
    (["--targets", good, "--exclude", bad_exclude], [f"{bad_exclude}:2", "--exclude"]),
    (["--targets", good, "--half-open", "0"], ["--half-open"]),
    (["--targets", good, "--rate=-5"], ["--rate"]),
    (["--targets", good, "--range", "127.0.0.1/32:80"], ["--targets", "--range"]),
    (["--range", "127.0.0.1/40:80"], ["--range"]),
    (["--range", "127.0.0.1/32:99999"], ["--range"]),
    (["--range", "not-an-ip/32:80"], ["--range"]),
    (["--targets", good, "--source", "127.0.0.1/64"], ["--source"]),
    (["--targets", good, "--backend", "carrier-pigeon"], ["--backend"]),
    (["--targets", good, "--timeout", "-1"], ["--timeout"]),
    (["--targets", good, "--output", os.path.join(tmp, "no", "dir", "x.csv")], ["--output"]),
    (["--targets", good, "--config", os.path.join(tmp, "missing.ini")], ["--config"]),
    (["--targets", good, "--frobnicate"], ["frobnicate"]),
    ([], ["--targets", "--range"]),
]
for args, must_name in cases:
    r = run_dial(args, timeout=20)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    label = " ".join(args) or "(no args)"
    check.that(r.returncode == 2, f"{label}: exit {r.returncode}, expected 2")
    check.that(len(lines) == 1, f"{label}: stderr has {len(lines)} lines: {r.stderr!r}")
    for word in must_name:
        check.that(word in r.stderr, f"{label}: stderr does not name {word!r}: {r.stderr!r}")
    check.that(r.stdout == "", f"{label}: wrote rows despite the error")

r = subprocess.run([SWARMDIAL, "teleport"], capture_output=True, text=True)
check.that(r.returncode == 2 and "teleport" in r.stderr, "unknown subcommand is exit 2")
r = run_dial(["--help"])
check.that(r.returncode == 0 and "--half-open" in r.stdout and "Example" in r.stdout, "--help")

# The file-descriptor limit: raised when allowed, a clear error when not.
prlimit = shutil.which("prlimit")
setpriv = shutil.which("setpriv")
if prlimit:
    import resource
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    r = subprocess.run([prlimit, f"--nofile=128:{hard}", SWARMDIAL, "dial", "--targets", good,
                        "--half-open", "4000", "--shards", "1", "--backend", "epoll", "--timeout", "200", "--quiet",
                        "--output", os.devnull], capture_output=True, text=True, timeout=20)
    check.that(r.returncode == 0, f"soft limit 128 is raised within the hard limit: {r.stderr!r}")
    cmd = [prlimit, "--nofile=128:128", SWARMDIAL, "dial", "--targets", good, "--half-open",
           "4000", "--shards", "2", "--backend", "epoll", "--quiet", "--output", os.devnull]
    if os.geteuid() == 0 and setpriv:
        # root could raise the hard limit: drop CAP_SYS_RESOURCE to see the error path.
        cmd = [setpriv, "--inh-caps=-all", "--bounding-set=-sys_resource"] + cmd
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    check.that(r.returncode == 2, f"fd limit too low: exit {r.returncode} {r.stderr!r}")
    check.that("8064" in r.stderr and "--half-open" in r.stderr and len(r.stderr.splitlines()) == 1,
               f"the error says what is needed: {r.stderr!r}")
check.done()
