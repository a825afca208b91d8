"""aria2c downloads from swarmdial: aria2c waits for peers on its listen
port and swarmdial dials it through the engine. Byte-identical result."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from seedtest import Check, free_port, make_data, make_torrent, read_json, same_tree, start_seed

aria2c = shutil.which("aria2c")
if not aria2c:
    print("SKIP: aria2c is not installed")
    sys.exit(77)
check = Check("seed to aria2")
tmp = tempfile.mkdtemp(prefix="sd_seedaria_")
sizes = {"a.bin": 3 * 1024 * 1024 + 99, "sub/b.bin": 1_500_000}
make_data(tmp, sizes)
torrent = os.path.join(tmp, "t.torrent")
make_torrent(tmp, 262144, torrent, v1_only=True)
dl = os.path.join(tmp, "dl")
port = free_port()
aria = subprocess.Popen([aria2c, f"--listen-port={port}", "--enable-dht=false",
                         "--bt-enable-lpd=false", "--enable-peer-exchange=false", "--seed-time=0",
                         f"--dir={dl}", "--bt-stop-timeout=60", "--summary-interval=0",
                         "--console-log-level=warn", torrent],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
try:
    time.sleep(1.0)
    summary = os.path.join(tmp, "s.json")
    seed = start_seed(["--torrent", torrent, "--data", tmp, "--peers", f"127.0.0.1:{port}",
                       "--summary", summary, "--quiet", "--duration", 60])
    t0 = time.time()
    try:
        rc_aria = aria.wait(timeout=45)  # aria2c exits once the download is complete
    except subprocess.TimeoutExpired:
        rc_aria = "timeout"
    took = time.time() - t0
    seed.send_signal(signal.SIGTERM)
    rc = seed.wait(timeout=20)
    check.that(rc_aria == 0, f"aria2c exit {rc_aria}: {aria.stdout.read() if rc_aria != 'timeout' else ''}")
    check.that(rc == 0, f"seed exit {rc}: {seed.stderr.read()}")
    check.that(same_tree(tmp, dl, sizes), "aria2c's files differ from the originals")
    s = read_json(summary)
    print(f"aria2c: {sum(sizes.values()) / 1e6:.1f} MB in {took:.2f} s; disconnects {s['seed']['disconnects']}")
    check.that(s["outcomes"]["established"] == 1, "swarmdial dialed aria2c")
    check.that(s["seed"]["bytes_up"] >= sum(sizes.values()), "bytes_up covers the torrent")
finally:
    if aria.poll() is None:
        aria.kill()
check.done()
