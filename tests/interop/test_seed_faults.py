"""Faults injected into a running `swarmdial seed`, each with a real
python3-libtorrent leecher that must still complete afterwards:

- a leecher killed mid-piece (a peer that asks for a whole piece, reads a
  little and resets the connection): counted, the seeder serves on;
- the tracker (npm bittorrent-tracker, 10 s interval) killed and restarted
  on the same port: no busy loop while it is down, announces resume, and a
  leecher that only knows the restarted tracker finds the seeder;
- a data file truncated while seeding: pieces past the end are withheld and
  reported, never served as garbage (the leecher sees no hash failure); the
  file replaced by a rename: the pieces verify again and the leecher
  completes. A leecher connected at the time is told (BEP 54 lt_donthave,
  then HAVE); one that connects meanwhile gets a bitfield without them.

A leecher that stops reading is in test_seed_hostile.py."""
import os
import shutil
import signal
import socket
import struct
import tempfile
import time

from seedtest import (Check, Leecher, bt_msg, free_port, make_data, make_torrent, read_json,
                      same_tree, start_seed, unchoked_peer, wait_for_port)
from trackertest import NodeTracker

check = Check("seed faults")
tmp = tempfile.mkdtemp(prefix="sd_faults_")
sizes = {"a.bin": 4 * 1024 * 1024}
make_data(tmp, sizes)
data = os.path.join(tmp, "set")
torrent = os.path.join(tmp, "t.torrent")
info = make_torrent(tmp, 262144, torrent)
ih = bytes.fromhex(str(info.info_hashes().v1))


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(seed):
    seed.send_signal(signal.SIGTERM)
    try:
        rc = seed.wait(timeout=30)
    except Exception:
        seed.kill()
        rc = seed.wait()
    return rc, seed.stderr.read()


def download(port, name, timeout=40):
    leecher = Leecher(torrent, os.path.join(tmp, name))
    leecher.connect(port)
    took = leecher.wait_done(timeout)
    failed = leecher.handle.status().total_failed_bytes
    return took, failed


# 1. A leecher killed mid-piece.
port = free_port()
summary = os.path.join(tmp, "s1.json")
seed = start_seed(["--torrent", torrent, "--data", tmp, "--listen", f"127.0.0.1:{port}",
                   "--summary", summary, "--quiet", "--duration", 90, "--workers", 2])
check.that(wait_for_port(port), "listening")
killed = 0
for _ in range(3):
    s = unchoked_peer(port, ih)
    for begin in range(0, 262144, 16384):
        s.sendall(bt_msg(6, struct.pack(">III", 1, begin, 16384)))
    got = 0
    while got < 20000:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += len(chunk)
    # SO_LINGER 0: the close is a reset, as when the process is killed.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    killed += got >= 20000
check.that(killed == 3, f"the killed leechers got part of a piece first ({killed} of 3)")
took, failed = download(port, "dl1")
check.that(took is not None, "a leecher completes after three were killed mid-piece")
check.that(took is None or same_tree(tmp, os.path.join(tmp, "dl1"), sizes), "byte-identical")
rc, err = stop(seed)
check.that(rc == 0, f"seed exit 0 after the killed leechers (rc {rc}): {err[-300:]}")
s1 = read_json(summary)
if s1:
    check.that(s1["seed"]["peers_served"] >= 4, f"peers served {s1['seed']['peers_served']}")
    print("disconnects after killed leechers:", s1["seed"]["disconnects"])
    ended = sum(s1["seed"]["disconnects"].values())
    check.that(ended >= 4, f"the killed leechers' sessions were ended and counted: {ended}")

# 2. The tracker killed and restarted on the same port.
tracker = NodeTracker(interval_ms=10000)
tport = tracker.port
summary = os.path.join(tmp, "s2.json")
seed = start_seed(["--torrent", torrent, "--data", tmp, "--listen", "127.0.0.1:0", "--tracker",
                   tracker.http, "--tracker-timeout", 1000, "--half-open", 8, "--summary", summary,
                   "--quiet", "--duration", 90])
t0 = time.time()
while time.time() - t0 < 15 and tracker.stats().get("peersAll", 0) < 1:
    time.sleep(0.2)
check.that(tracker.stats().get("peersAll", 0) >= 1, "the seeder announced to the tracker")
tracker.proc.kill()
tracker.proc.wait()
cpu0, w0 = cpu_seconds(seed.pid), time.time()
time.sleep(14)  # the tracker's answers ask for 10 s between announces
cpu_down = (cpu_seconds(seed.pid) - cpu0) / (time.time() - w0)
print(f"seed CPU while the tracker is down: {cpu_down * 100:.1f}% of a core")
check.that(cpu_down < 0.25, f"busy while the tracker is down: {cpu_down * 100:.0f}% of a core")
tracker2 = NodeTracker(port=tport, interval_ms=10000)
try:
    leecher = Leecher(torrent, os.path.join(tmp, "dl2"), trackers=[tracker2.http])
    took = leecher.wait_done(60)
    check.that(took is not None, "a leecher that only knows the restarted tracker completes")
    check.that(took is None or same_tree(tmp, os.path.join(tmp, "dl2"), sizes), "byte-identical")
    rc, err = stop(seed)
    check.that(rc == 0, f"seed exit 0 (rc {rc})")
finally:
    tracker2.close()
s2 = read_json(summary)
if s2:
    tr = s2["trackers"][0]
    print(f"tracker across the restart: {tr['announces_ok']} ok, {tr['announces_failed']} failed")
    check.that(tr["announces_failed"] >= 1, "the outage shows as failed announces")
    check.that(tr["announces_ok"] >= 3, f"announces resumed after the restart ({tr['announces_ok']} ok)")
    check.that(tr["announces_failed"] <= 8, f"{tr['announces_failed']} failed announces in 14 s: no backoff")

# 3. A data file truncated, then replaced by a rename. Leecher A is
# downloading when it happens (the upload limit keeps it from finishing
# first); leecher B connects while the file is short.
port = free_port()
summary = os.path.join(tmp, "s3.json")
seed = start_seed(["--torrent", torrent, "--data", tmp, "--listen", f"127.0.0.1:{port}",
                   "--summary", summary, "--duration", 120, "--workers", 2,
                   "--upload-limit", 400000])
check.that(wait_for_port(port), "listening")
path = os.path.join(data, "a.bin")
keep = os.path.join(tmp, "a.bin.orig")
shutil.copyfile(path, keep)
leecher_a = Leecher(torrent, os.path.join(tmp, "dl3a"))
leecher_a.connect(port)
time.sleep(1.5)
check.that(leecher_a.progress() < 0.5, f"A went too fast to test ({leecher_a.progress():.2f})")
os.truncate(path, 2 * 1024 * 1024 + 1000)  # pieces 8.. are past the end, piece 8 is short
time.sleep(2.5)  # the watcher looks once a second
leecher_b = Leecher(torrent, os.path.join(tmp, "dl3b"))
leecher_b.connect(port)
time.sleep(6)
for name, lch in (("A", leecher_a), ("B", leecher_b)):
    st = lch.handle.status()
    print(f"leecher {name} with the file truncated: progress {st.progress:.2f}, "
          f"failed bytes {st.total_failed_bytes}")
    check.that(not st.is_seeding, f"{name} cannot complete from a truncated file")
    check.that(st.total_failed_bytes == 0, f"garbage served to {name}: {st.total_failed_bytes} bytes")
check.that(leecher_b.progress() <= 0.5, f"B got pieces that are not on disk ({leecher_b.progress():.2f})")
tmp_copy = path + ".new"
shutil.copyfile(keep, tmp_copy)
os.rename(tmp_copy, path)
for name, lch in (("A", leecher_a), ("B", leecher_b)):
    took = lch.wait_done(60)
    check.that(took is not None, f"{name} completes once the file is back")
    check.that(took is None or same_tree(tmp, os.path.join(tmp, "dl3" + name.lower()), sizes),
               f"{name} byte-identical")
    check.that(lch.handle.status().total_failed_bytes == 0, f"no hash failure at {name}")
# Replaced five more times: the seeder reopens onto the same descriptor,
# so its descriptor count does not grow with the replacements.
fds_before = len(os.listdir(f"/proc/{seed.pid}/fd"))
for i in range(5):
    shutil.copyfile(keep, tmp_copy)
    os.rename(tmp_copy, path)
    time.sleep(1.5)
fds_after = len(os.listdir(f"/proc/{seed.pid}/fd"))
print(f"descriptors across five more replacements: {fds_before} -> {fds_after}")
check.that(fds_after <= fds_before, f"descriptors pile up: {fds_before} -> {fds_after}")
rc, err = stop(seed)
check.that(rc == 0, f"seed exit 0 (rc {rc})")
check.that("changed on disk" in err and "withheld" in err, f"the change is reported: {err[-400:]}")
s3 = read_json(summary)
if s3:
    store = s3["seed"]["store"]
    print("store after truncate and replace:", store)
    check.that(store["files_changed"] >= 7, f"seven changes seen: {store}")
    check.that(store["pieces_withheld"] == 0, f"every piece verified again: {store}")

shutil.rmtree(tmp, ignore_errors=True)
check.done()
