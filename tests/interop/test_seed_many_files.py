"""A torrent of 1,100 files (a photo or music collection) under a soft
descriptor limit of 1024, the default most shells and systemd units give:
`swarmdial seed` keeps every data file open, so it raises the soft limit
for them within the hard one before it opens them, and python3-libtorrent
downloads every file byte-identical. Where the hard limit cannot cover the
files, the peers and the dial slots, seed refuses in one line that names
the data files (exit 2) instead of serving a torrent with files "missing".
Loopback only."""
import os
import resource
import shutil
import signal
import subprocess
import tempfile

from seedtest import (SWARMDIAL, Check, Leecher, free_port, make_data, make_torrent, read_json,
                      same_tree, wait_for_port)

check = Check("seed many files")
prlimit, setpriv = shutil.which("prlimit"), shutil.which("setpriv")
if not prlimit or not setpriv:
    print("SKIP: prlimit and setpriv (util-linux) are not installed")
    raise SystemExit(77)
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
if hard != resource.RLIM_INFINITY and hard < 4096:
    print(f"SKIP: the hard descriptor limit ({hard}) is too low to show the soft one raised")
    raise SystemExit(77)
tmp = tempfile.mkdtemp(prefix="sd_seedfiles_")
sizes = {f"photos/{i // 100:02d}/img{i:04d}.jpg": 700 + (i * 37) % 900 for i in range(1100)}
make_data(tmp, sizes)
torrent = os.path.join(tmp, "t.torrent")
make_torrent(tmp, 16384, torrent, v1_only=True)

port = free_port()
summary = os.path.join(tmp, "s.json")
seed = subprocess.Popen(list(map(str, [
    prlimit, f"--nofile=1024:{hard}", SWARMDIAL, "seed", "--torrent", torrent, "--data", tmp,
    "--listen", f"127.0.0.1:{port}", "--max-peers", 64, "--summary", summary, "--quiet",
    "--duration", 60])), stderr=subprocess.PIPE, text=True)
try:
    check.that(wait_for_port(port, timeout=30), "seed listens")
    leecher = Leecher(torrent, os.path.join(tmp, "dl"))
    leecher.connect(port)
    took = leecher.wait_done(45)
    check.that(took is not None, f"download incomplete ({leecher.progress():.0%})")
finally:
    seed.send_signal(signal.SIGINT)
    rc = seed.wait(timeout=20)
err = seed.stderr.read()
check.that(rc == 0, f"seed exit {rc}: {err[-400:]}")
check.that("missing" not in err, f"no data file reads as missing: {err[-400:]}")
try:
    identical = same_tree(tmp, os.path.join(tmp, "dl"), sizes)
except FileNotFoundError as e:
    identical = False
    print(f"not downloaded: {e.filename}")
check.that(identical, "every file arrives byte-identical")
s = read_json(summary)
print(f"1,100 files under soft limit 1024: served {s['seed']['bytes_up']} bytes in {took} s")
check.that(s["seed"]["bytes_up"] >= sum(sizes.values()), "bytes_up covers the torrent")

# A hard limit too low for the files: one line, exit 2. Root could raise the
# hard limit itself, so it drops CAP_SYS_RESOURCE to see the refusal.
cmd = [prlimit, "--nofile=1024:1024", SWARMDIAL, "seed", "--torrent", torrent, "--data", tmp,
       "--listen", f"127.0.0.1:{free_port()}", "--max-peers", 64, "--quiet", "--duration", 5]
if os.geteuid() == 0:
    cmd = [setpriv, "--inh-caps=-all", "--bounding-set=-sys_resource"] + cmd
r = subprocess.run(list(map(str, cmd)), capture_output=True, text=True, timeout=60)
print(f"hard limit 1024: exit {r.returncode}: {r.stderr.strip()}")
check.that(r.returncode == 2, f"refused with exit 2, not {r.returncode}: {r.stderr!r}")
check.that("1100 data files" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
           f"one line that names the data files: {r.stderr!r}")
shutil.rmtree(tmp, ignore_errors=True)
check.done()
