"""Fifty torrents seeded by one `swarmdial seed --torrents-dir`, downloaded at
the same time by three kinds of real client, every download byte-identical:
- python3-libtorrent leechers on three torrents dial in (inbound, routed by
  info-hash), one of them with encryption forced (MSE, RC4 only);
- transmission-daemon (Debian's) downloads two other torrents in one
  process, and a second transmission-daemon with encryption required
  (settings "encryption": 2) a third; swarmdial dials them (outbound),
  told by --peers-file lines that name each peer's torrent;
- qbittorrent-nox (Debian's) downloads two more, both directions: one it
  dials itself (told of us through its Web API, addPeers), one swarmdial
  dials from a --peers-file line;
- the summary has bytes and peers for exactly the torrents downloaded, and
  the peer book holds the four dialled peers, none given up;
- the other 42 torrents served nobody, and nothing was cut off as an
  unknown torrent.
Run with Debian's /usr/bin/python3 (libtorrent)."""
import filecmp
import os
import shutil
import signal
import tempfile
import time

import libtorrent as lt

from seedtest import (Check, Leecher, QBittorrent, Transmission, free_port, read_json,
                      start_seed, wait_for_port)

N = 50
check = Check("seed fifty torrents")
tmp = tempfile.mkdtemp(prefix="sd_fifty_")
tdir = os.path.join(tmp, "torrents")
os.makedirs(tdir)
names, hashes, files = [], [], {}
for i in range(N):
    name = f"t{i:02d}"
    root = os.path.join(tdir, name)
    os.makedirs(root)
    # Two files of sizes that differ per torrent, neither a multiple of a piece.
    files[name] = {"a.bin": 60_000 + 997 * i, "b.bin": 150_000 + 1_013 * i}
    for rel, size in files[name].items():
        with open(os.path.join(root, rel), "wb") as f:
            f.write(os.urandom(size))
    fs = lt.file_storage()
    lt.add_files(fs, root)
    t = lt.create_torrent(fs, 16384 * (1 + i % 2), flags=lt.create_torrent.v1_only)
    lt.set_piece_hashes(t, tdir)
    path = os.path.join(tdir, name + ".torrent")
    with open(path, "wb") as f:
        f.write(lt.bencode(t.generate()))
    names.append(name)
    hashes.append(str(lt.torrent_info(path).info_hashes().v1))


def same(name, dl):
    return all(filecmp.cmp(os.path.join(tdir, name, rel), os.path.join(dl, name, rel), shallow=False)
               for rel in files[name])


def torrent(i):
    return os.path.join(tdir, names[i] + ".torrent")


procs, clients = [], []
try:
    # Outbound: two torrents to one transmission, one to an encrypted-only one.
    tr_dl = os.path.join(tmp, "dl_tr")
    tr = Transmission(torrent(10), tr_dl)
    clients.append(tr)
    tr.remote("-a", torrent(11), "-w", tr_dl)
    tr_enc_dl = os.path.join(tmp, "dl_tr_enc")
    tr_enc = Transmission(torrent(12), tr_enc_dl, {"encryption": 2})
    clients.append(tr_enc)
    # qBittorrent: t20 it dials itself (below, once we listen), t30 we dial.
    qb_dl = os.path.join(tmp, "dl_qb")
    qb = QBittorrent(qb_dl)
    clients.append(qb)
    qb.add(torrent(20), hashes[20])
    qb.add(torrent(30), hashes[30])
    peers_file = os.path.join(tmp, "peers.txt")
    with open(peers_file, "w") as f:
        f.write(f"127.0.0.1:{tr.peer_port} {hashes[10]}\n"
                f"127.0.0.1:{tr.peer_port} {hashes[11]}\n"
                f"127.0.0.1:{tr_enc.peer_port} {hashes[12]}  # encryption required\n"
                f"127.0.0.1:{qb.peer_port} {hashes[30]}\n")

    port = free_port()
    summary = os.path.join(tmp, "summary.json")
    seed = start_seed(["--torrents-dir", tdir, "--listen", f"127.0.0.1:{port}", "--peers-file",
                       peers_file, "--redial-delay", 300, "--summary", summary, "--quiet",
                       "--duration", 150])
    procs.append(seed)
    check.that(wait_for_port(port, timeout=30), "swarmdial listens")

    # Inbound: three libtorrent leechers, the last with encryption forced.
    leechers = {}
    for i, enc in ((0, "disabled"), (25, "disabled"), (49, "forced")):
        dl = os.path.join(tmp, f"dl_lt{i}")
        lee = Leecher(torrent(i), dl, enc=enc)
        lee.connect(port)
        leechers[i] = (lee, dl)
    qb.add_peer(hashes[20], port)

    deadline = time.time() + 90
    pending = ({("lt", i) for i in leechers} | {("tr", 1), ("tr", 2), ("tr_enc", 1)}
               | {("qb", 20), ("qb", 30)})
    while pending and time.time() < deadline:
        for kind, i in list(pending):
            if kind == "lt":
                done = leechers[i][0].handle.status().is_seeding
            elif kind == "qb":
                done = qb.progress(hashes[i]) >= 1.0
            else:
                done = (tr if kind == "tr" else tr_enc).progress_of(i) >= 1.0
            if done:
                pending.discard((kind, i))
        time.sleep(0.3)
    check.that(not pending, f"downloads not finished in 90 s: {sorted(pending)}")
    for i, (lee, dl) in leechers.items():
        check.that(same(names[i], dl), f"libtorrent download of {names[i]} differs")
    check.that(same(names[10], tr_dl) and same(names[11], tr_dl),
               "transmission's two downloads differ")
    check.that(same(names[12], tr_enc_dl), "the encrypted transmission's download differs")
    check.that(same(names[20], qb_dl) and same(names[30], qb_dl),
               "qbittorrent's two downloads differ")

    seed.send_signal(signal.SIGTERM)
    rc = seed.wait(timeout=30)
    err = seed.stderr.read()
    check.that(rc == 0, f"seed exit {rc}: {err[-500:]}")
    s = read_json(summary)["seed"]
    by_name = {t["name"]: t for t in s["torrents"]}
    check.that(len(by_name) == N, f"{len(by_name)} torrents in the summary")
    served = {n for n, t in by_name.items() if t["peers_served"] > 0}
    wanted = {names[i] for i in (0, 25, 49, 10, 11, 12, 20, 30)}
    check.that(served == wanted, f"served {sorted(served)}, expected {sorted(wanted)}")
    for n in wanted:
        total = sum(files[n].values())
        check.that(by_name[n]["bytes_up"] >= total, f"{n}: {by_name[n]['bytes_up']} of {total} bytes")
    check.that(s["peers_encrypted"] >= 2, f"the two encrypted peers: {s['peers_encrypted']}")
    check.that(s["disconnects"].get("unknown_info_hash", 0) == 0, f"disconnects {s['disconnects']}")
    book = s["peer_book"]
    check.that(book["known"] == 4 and book["given_up"] == 0, f"peer book {book}")
    print(f"fifty torrents: 8 downloads by libtorrent, transmission and qbittorrent, {s['bytes_up']} bytes up, "
          f"{s['peers_encrypted']} peers encrypted, peer book {book}")
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    for c in clients:
        c.close()
    shutil.rmtree(tmp, ignore_errors=True)
check.done()
