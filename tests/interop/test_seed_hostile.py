"""Hostile peers: each misbehaviour the session limits (garbage: under the
default --encryption prefer, bytes that are not a plaintext handshake are
read as an MSE key exchange, and 700 of them with no sync in the 512-byte
pad end as bad_encryption; wrong info-hash, oversized message, oversized request, out-of-range request, bad
bitfield, a request flood from a peer that never reads, a silent peer that
never completes its handshake) ends that peer with its recorded reason,
while a real python3-libtorrent leecher keeps downloading to completion and
the seeder's memory stays bounded. Also: --max-peers turns away the excess."""
import hashlib
import os
import signal
import socket
import struct
import tempfile
import threading
import time

import libtorrent as lt

from seedtest import (Check, Leecher, bt_handshake, bt_msg, free_port, make_data, make_torrent,
                      read_json, same_tree, start_seed, unchoked_peer, wait_for_port)

check = Check("hostile peers")
tmp = tempfile.mkdtemp(prefix="sd_hostile_")
sizes = {"a.bin": 6 * 1024 * 1024, "b.bin": 2 * 1024 * 1024 + 5}
make_data(tmp, sizes)
torrent = os.path.join(tmp, "t.torrent")
info = make_torrent(tmp, 262144, torrent)
ih = bytes.fromhex(str(info.info_hashes().v1))
port = free_port()
summary = os.path.join(tmp, "s.json")
seed = start_seed(["--torrent", torrent, "--data", tmp, "--listen", f"127.0.0.1:{port}",
                   "--summary", summary, "--quiet", "--duration", 60, "--workers", 2,
                   "--max-peers", 40])
assert wait_for_port(port)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def handshake(info_hash=ih):
    return bt_handshake(info_hash)


msg = bt_msg


def connect():
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    return s


def closed_by_peer(s, timeout=15):
    """True once the seeder closes the connection (EOF or reset)."""
    s.settimeout(timeout)
    try:
        while True:
            data = s.recv(1 << 16)
            if not data:
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def unchoked_session():
    return unchoked_peer(port, ih)


results = {}


def behave(name, fn):
    try:
        results[name] = fn()
    except Exception as e:  # a crash of the test peer is a failure too
        results[name] = f"exception {e!r}"


def garbage():
    s = connect()
    s.sendall(b"\x00" + os.urandom(699))  # not 0x13: cannot open a plaintext handshake
    return closed_by_peer(s)


def wrong_hash():
    s = connect()
    s.sendall(handshake(hashlib.sha1(b"not this torrent").digest()))
    return closed_by_peer(s)


def huge_message():
    s = connect()
    s.sendall(handshake() + struct.pack(">IB", 1 << 24, 7))
    return closed_by_peer(s)


def big_request():
    s = unchoked_session()
    s.sendall(msg(6, struct.pack(">III", 0, 0, 32768)))
    return closed_by_peer(s)


def out_of_range():
    s = unchoked_session()
    s.sendall(msg(6, struct.pack(">III", 10_000, 0, 16384)))
    return closed_by_peer(s)


def bad_bitfield():
    s = connect()
    s.sendall(handshake() + msg(5, b"\xff" * 3))
    return closed_by_peer(s)


def flood():
    s = unchoked_session()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    reqs = b"".join(msg(6, struct.pack(">III", p % 32, 0, 16384)) for p in range(3000))
    try:
        s.sendall(reqs)
    except OSError:
        return True
    time.sleep(2)  # never read: the seeder's queue for us fills up
    return closed_by_peer(s)


def silent():
    s = connect()
    return closed_by_peer(s, timeout=20)  # handshake timeout is 10 s


def too_many():
    socks = []
    for _ in range(60):
        try:
            socks.append(connect())
        except OSError:
            pass
    time.sleep(1)
    closed = sum(1 for s in socks if closed_by_peer(s, timeout=0.5))
    for s in socks:
        s.close()
    return closed


leecher = Leecher(torrent, os.path.join(tmp, "dl"))
rss_before = rss_kb(seed.pid)
threads = [threading.Thread(target=behave, args=(n, f)) for n, f in
           [("garbage", garbage), ("wrong_hash", wrong_hash), ("huge_message", huge_message),
            ("big_request", big_request), ("out_of_range", out_of_range),
            ("bad_bitfield", bad_bitfield), ("flood", flood), ("silent", silent)]]
for t in threads:
    t.start()
leecher.connect(port)
took = leecher.wait_done(45)
for t in threads:
    t.join()
behave("too_many", too_many)
rss_after = rss_kb(seed.pid)
seed.send_signal(signal.SIGTERM)
rc = seed.wait(timeout=20)
check.that(rc == 0, f"seed exit {rc}: {seed.stderr.read()}")
check.that(took is not None, f"the honest leecher finished despite the hostile ones ({leecher.progress():.0%})")
check.that(same_tree(tmp, os.path.join(tmp, "dl"), sizes), "leecher's files are byte-identical")
for name in ("garbage", "wrong_hash", "huge_message", "big_request", "out_of_range",
             "bad_bitfield", "flood", "silent"):
    check.that(results.get(name) is True, f"{name}: the seeder did not disconnect it ({results.get(name)})")
check.that(isinstance(results.get("too_many"), int) and results["too_many"] >= 15,
           f"--max-peers 40 turned away {results.get('too_many')} of 60 extra connections")
s = read_json(summary)
d = s["seed"]["disconnects"]
print("disconnects:", d, "inbound:", s["seed"]["inbound"])
for reason in ("bad_encryption", "unknown_info_hash", "message_too_large", "request_too_large",
               "request_out_of_range", "bad_bitfield", "request_flood", "handshake_timeout"):
    check.that(d.get(reason, 0) >= 1, f"summary counts a {reason} disconnect")
check.that(s["seed"]["inbound"]["rejected_max_peers"] >= 15, "rejected_max_peers counted")
growth_mb = (rss_after - rss_before) / 1024
print(f"RSS {rss_before / 1024:.1f} MB -> {rss_after / 1024:.1f} MB")
check.that(growth_mb < 64, f"memory grew {growth_mb:.1f} MB under attack")
check.done()
