"""Many torrents in one `swarmdial seed`: one listener, one half-open budget,
python3-libtorrent leechers on several torrents at once.
- two torrents from --torrent/--data pairs, two from --torrents-dir (data
  beside them); a .torrent there that is not one, and one whose data is
  missing, are named and skipped while the others seed;
- inbound peers are routed by the info-hash they ask for: a plaintext
  leecher of the last torrent and an encrypted one (MSE, RC4 forced) of the
  second, which names its torrent only through SKEY, both complete
  byte-identical;
- outbound: a leecher given with --peers is dialled for every torrent; only
  the dial tagged with its own torrent becomes a session (it refuses the
  others), and it completes;
- a handshake for a torrent not served is cut off and counted
  (unknown_info_hash) while the leechers keep downloading;
- the summary has each torrent's bytes, peers and pieces, and the totals
  add up to them;
- the same torrent given twice, or a --torrents-dir that is not there: one
  line that names it, exit 2;
- at SIGTERM every torrent's `stopped` announce is asked for at once: with
  a tracker that never answers, four torrents stop in about one grace
  period (3 s), not four."""
import os
import shutil
import signal
import socket
import struct
import tempfile
import threading
import time
import urllib.request

import libtorrent as lt

from seedtest import Check, Leecher, bt_handshake, free_port, read_json, start_seed, wait_for_port

check = Check("seed many torrents")
tmp = tempfile.mkdtemp(prefix="sd_manyt_")
flags_dir = os.path.join(tmp, "flags")
tdir = os.path.join(tmp, "dir")
os.makedirs(flags_dir)
os.makedirs(tdir)


def make(save_path, name, sizes, out):
    """Random files under save_path/name (one file when sizes has one entry
    named ""), and a v1 torrent of them at out. Returns the relative paths."""
    rels = []
    for rel, size in sizes.items():
        path = os.path.join(save_path, name, rel) if rel else os.path.join(save_path, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(os.urandom(size))
        rels.append(os.path.join(name, rel) if rel else name)
    fs = lt.file_storage()
    lt.add_files(fs, os.path.join(save_path, name))
    t = lt.create_torrent(fs, 32768, flags=lt.create_torrent.v1_only)
    lt.set_piece_hashes(t, save_path)
    with open(out, "wb") as f:
        f.write(lt.bencode(t.generate()))
    return rels


torrents = {
    "alpha": (flags_dir, make(flags_dir, "alpha", {"a.bin": 700_001, "sub/b.bin": 90_000},
                              os.path.join(tmp, "alpha.torrent"))),
    "beta": (flags_dir, make(flags_dir, "beta.bin", {"": 500_003}, os.path.join(tmp, "beta.torrent"))),
    "gamma": (tdir, make(tdir, "gamma", {"g.bin": 600_007}, os.path.join(tdir, "gamma.torrent"))),
    "delta": (tdir, make(tdir, "delta.bin", {"": 300_000}, os.path.join(tdir, "delta.torrent"))),
}
with open(os.path.join(tdir, "broken.torrent"), "wb") as f:
    f.write(b"d4:infoi1ee")
make(tmp, "lost", {"l.bin": 10_000}, os.path.join(tdir, "lost.torrent"))  # its data is not in tdir
torrent_file = {"alpha": os.path.join(tmp, "alpha.torrent"), "beta": os.path.join(tmp, "beta.torrent"),
                "gamma": os.path.join(tdir, "gamma.torrent"), "delta": os.path.join(tdir, "delta.torrent")}
info = {k: lt.torrent_info(v) for k, v in torrent_file.items()}


def same(name, dl):
    save, rels = torrents[name]
    for rel in rels:
        with open(os.path.join(save, rel), "rb") as a, open(os.path.join(dl, rel), "rb") as b:
            if a.read() != b.read():
                return False
    return True


port = free_port()
out_port = free_port()
metrics_port = free_port()
summary = os.path.join(tmp, "s.json")
# A UDP tracker (BEP 15) that answers connects and announces but never a
# `stopped`: each torrent's `stopped` waits out its grace period (3 s) at
# shutdown, all at once rather than one after another.
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("127.0.0.1", 0))
udp.settimeout(0.2)
tracker = f"udp://127.0.0.1:{udp.getsockname()[1]}"
started, stopped = set(), set()
tracker_done = threading.Event()


def serve_tracker():
    while not tracker_done.is_set():
        try:
            data, addr = udp.recvfrom(2048)
        except socket.timeout:
            continue
        if len(data) < 16:
            continue
        action, tid = struct.unpack(">II", data[8:16])
        if action == 0:
            udp.sendto(struct.pack(">IIQ", 0, tid, 0x5D5D), addr)
        elif action == 1 and len(data) >= 98:
            ih, event = data[16:36].hex(), struct.unpack(">I", data[80:84])[0]
            if event == 3:
                stopped.add(ih)  # never answered
            else:
                started.add(ih)
                udp.sendto(struct.pack(">IIIII", 1, tid, 1800, 0, 1), addr)


threading.Thread(target=serve_tracker, daemon=True).start()
seed = start_seed(["--tracker", tracker, "--torrent", torrent_file["alpha"], "--data", flags_dir,
                   "--torrent", torrent_file["beta"], "--data", os.path.join(flags_dir, "beta.bin"),
                   "--torrents-dir", tdir, "--listen", f"127.0.0.1:{port}",
                   "--peers", f"127.0.0.1:{out_port}", "--half-open", 8, "--redial-delay", 300,
                   "--workers", 2, "--summary", summary, "--quiet", "--duration", 90,
                   "--metrics", f"127.0.0.1:{metrics_port}"])
try:
    check.that(wait_for_port(port), "swarmdial listens")
    # Outbound: a leecher of gamma, dialled for all four torrents.
    dl = {k: os.path.join(tmp, "dl_" + k) for k in ("delta", "beta", "gamma")}
    out_leecher = Leecher(torrent_file["gamma"], dl["gamma"], port=out_port, settle=False)
    plain = Leecher(torrent_file["delta"], dl["delta"])
    enc = Leecher(torrent_file["beta"], dl["beta"], enc="forced")
    plain.connect(port)
    enc.connect(port)
    # A stranger asks for a torrent we do not serve: cut off at once.
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(bt_handshake(b"\xee" * 20))
    try:
        got = s.recv(100)
    except OSError:
        got = b""
    check.that(got == b"", f"a handshake for an unknown torrent is answered: {got[:20]!r}")
    s.close()
    page = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
    check.that("\nswarmdial_torrents 4\n" in page and "\nswarmdial_dials_waiting " in page,
               "metrics: 4 torrents and the dial queue")
    took = {k: l.wait_done(60) for k, l in (("delta", plain), ("beta", enc), ("gamma", out_leecher))}
    for k, t in took.items():
        check.that(t is not None, f"{k}: download incomplete")
        if t is not None:
            check.that(same(k, dl[k]), f"{k}: files differ")
            print(f"{k}: done in {t:.1f} s")
finally:
    t_stop = time.time()
    seed.send_signal(signal.SIGTERM)
    rc = seed.wait(timeout=30)
    stop_s = time.time() - t_stop
err = seed.stderr.read()
tracker_done.set()
# Four torrents' grace periods overlap: about 3 s, not 12.
print(f"stopped 4 torrents in {stop_s:.1f} s; the tracker saw {len(started)} started, {len(stopped)} stopped")
all_hashes = {str(i.info_hash()) for i in info.values()}
check.that(started == all_hashes and stopped == all_hashes,
           f"every torrent announced started and stopped: {len(started)}, {len(stopped)}")
check.that(2.5 < stop_s < 7, f"shutdown took {stop_s:.1f} s: the `stopped` grace periods did not overlap")
check.that(rc == 0, f"seed exit {rc}: {err}")
check.that("broken.torrent" in err and "lost.torrent" in err and "no data at" in err,
           f"the broken and the data-less torrent are named: {err}")
sm = read_json(summary)["seed"]
per = {t["name"]: t for t in sm["torrents"]}
check.that(sorted(per) == ["alpha", "beta.bin", "delta.bin", "gamma"], f"torrents seeded: {sorted(per)}")
sizes = {"delta.bin": info["delta"].total_size(), "beta.bin": info["beta"].total_size(),
         "gamma": info["gamma"].total_size()}
for name, size in sizes.items():
    t = per.get(name, {})
    check.that(t.get("bytes_up", 0) >= size and t.get("peers_served", 0) >= 1,
               f"{name}: served {t.get('bytes_up')} of {size} bytes to {t.get('peers_served')} peers")
    check.that(t.get("pieces_verified") == t.get("pieces"), f"{name}: verified {t}")
check.that(per.get("alpha", {}).get("bytes_up") == 0, f"alpha had no leecher: {per.get('alpha')}")
check.that(sm["bytes_up"] == sum(t["bytes_up"] for t in per.values()), "bytes_up totals add up")
check.that(sm["peers_served"] == sum(t["peers_served"] for t in per.values()), "peers totals add up")
check.that(sm["disconnects"].get("unknown_info_hash", 0) >= 1, f"unknown info-hash counted: {sm['disconnects']}")
check.that(sm["peers_encrypted"] >= 1, f"the MSE leecher was served over RC4: {sm['peers_encrypted']}")
# One torrent alone keeps its old top-level fields; several do not claim one.
check.that("info_hash" not in sm, "several torrents: no single info_hash at the top")
# The same torrent twice, and a directory that is not there: one line, exit 2.
for label, args in (("the same torrent twice", ["--torrent", torrent_file["alpha"], "--data", flags_dir,
                                                "--torrent", torrent_file["alpha"], "--data", flags_dir]),
                    ("a missing --torrents-dir", ["--torrents-dir", os.path.join(tmp, "nope")])):
    p = start_seed(args + ["--listen", "127.0.0.1:0", "--quiet"])
    rc = p.wait(timeout=20)
    err = p.stderr.read()
    check.that(rc == 2 and len(err.strip().splitlines()) == 1, f"{label}: exit {rc}, {err!r}")
shutil.rmtree(tmp, ignore_errors=True)
check.done()
