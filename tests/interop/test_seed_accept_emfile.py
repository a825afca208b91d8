"""RLIMIT_NOFILE reached by an inbound flood: `swarmdial seed` must count
the failed accepts, keep serving, and give the descriptors back.

seed makes sure its limit covers what it needs (peers, dial slots, data
files and a margin) and turns away peers beyond --max-peers as they
are accepted, so a steady trickle never runs it out. A burst does: an
io_uring multishot accept takes every connection waiting in the backlog in
one go, before the process sees any of them. The test makes that burst
certain: it stops the seeder (SIGSTOP), lets the kernel complete more
connections into the listen backlog than the seeder has descriptors to
spare, and resumes it. Then a real python3-libtorrent leecher must still
download the torrent byte-identical, and the summary must count the
accepts that failed for want of descriptors. One peer-wire worker, so that
its accept is the only one: with several, another worker's accept would
hide one that never came back."""
import os
import resource
import select
import signal
import socket
import tempfile
import time

from seedtest import (Check, Leecher, free_port, make_data, make_torrent, read_json, same_tree,
                      start_seed, wait_for_port)

check = Check("seed accept out of descriptors")
tmp = tempfile.mkdtemp(prefix="sd_emfile_")
sizes = {"a.bin": 2 * 1024 * 1024}
make_data(tmp, sizes)
torrent = os.path.join(tmp, "t.torrent")
make_torrent(tmp, 65536, torrent)

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 16384)), hard))


def seed_limit(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    return 0


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def common_limit():
    # 1024 is the hard limit many distributions give a service, and more
    # than this seeder needs (about 450): it raises its soft limit to it.
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 1024))


port = free_port()
summary = os.path.join(tmp, "s.json")
seed = start_seed(["--torrent", torrent, "--data", tmp, "--listen", f"127.0.0.1:{port}",
                   "--max-peers", 64, "--workers", 1, "--summary", summary, "--quiet", "--duration", 90],
                  preexec_fn=common_limit)
flood = []
try:
    check.that(wait_for_port(port), "listening")
    time.sleep(0.3)
    limit, base = seed_limit(seed.pid), open_fds(seed.pid)
    spare = limit - base
    burst = spare + 400
    print(f"seed: limit {limit} descriptors, {base} open, burst of {burst} connections")
    check.that(0 < spare < 3000, f"the seeder's limit leaves {spare} spare descriptors")

    seed.send_signal(signal.SIGSTOP)
    for _ in range(burst):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        flood.append(s)
    # The kernel answers for the stopped process: every connection in the
    # backlog is complete before it resumes.
    deadline = time.time() + 10
    waiting = {s.fileno(): s for s in flood}
    poller = select.poll()
    for fd in waiting:
        poller.register(fd, select.POLLOUT)
    while waiting and time.time() < deadline:
        for fd, _ in poller.poll(100):
            poller.unregister(fd)
            waiting.pop(fd)
    up = sum(1 for s in flood if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0)
    print(f"{up} of {burst} connections complete in the backlog while the seeder is stopped")
    check.that(up >= spare + 100, f"only {up} connections completed, {spare} spare descriptors")
    seed.send_signal(signal.SIGCONT)
    time.sleep(2)
    peak = open_fds(seed.pid)
    print(f"after the burst: {peak} descriptors open (limit {limit})")
    for s in flood:
        s.close()
    flood = []
    time.sleep(1.5)
    after = open_fds(seed.pid)
    print(f"after the flood closed: {after} descriptors open (was {base})")
    check.that(after <= base + 8, f"descriptors given back: {after} open, {base} before")

    leecher = Leecher(torrent, os.path.join(tmp, "dl"))
    leecher.connect(port)
    took = leecher.wait_done(40)
    check.that(took is not None and same_tree(tmp, os.path.join(tmp, "dl"), sizes),
               "a leecher after the burst downloads byte-identical")

    seed.send_signal(signal.SIGTERM)
    rc = seed.wait(timeout=30)
    check.that(rc == 0, f"seed exit {rc}: {seed.stderr.read()[-300:]}")
    inbound = read_json(summary)["seed"]["inbound"]
    print("inbound:", inbound)
    check.that(inbound["accept_failed_fds"] >= 1,
               f"the accepts that ran out of descriptors are counted: {inbound}")
    check.that(inbound["accepted"] + inbound["rejected_max_peers"] >= burst - 50,
               f"the backlog was drained after the failure: {inbound}")
finally:
    for s in flood:
        s.close()
    if seed.poll() is None:
        seed.send_signal(signal.SIGCONT)
        seed.kill()
        seed.wait()
check.done()
