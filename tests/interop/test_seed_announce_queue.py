"""The announces of a node seeding 300 torrents (`--torrents-dir`), as one
queue with caps, shared BEP 15 connection ids and pooled HTTP connections:
- opentracker (UDP): every torrent is registered as a seed, with one or two
  `connect` exchanges, not 300 (one id serves every torrent for a minute,
  and the announces admitted together wait for the first one's connect);
  at SIGTERM every torrent's `stopped` reaches it (its seeds drop to 0);
- a slow UDP tracker (each announce answered after 100 ms): never more than
  `--announce-limit-per-tracker` announces outstanding at it, and that cap is
  reached; the queue shows in the metrics (`swarmdial_announces_queued`), the
  announces held past 5 s count as late (metrics and summary), and all 300
  are registered and then stopped;
- a slow HTTP tracker (HTTP/1.1 keep-alive, 100 ms per reply): the cap
  holds, and the announces share a few kept-alive connections instead of
  opening one per torrent;
- `--announce-limit 0`: one line that names it, exit 2."""
import http.server
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

import libtorrent as lt

from seedtest import SWARMDIAL, Check, free_port, metric, read_json, wait_for_port
from trackertest import OpenTracker

N = 300
check = Check("seed announce queue")
tmp = tempfile.mkdtemp(prefix="sd_annq_")
tdir = os.path.join(tmp, "torrents")
os.makedirs(tdir)
hashes = set()
for i in range(N):
    name = f"t{i:03d}.bin"
    with open(os.path.join(tdir, name), "wb") as f:
        f.write(os.urandom(2048))
    fs = lt.file_storage()
    lt.add_files(fs, os.path.join(tdir, name))
    t = lt.create_torrent(fs, 16384, flags=lt.create_torrent.v1_only)
    lt.set_piece_hashes(t, tdir)
    with open(os.path.join(tdir, name + ".torrent"), "wb") as f:
        f.write(lt.bencode(t.generate()))
    hashes.add(str(lt.torrent_info(os.path.join(tdir, name + ".torrent")).info_hash()))


def run_seed(tracker, extra=(), metrics_port=None):
    summary = os.path.join(tmp, f"s{time.monotonic_ns()}.json")
    err = open(os.path.join(tmp, "stderr.txt"), "w+")
    args = [SWARMDIAL, "seed", "--torrents-dir", tdir, "--listen", f"127.0.0.1:{free_port()}",
            "--tracker", tracker, "--tracker-timeout", 2000, "--summary", summary, "--quiet",
            "--duration", 120, *extra]
    if metrics_port:
        args += ["--metrics", f"127.0.0.1:{metrics_port}"]
    p = subprocess.Popen(list(map(str, args)), stderr=err)
    return p, summary, err


def stop_seed(p, err):
    p.send_signal(signal.SIGTERM)
    rc = p.wait(timeout=60)
    err.seek(0)
    return rc, err.read()


def wait_until(cond, timeout):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if cond():
            return True
        time.sleep(0.1)
    return False


class SlowTracker:
    """Answers every non-stopped announce after `delay` s and counts how many
    were outstanding at once; `stopped` is answered at once. Records the
    info-hashes it saw start and stop, and (UDP) the connect exchanges, or
    (HTTP) the distinct connections."""

    def __init__(self, delay):
        self.delay = delay
        self.lock = threading.Lock()
        self.outstanding = self.max_outstanding = 0
        self.started, self.stopped = set(), set()
        self.connects = 0
        self.connections = set()

    def enter(self):
        with self.lock:
            self.outstanding += 1
            self.max_outstanding = max(self.max_outstanding, self.outstanding)

    def leave(self):
        with self.lock:
            self.outstanding -= 1


class SlowUdp(SlowTracker):
    def __init__(self, delay):
        super().__init__(delay)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.url = f"udp://127.0.0.1:{self.sock.getsockname()[1]}"
        self.done = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def reply_later(self, data, addr):
        time.sleep(self.delay)
        # Counted out before the reply leaves: the next announce it lets in
        # may arrive before this thread runs again.
        self.leave()
        self.sock.sendto(data, addr)

    def serve(self):
        while not self.done.is_set():
            try:
                data, addr = self.sock.recvfrom(2048)
            except socket.timeout:
                continue
            if len(data) < 16:
                continue
            action, tid = struct.unpack(">II", data[8:16])
            if action == 0:
                with self.lock:
                    self.connects += 1
                self.sock.sendto(struct.pack(">IIQ", 0, tid, 0x5D5D), addr)
            elif action == 1 and len(data) >= 98:
                ih, event = data[16:36].hex(), struct.unpack(">I", data[80:84])[0]
                reply = struct.pack(">IIIII", 1, tid, 1800, 0, 1)
                if event == 3:
                    with self.lock:
                        self.stopped.add(ih)
                    self.sock.sendto(reply, addr)
                    continue
                with self.lock:
                    self.started.add(ih)
                self.enter()
                threading.Thread(target=self.reply_later, args=(reply, addr), daemon=True).start()


class SlowHttp(SlowTracker):
    def __init__(self, delay):
        super().__init__(delay)
        tracker = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive
            # Headers and body go out in two writes: with Nagle on, the body
            # waits for the client's delayed ACK (40 ms), which no real
            # tracker costs and which would eat the 3 s `stopped` deadline.
            disable_nagle_algorithm = True

            def log_message(self, *a):
                pass

            def do_GET(self):
                q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query, encoding="latin-1")
                ih = q["info_hash"][0].encode("latin-1").hex()
                with tracker.lock:
                    tracker.connections.add(self.client_address)
                if q.get("event", [""])[0] == "stopped":
                    with tracker.lock:
                        tracker.stopped.add(ih)
                else:
                    with tracker.lock:
                        tracker.started.add(ih)
                    tracker.enter()
                    time.sleep(tracker.delay)
                    tracker.leave()
                body = b"d8:intervali1800e5:peers0:e"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/announce"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


try:
    # 1. opentracker over UDP: one connection id for all 300 torrents.
    ot = OpenTracker(sorted(hashes))
    try:
        p, summary, err = run_seed(ot.udp)
        registered = wait_until(lambda: ot.stats()["seeds"] >= N, 30)
        st = ot.stats()
        check.that(registered, f"opentracker registered {st['seeds']} of {N} seeds")
        rc, text = stop_seed(p, err)
        after = ot.stats()
        print(f"opentracker: {st['seeds']} seeds, {st['udp_connect']} connects for "
              f"{st['udp_announce']} announces; after SIGTERM {after['seeds']} seeds")
        check.that(rc == 0, f"exit {rc}: {text[-500:]}")
        check.that(st["udp_connect"] <= 2, f"{st['udp_connect']} connect exchanges for {N} torrents")
        check.that(after["seeds"] == 0, f"`stopped` missing: {after['seeds']} seeds still registered")
        a = read_json(summary).get("announces", {})
        check.that(a.get("started", 0) >= 2 * N and a.get("udp_connects", 99) <= 2,
                   f"summary announces: {a}")
    finally:
        ot.close()

    # 2. A slow UDP tracker: the per-tracker cap holds, is reached, and the queue shows.
    cap = 5
    slow = SlowUdp(0.1)
    mport = free_port()
    p, summary, err = run_seed(slow.url, ["--announce-limit-per-tracker", cap], metrics_port=mport)
    check.that(wait_for_port(mport), "metrics endpoint up")
    queued = 0
    t0 = time.time()
    while time.time() - t0 < 3:
        queued = max(queued, metric(mport, "swarmdial_announces_queued") or 0)
        time.sleep(0.1)
    # 300 at 5 every 100 ms: about 6 s.
    all_in = wait_until(lambda: len(slow.started) >= N, 30)
    wait_until(lambda: slow.outstanding == 0, 5)  # the last replies, then stop
    time.sleep(0.3)
    late_metric = metric(mport, "swarmdial_announces_late_total")
    rc, text = stop_seed(p, err)
    slow.done.set()
    print(f"slow udp: max outstanding {slow.max_outstanding} (cap {cap}), queued up to {queued:.0f}, "
          f"{slow.connects} connects, late {late_metric}, {len(slow.started)} started, "
          f"{len(slow.stopped)} stopped")
    check.that(rc == 0, f"exit {rc}: {text[-500:]}")
    check.that(all_in, f"only {len(slow.started)} of {N} announced")
    check.that(slow.max_outstanding == cap,
               f"{slow.max_outstanding} announces outstanding at once, the cap is {cap}")
    check.that(queued > 50, f"the queue never showed in the metrics: {queued}")
    check.that(slow.connects <= 2, f"{slow.connects} connect exchanges")
    check.that(late_metric is not None and late_metric > 0, f"late announces: {late_metric}")
    check.that(slow.stopped == hashes, f"stopped for {len(slow.stopped)} of {N}")
    a = read_json(summary).get("announces", {})
    check.that(a.get("late", 0) > 0 and a.get("queued_at_end") == 0, f"summary announces: {a}")

    # 3. A slow HTTP tracker: the cap holds and connections are shared.
    cap = 4
    slow = SlowHttp(0.1)
    p, summary, err = run_seed(slow.url, ["--announce-limit-per-tracker", cap])
    all_in = wait_until(lambda: len(slow.started) >= N, 40)
    wait_until(lambda: slow.outstanding == 0, 5)
    time.sleep(0.3)
    rc, text = stop_seed(p, err)
    slow.server.shutdown()
    print(f"slow http: max outstanding {slow.max_outstanding} (cap {cap}), "
          f"{len(slow.connections)} connections, {len(slow.started)} started, {len(slow.stopped)} stopped")
    check.that(rc == 0, f"exit {rc}: {text[-500:]}")
    check.that(all_in, f"only {len(slow.started)} of {N} announced over HTTP")
    check.that(slow.max_outstanding == cap, f"{slow.max_outstanding} outstanding, cap {cap}")
    check.that(len(slow.connections) <= 2 * cap,
               f"{len(slow.connections)} TCP connections for {N} torrents: keep-alive not shared")
    check.that(slow.stopped == hashes, f"HTTP stopped for {len(slow.stopped)} of {N}")

    # 4. Bad limits: one line, exit 2.
    for flag in ("--announce-limit", "--announce-limit-per-tracker"):
        r = subprocess.run([SWARMDIAL, "seed", "--torrents-dir", tdir, "--listen", "127.0.0.1:0", flag, "0"],
                           capture_output=True, text=True, timeout=20)
        check.that(r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and flag in r.stderr,
                   f"{flag} 0: exit {r.returncode}, {r.stderr!r}")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
check.done()
