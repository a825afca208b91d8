"""`swarmdial seed` dials a peer again when it turns swarmdial away, and gives
up after --redials failures in a row:

- a peer that accepts once and closes (a client whose listening socket opened
  before its torrent was loaded), then a real python3-libtorrent leecher on
  the same address and port: the leecher completes, byte-identical, only
  because swarmdial dialled it again (peer_closed, maybe also refused);
- a peer where nothing listens: refused 1 + N re-dials, then given up,
  shown in the summary, the status line and the Prometheus page, and in
  the peer book's counts by state there too.
Run with Debian's /usr/bin/python3 (libtorrent)."""
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

from seedtest import (SWARMDIAL, Check, Leecher, free_port, make_data, make_torrent, read_json,
                      same_tree, start_seed)

HERE = os.path.dirname(os.path.abspath(__file__))
check = Check("seed re-dial")
tmp = tempfile.mkdtemp(prefix="sd_redial_")
sizes = {"a.bin": 1024 * 1024 + 99, "b.bin": 300_000}
make_data(tmp, sizes)
torrent = os.path.join(tmp, "t.torrent")
make_torrent(tmp, 32768, torrent)
procs = []

try:
    # 1. Turned away once, then the real client on the same port.
    addr = "127.0.0.3"
    port = free_port(addr)
    once = subprocess.Popen([sys.executable, os.path.join(HERE, "accept_once.py"), addr, str(port)],
                            stdout=subprocess.PIPE, text=True)
    procs.append(once)
    check.that(once.stdout.readline().strip() == "ready", "accept-once peer listens")
    summary = os.path.join(tmp, "s1.json")
    seed = start_seed(["--torrent", torrent, "--data", tmp, "--peers", f"{addr}:{port}",
                       "--redial-delay", 500, "--summary", summary, "--quiet", "--duration", 60])
    procs.append(seed)
    check.that(once.stdout.readline().strip() == "closed", "swarmdial's first dial was turned away")
    once.wait(timeout=5)
    leecher = Leecher(torrent, os.path.join(tmp, "dl"), port=port, addr=addr, settle=False)
    took = leecher.wait_done(40)
    check.that(took is not None, f"leecher incomplete ({leecher.progress():.0%}): no re-dial?")
    seed.send_signal(signal.SIGTERM)
    rc = seed.wait(timeout=20)
    err = seed.stderr.read()
    check.that(rc == 0, f"seed exit {rc}: {err}")
    if took is not None:
        check.that(same_tree(tmp, os.path.join(tmp, "dl"), sizes), "download differs")
    s = read_json(summary)
    r = s["seed"]["redial"]
    print(f"turned away once: outcomes {s['outcomes']} redial {r}")
    # accept_once closes at once: with our handshake already in its buffer
    # that is a reset (io_error), else a FIN (peer_closed); both are re-dialled.
    turned_away = r["by_cause"].get("peer_closed", 0) + r["by_cause"].get("io_error", 0)
    check.that(turned_away >= 1, f"re-dial after the peer closed: {r}")
    check.that(s["outcomes"]["established"] >= 2, f"dialled twice at least: {s['outcomes']}")
    check.that(s["seed"]["bytes_up"] >= sum(sizes.values()), f"bytes_up {s['seed']['bytes_up']}")
    check.that(r["given_up"] == 0, f"nobody given up: {r}")
    book = s["seed"]["peer_book"]
    check.that(book["known"] == 1 and book["given_up"] == 0,
               f"the peer book holds the one peer, not given up: {book}")
    check.that(s["seed"]["torrents"][0]["peer_book"] == book, "per-torrent book = the node's")
    del leecher

    # 2. Nothing listens: 1 + 3 attempts, then given up; summary, status, metrics.
    dead = free_port("127.0.0.4")
    mport = free_port()
    summary = os.path.join(tmp, "s2.json")
    seed = start_seed(["--torrent", torrent, "--data", tmp, "--peers", f"127.0.0.4:{dead}",
                       "--redials", 3, "--redial-delay", 100, "--summary", summary, "--status",
                       "--metrics", f"127.0.0.1:{mport}", "--duration", 30])
    procs.append(seed)
    page = ""
    t0 = time.time()
    while time.time() - t0 < 15:
        time.sleep(0.3)
        try:
            page = urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=2).read().decode()
        except OSError:
            continue
        if 'swarmdial_peers_given_up_total{cause="refused"} 1' in page:
            break
    check.that('swarmdial_peers_given_up_total{cause="refused"} 1' in page,
               "metrics show the peer given up")
    check.that('swarmdial_redials_total{cause="refused"} 3' in page, "metrics show 3 re-dials")
    check.that('swarmdial_peer_book_peers{state="given_up"} 1' in page and
               'swarmdial_peer_book_peers{state="backoff"} 0' in page,
               "metrics show the peer book's given-up peer")
    time.sleep(1.2)  # one more status line
    seed.send_signal(signal.SIGTERM)
    rc = seed.wait(timeout=20)
    err = seed.stderr.read()
    check.that(rc == 0, f"seed exit {rc}: {err}")
    s = read_json(summary)
    r = s["seed"]["redial"]
    check.that(s["outcomes"]["refused"] == 4, f"1 dial + 3 re-dials: {s['outcomes']}")
    check.that(r["redials"] == 3 and r["given_up"] == 1 and r["given_up_by_cause"] == {"refused": 1},
               f"summary redial {r}")
    check.that("redials 3 given up 1" in err, f"status line shows re-dials: {err[-300:]}")
    book = s["seed"]["peer_book"]
    check.that(book["known"] == 1 and book["given_up"] == 1 and book["queued"] == 0,
               f"summary peer book: {book}")
    check.that("book 1 (queued 0 conn 0 backoff 0 gone 1)" in err,
               f"status line shows the peer book: {err[-300:]}")
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
check.done()
