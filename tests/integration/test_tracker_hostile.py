"""Hostile tracker replies, HTTP and UDP: every one gets a clear error in the
summary (and a retry per the BEP), never a crash, and the seeder keeps
running until told to stop. The torrent is written here by hand."""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

from hostile_tracker import HostileTracker
from sdtest import Check, read_json

swarmdial = sys.argv[1]
check = Check("hostile trackers")
tmp = tempfile.mkdtemp(prefix="sd_hostile_tr_")
data = os.urandom(100_000)
with open(os.path.join(tmp, "f.bin"), "wb") as f:
    f.write(data)
pieces = b"".join(hashlib.sha1(data[i:i + 32768]).digest() for i in range(0, len(data), 32768))
info = (b"d6:lengthi%de4:name5:f.bin12:piece lengthi32768e6:pieces%d:" % (len(data), len(pieces))
        + pieces + b"e")
with open(os.path.join(tmp, "t.torrent"), "wb") as f:
    f.write(b"d4:info" + info + b"e")
tracker = HostileTracker()


def seed_with(url, seconds=2.5):
    summary = os.path.join(tmp, "s.json")
    if os.path.exists(summary):
        os.remove(summary)
    p = subprocess.run([swarmdial, "seed", "--torrent", os.path.join(tmp, "t.torrent"), "--data", tmp,
                        "--tracker", url, "--tracker-timeout", "200", "--duration", str(seconds),
                        "--summary", summary, "--quiet"], capture_output=True, text=True, timeout=60)
    check.that(p.returncode == 0, f"{url}: exit {p.returncode} {p.stderr[-300:]}")
    return read_json(summary)["trackers"][0]


try:
    cases = {
        "/bad-bencode": "malformed reply: bad bencode",
        "/html": "malformed reply: bad bencode",
        "/http-500": "HTTP 500",
        "/redirect-a": "redirect loop",
        "/peers-7": "not a multiple of 6",
        "/failure": "failure reason: torrent banned",
        "/huge": "limit",  # the body limit (1 MiB), never read whole
    }
    for path, want in cases.items():
        t = seed_with(tracker.http_url(path))
        check.that(want in t["last_error"], f"{path}: last_error {t['last_error']!r}, want {want!r}")
        check.that(t["announces_ok"] == 0 and t["announces_failed"] >= 2,
                   f"{path}: retried: {t['announces_failed']} failures")
    # The redirect loop went a->b->a and stopped, every round.
    check.that(tracker.count("/redirect-b") >= 2, "redirects were followed")

    # UDP: a reply that is not ours is dropped and the request retransmitted
    # (15 * 2^n, here with a 200 ms base); an error reply ends the announce.
    for mode, want in [("truncated", "truncated announce reply"), ("wrong-tid", "wrong transaction id"),
                       ("wrong-action", "action 2 instead of 1")]:
        t = seed_with(tracker.udp_url(mode))
        check.that(t["announces_ok"] == 0, f"udp {mode}: no success")
        check.that(t["ignored_datagrams"] >= 2 and want in t["last_ignored"],
                   f"udp {mode}: ignored {t['ignored_datagrams']} ({t['last_ignored']!r})")
        # connect + announce, then retransmissions at 200, 400, 800 ms...
        check.that(tracker.count("udp-" + mode) >= 4, f"udp {mode}: {tracker.count('udp-' + mode)} datagrams")
    t = seed_with(tracker.udp_url("error"))
    check.that(t["last_error"] == "udp: tracker error: info_hash not allowed", f"udp error: {t['last_error']!r}")
    check.that(t["announces_failed"] >= 2, f"udp error: retried {t['announces_failed']}")

    # A bad URL is a usage error naming the flag.
    for bad in ["https://t/announce", "udp://127.0.0.1/x", "gopher://x"]:
        p = subprocess.run([swarmdial, "seed", "--torrent", os.path.join(tmp, "t.torrent"), "--data", tmp,
                            "--tracker", bad], capture_output=True, text=True)
        check.that(p.returncode == 2 and "--tracker" in p.stderr and len(p.stderr.strip().splitlines()) == 1,
                   f"{bad}: {p.returncode} {p.stderr!r}")
finally:
    tracker.close()
    shutil.rmtree(tmp, ignore_errors=True)
check.done()
