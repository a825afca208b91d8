"""--torrents-dir changes while one `swarmdial seed` runs (issue 16), against
opentracker (Debian's) and python3-libtorrent leechers:
- a .torrent moved into the directory starts seeding without a restart: a
  libtorrent leecher downloads it, byte-identical, and opentracker counts
  one more seed;
- a .torrent deleted stops seeding: a peer connected to it is closed
  (counted as torrent_removed), a new handshake for it is cut off as an
  unknown torrent, and opentracker got its `stopped` (one seed fewer);
- a .torrent whose data is not there is skipped; once the data is there,
  SIGHUP reads the directory again and it is seeded;
- a .torrent rewritten with another torrent is seeded as what it now holds;
- the metrics gauge swarmdial_torrents and the counters follow, and at
  SIGTERM the summary has every torrent that was seeded, the removed ones
  with when they went, and --state-dir holds each added one's state;
- --max-torrents under what the directory holds is exit 2; at what it
  holds, one more .torrent is named and skipped (no slot).
Loopback only. Run with Debian's /usr/bin/python3 (libtorrent)."""
import filecmp
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import libtorrent as lt

from seedtest import (SWARMDIAL, Check, Leecher, bt_handshake, free_port, metric, read_json, start_seed,
                      unchoked_peer, wait_for_port)
from trackertest import OpenTracker

check = Check("seed torrents-dir live")
tmp = tempfile.mkdtemp(prefix="sd_live_")
tdir = os.path.join(tmp, "torrents")
staging = os.path.join(tmp, "staging")
state = os.path.join(tmp, "state")
os.makedirs(tdir)
os.makedirs(staging)
sizes = {}


def make(name, data_in):
    """name/{a,b}.bin under data_in, NAME.torrent in staging; returns the info-hash."""
    root = os.path.join(data_in, name)
    os.makedirs(root)
    sizes[name] = {"a.bin": 70_000 + 3_001 * len(sizes), "b.bin": 120_001 + 7 * len(sizes)}
    for rel, size in sizes[name].items():
        with open(os.path.join(root, rel), "wb") as f:
            f.write(os.urandom(size))
    fs = lt.file_storage()
    lt.add_files(fs, root)
    t = lt.create_torrent(fs, 16384, flags=lt.create_torrent.v1_only)
    lt.set_piece_hashes(t, data_in)
    path = os.path.join(staging, name + ".torrent")
    with open(path, "wb") as f:
        f.write(lt.bencode(t.generate()))
    return str(lt.torrent_info(path).info_hashes().v1)


def same(name, dl):
    return all(filecmp.cmp(os.path.join(tdir, name, r), os.path.join(dl, name, r), shallow=False)
               for r in sizes[name])


def wait_until(what, pred, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.2)
    check.that(False, f"not within {timeout} s: {what}")
    return False


def download(name, port, timeout=30):
    dl = os.path.join(tmp, "dl_" + name)
    lee = Leecher(os.path.join(staging, name + ".torrent"), dl)
    lee.connect(port)
    took = lee.wait_done(timeout)
    check.that(took is not None, f"{name}: download not finished in {timeout} s ({lee.progress():.0%})")
    check.that(took is not None and same(name, dl), f"{name}: download differs")
    del lee


def refused(port, info_hash):
    """True when a handshake for info_hash is closed without a reply."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(bt_handshake(bytes.fromhex(info_hash)))
    s.settimeout(5)
    try:
        return s.recv(68) == b""
    except (ConnectionResetError, socket.timeout):
        return False
    finally:
        s.close()


hashes = {n: make(n, tdir) for n in ("t0", "t1")}
for n in ("t0", "t1"):
    shutil.copy(os.path.join(staging, n + ".torrent"), tdir)
hashes["t2"] = make("t2", tdir)            # its data already in place
hashes["t3"] = make("t3", staging)         # its data comes later
hashes["t4"] = make("t4", tdir)            # takes t0.torrent's place

tracker = OpenTracker(list(hashes.values()))
seed = full = None
try:
    port, mport = free_port(), free_port()
    summary = os.path.join(tmp, "summary.json")
    seed = start_seed(["--torrents-dir", tdir, "--listen", f"127.0.0.1:{port}", "--tracker",
                       tracker.http, "--metrics", f"127.0.0.1:{mport}", "--state-dir", state,
                       "--summary", summary, "--quiet", "--duration", 150])
    check.that(wait_for_port(port, timeout=30) and wait_for_port(mport), "swarmdial listens")
    wait_until("both torrents announced", lambda: tracker.stats()["seeds"] == 2)
    check.that(metric(mport, "swarmdial_torrents") == 2, "two torrents seeded at the start")

    # Added: moved in whole, as a client's watched folder expects.
    os.replace(os.path.join(staging, "t2.torrent"), os.path.join(tdir, "t2.torrent"))
    shutil.copy(os.path.join(tdir, "t2.torrent"), os.path.join(staging, "t2.torrent"))
    wait_until("t2 seeded", lambda: metric(mport, "swarmdial_torrents") == 3)
    wait_until("t2 announced", lambda: tracker.stats()["seeds"] == 3)
    download("t2", port)

    # Removed while a peer is connected to it.
    peer = unchoked_peer(port, bytes.fromhex(hashes["t1"]))
    os.unlink(os.path.join(tdir, "t1.torrent"))
    peer.settimeout(10)
    try:
        closed = peer.recv(1 << 16) == b"" or peer.recv(1 << 16) == b""
    except (ConnectionResetError, socket.timeout):
        closed = False
    peer.close()
    check.that(closed, "t1's peer was not closed when t1.torrent went")
    wait_until("t1 gone from the gauge", lambda: metric(mport, "swarmdial_torrents") == 2)
    wait_until("t1's `stopped` reached opentracker", lambda: tracker.stats()["seeds"] == 2)
    check.that(refused(port, hashes["t1"]), "a handshake for the removed t1 is cut off")

    # No data yet: skipped. Data in place, then SIGHUP: seeded.
    shutil.copy(os.path.join(staging, "t3.torrent"), tdir)
    time.sleep(2.5)
    check.that(metric(mport, "swarmdial_torrents") == 2, "t3 without its data is not seeded")
    shutil.move(os.path.join(staging, "t3"), os.path.join(tdir, "t3"))
    time.sleep(1.5)
    check.that(metric(mport, "swarmdial_torrents") == 2, "t3 waits for SIGHUP (no .torrent change)")
    seed.send_signal(signal.SIGHUP)
    wait_until("t3 seeded after SIGHUP", lambda: metric(mport, "swarmdial_torrents") == 3)
    download("t3", port)

    # Rewritten: t0.torrent now holds t4.
    tmp_name = os.path.join(tdir, ".t0.torrent.part")
    shutil.copy(os.path.join(staging, "t4.torrent"), tmp_name)
    os.replace(tmp_name, os.path.join(tdir, "t0.torrent"))
    wait_until("t4 seeded in t0's place",
               lambda: metric(mport, "swarmdial_torrents_added_total") == 3
               and metric(mport, "swarmdial_torrents_removed_total") == 2)
    download("t4", port)
    check.that(refused(port, hashes["t0"]), "a handshake for the replaced t0 is cut off")
    check.that(seed.poll() is None, "the seed still runs")

    seed.send_signal(signal.SIGTERM)
    rc = seed.wait(timeout=30)
    err = seed.stderr.read()
    check.that(rc == 0, f"seed exit {rc}: {err[-600:]}")
    check.that("skipping" in err and "no data at" in err, f"t3's skip is named: {err[-600:]}")
    s = read_json(summary)["seed"]
    by_name = {t["name"]: t for t in s["torrents"]}
    check.that(sorted(by_name) == ["t0", "t1", "t2", "t3", "t4"], f"torrents {sorted(by_name)}")
    check.that(s["torrents_dir"] == {"added": 3, "removed": 2}, f"torrents_dir {s.get('torrents_dir')}")
    for n in ("t0", "t1"):
        check.that("removed_at_s" in by_name[n], f"{n} has removed_at_s: {by_name[n]}")
    for n in ("t2", "t3", "t4"):
        check.that("added_at_s" in by_name[n] and "removed_at_s" not in by_name[n],
                   f"{n}: {by_name[n]}")
        check.that(by_name[n]["bytes_up"] >= sum(sizes[n].values()), f"{n} bytes_up {by_name[n]}")
        check.that(os.path.exists(os.path.join(state, hashes[n] + ".resume")), f"{n}'s state saved")
    check.that(s["disconnects"].get("torrent_removed", 0) >= 1, f"disconnects {s['disconnects']}")
    check.that(s["disconnects"].get("unknown_info_hash", 0) >= 2, f"disconnects {s['disconnects']}")
    wait_until("every `stopped` reached opentracker", lambda: tracker.stats()["seeds"] == 0, 10)

    # --max-torrents: fewer than the directory holds is a usage error; as
    # many leaves no slot for one more, which is named and skipped.
    few = subprocess.run([SWARMDIAL, "seed", "--torrents-dir", tdir, "--listen", "127.0.0.1:0",
                          "--max-torrents", "2"], capture_output=True, text=True, timeout=30)
    check.that(few.returncode == 2 and "--max-torrents 2" in few.stderr,
               f"--max-torrents 2 for 3 torrents: exit {few.returncode} {few.stderr!r}")
    full = start_seed(["--torrents-dir", tdir, "--listen", "127.0.0.1:0", "--max-torrents", 3,
                       "--quiet", "--duration", 30])
    time.sleep(2)
    shutil.copy(os.path.join(staging, "t1.torrent"), tdir)
    time.sleep(2.5)
    full.send_signal(signal.SIGTERM)
    full_rc = full.wait(timeout=30)
    full_err = full.stderr.read()
    check.that(full_rc == 0 and "every one of --max-torrents 3 is in use" in full_err,
               f"no slot for a fourth torrent: exit {full_rc} {full_err[-400:]!r}")
    print(f"torrents-dir live: added {s['torrents_dir']['added']}, removed "
          f"{s['torrents_dir']['removed']}, disconnects {s['disconnects']}")
finally:
    for p in (seed, full):
        if p and p.poll() is None:
            p.kill()
            p.wait()
    tracker.close()
    shutil.rmtree(tmp, ignore_errors=True)
check.done()
