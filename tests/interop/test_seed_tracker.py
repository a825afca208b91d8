"""`seed --tracker` against real trackers started here on loopback: opentracker
(UDP and HTTP) and npm bittorrent-tracker (HTTP and UDP). A python3-libtorrent
leecher announces to the tracker; swarmdial announces `started`, gets the
leecher from the tracker, dials it through the engine and serves it to
completion, byte-identical; at SIGTERM it announces `stopped` and the tracker
forgets it. A dead first tier fails over to the next (BEP 12)."""
import os
import shutil
import signal
import tempfile
import time

from seedtest import Check, Leecher, make_data, make_torrent, read_json, same_tree, start_seed
from trackertest import NodeTracker, OpenTracker, free_port_both

check = Check("seed --tracker")
tmp = tempfile.mkdtemp(prefix="sd_seedtr_")
sizes = {"a.bin": 1500 * 1024 + 3, "d/b.bin": 300 * 1024}
make_data(tmp, sizes)
torrent = os.path.join(tmp, "t.torrent")
info = make_torrent(tmp, 65536, torrent)


def run_case(name, kind, leecher_transport, seed_transports, dead_first=False):
    # A fresh tracker per case, so every count below is this case's own.
    tracker = OpenTracker([str(info.info_hash())]) if kind == "ot" else NodeTracker()
    try:
        return run_on(tracker, name, kind, getattr(tracker, leecher_transport),
                      ([dead] if dead_first else []) + [getattr(tracker, t) for t in seed_transports])
    finally:
        tracker.close()


def run_on(tracker, name, kind, leecher_url, seed_urls):
    peers_known = lambda: tracker.stats()["peers"] if kind == "ot" else tracker.stats()["peersAll"]
    save = os.path.join(tmp, "dl_" + name)
    leecher = Leecher(torrent, save, trackers=[leecher_url])
    t0 = time.time()
    while peers_known() < 1 and time.time() - t0 < 10:
        time.sleep(0.1)
    before = peers_known()
    summary = os.path.join(tmp, f"s_{name}.json")
    args = ["--torrent", torrent, "--data", tmp, "--listen", "127.0.0.1:0", "--half-open", "8",
            "--tracker-timeout", "1000", "--summary", summary, "--duration", "60", "--status"]
    for u in seed_urls:
        args += ["--tracker", u]
    seed = start_seed(args)
    took = leecher.wait_done(30)
    check.that(took is not None, f"{name}: the leecher completed")
    check.that(took is None or same_tree(tmp, save, sizes), f"{name}: byte-identical")
    time.sleep(1.2)  # one status line
    during = peers_known()
    seed.send_signal(signal.SIGTERM)
    rc = seed.wait(timeout=20)
    err = seed.stderr.read()
    check.that(rc == 0, f"{name}: seed exit {rc}: {err[-500:]}")
    check.that("trackers 1/" in err, f"{name}: tracker state in the status line")
    s = read_json(summary)
    trackers = {t["url"]: t for t in s["trackers"]}
    used = trackers[seed_urls[-1]]
    check.that(used["announces_ok"] >= 2, f"{name}: started + stopped announced: {used}")
    check.that(s["tracker_peers_new"] == 1, f"{name}: one new peer from the tracker: {s['tracker_peers_new']}")
    # The tracker's peer went through the peer book (each re-announce lists
    # it again: refreshed, not dialled again).
    book = s["seed"]["peer_book"]
    check.that(book["known"] == 1 and book["given_up"] == 0, f"{name}: peer book {book}")
    # Once, and again only as a counted re-dial (libtorrent may close one of
    # two connections to the same peer when it also dials our listener).
    est, redials = s["outcomes"]["established"], s["seed"]["redial"]["redials"]
    check.that(1 <= est <= 1 + redials,
               f"{name}: dialed the leecher: {s['outcomes']}, re-dials {s['seed']['redial']}")
    # The tracker counted us while we seeded and dropped us after `stopped`.
    t0 = time.time()
    while peers_known() >= during and time.time() - t0 < 5:
        time.sleep(0.1)
    after = peers_known()
    check.that(before == 1 and during == 2 and after == 1,
               f"{name}: tracker peers before/during/after = {before}/{during}/{after}")
    del leecher
    return trackers


dead = f"http://127.0.0.1:{free_port_both()}/announce"
run_case("opentracker_udp", "ot", "udp", ["udp"])
run_case("node_http", "nt", "http", ["http"])
# libtorrent 2.0.8 does not get an answer from bittorrent-tracker over UDP,
# so its leecher announces over HTTP; swarmdial uses UDP to the same swarm.
run_case("node_udp", "nt", "http", ["udp"])
tr = run_case("failover_to_opentracker_http", "ot", "http", ["http"], dead_first=True)
check.that(tr[dead]["announces_failed"] >= 1 and tr[dead]["announces_ok"] == 0 and tr[dead]["last_error"],
           f"the dead first tier failed with a reason: {tr[dead]}")
shutil.rmtree(tmp, ignore_errors=True)
check.done()
