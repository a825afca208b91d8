#!/usr/bin/python3
"""A seeding node's cost per torrent and per peer: `swarmdial seed
--torrents-dir` over N small generated torrents (default 1,000), then
--idle-peers (default 10,000) inbound peers spread over them that complete
the handshake and stay idle.

Prints, medians of --runs:
- start-up time to the listener (the pieces hashed: a cold start; then a
  restart with --state-dir, which hashes nothing that did not change);
- RSS with 1 torrent and with N, and the difference per torrent;
- RSS with the idle peers connected, per peer;
- CPU at idle over --idle-seconds (user+system ticks from /proc), with no
  peers and with the idle peers.

Usage: /usr/bin/python3 tools/bench/bench_many_torrents.py BUILD_DIR
       [--torrents N] [--idle-peers N] [--runs N] [--idle-seconds S]
Loopback only; every wait is bounded. Needs python3-libtorrent."""
import argparse
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import libtorrent as lt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine import describe  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("build_dir")
ap.add_argument("--torrents", type=int, default=1000)
ap.add_argument("--idle-peers", type=int, default=10000)
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--idle-seconds", type=float, default=10.0)
args = ap.parse_args()
if args.torrents < 1 or args.idle_peers < 0 or args.runs < 1 or args.idle_seconds <= 0:
    print("bench_many_torrents.py: --torrents, --runs and --idle-seconds must be positive",
          file=sys.stderr)
    sys.exit(2)
swarmdial = os.path.join(args.build_dir, "tools/swarmdial/swarmdial")
# Each idle peer is a socket here and one in the seeder.
need = args.idle_peers + 1024
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < need:
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(need, soft), max(need, hard)))
TICK = os.sysconf("SC_CLK_TCK")
tmp = tempfile.mkdtemp(prefix="sd_bench_many_", dir="/var/tmp")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def make_torrents(n, where):
    """n torrents of one 64 KiB file each (4 pieces of 16 KiB)."""
    os.makedirs(where)
    hashes = []
    for i in range(n):
        name = f"t{i:05d}.bin"
        with open(os.path.join(where, name), "wb") as f:
            f.write(os.urandom(65536))
        fs = lt.file_storage()
        lt.add_files(fs, os.path.join(where, name))
        t = lt.create_torrent(fs, 16384, flags=lt.create_torrent.v1_only)
        lt.set_piece_hashes(t, where)
        path = os.path.join(where, name + ".torrent")
        with open(path, "wb") as f:
            f.write(lt.bencode(t.generate()))
        hashes.append(bytes.fromhex(str(lt.torrent_info(path).info_hashes().v1)))
    return hashes


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def idle_cpu(pid, seconds):
    """Share of one core the process used over `seconds`."""
    t0, c0 = time.monotonic(), cpu_ticks(pid)
    time.sleep(seconds)
    return (cpu_ticks(pid) - c0) / TICK / (time.monotonic() - t0)


class Seeder:
    def __init__(self, tdir, state_dir=None, max_peers=1000):
        self.port = free_port()
        cmd = [swarmdial, "seed", "--torrents-dir", tdir, "--listen", f"127.0.0.1:{self.port}",
               "--quiet", "--max-peers", str(max_peers), "--duration", "3600"]
        if state_dir:
            cmd += ["--state-dir", state_dir]
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
        self.startup = self.wait_listening()

    def wait_listening(self, timeout=600):
        while time.monotonic() - self.t0 < timeout and self.proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return time.monotonic() - self.t0
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"the seeder did not listen (exit {self.proc.poll()})")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def connect_idle(port, hashes, n):
    """n peers, each handshaking for one torrent in turn; returns when every
    one has the seeder's handshake back (its session exists)."""
    peers = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"\x13BitTorrent protocol" + bytes(8) + hashes[i % len(hashes)] +
                  b"-XX0001-" + f"{i:012d}".encode())
        peers.append(s)
    answered = 0
    for s in peers:
        try:
            if len(s.recv(68, socket.MSG_WAITALL)) == 68:
                answered += 1
        except OSError:
            pass
    return peers, answered


print(describe())
print(f"features: swarmdial seed --torrents-dir, {args.torrents} torrents of 64 KiB "
      f"(4 pieces), {args.idle_peers} idle inbound peers, --state-dir for the restart")
try:
    many = os.path.join(tmp, "many")
    one = os.path.join(tmp, "one")
    hashes = make_torrents(args.torrents, many)
    make_torrents(1, one)
    cold, warm, rss_one, rss_many, per_torrent, per_peer, cpu_idle, cpu_peers = ([] for _ in range(8))
    answered_min = args.idle_peers
    for run in range(args.runs):
        state = os.path.join(tmp, f"state{run}")
        s = Seeder(one)
        time.sleep(1.0)
        rss_one.append(rss_kb(s.proc.pid))
        s.stop()

        s = Seeder(many, state)  # cold: every piece hashed, the state written
        cold.append(s.startup)
        s.stop()
        s = Seeder(many, state, max_peers=args.idle_peers + 100)  # warm: from the state
        warm.append(s.startup)
        time.sleep(1.0)
        rss_many.append(rss_kb(s.proc.pid))
        per_torrent.append((rss_many[-1] - rss_one[-1]) / max(1, args.torrents - 1))
        cpu_idle.append(idle_cpu(s.proc.pid, args.idle_seconds))
        if args.idle_peers:
            before = rss_kb(s.proc.pid)
            peers, answered = connect_idle(s.port, hashes, args.idle_peers)
            answered_min = min(answered_min, answered)
            time.sleep(1.0)
            per_peer.append((rss_kb(s.proc.pid) - before) / args.idle_peers)
            cpu_peers.append(idle_cpu(s.proc.pid, args.idle_seconds))
            for p in peers:
                p.close()
        s.stop()
        print(f"run {run + 1}: start-up cold {cold[-1]:.2f} s, from --state-dir {warm[-1]:.2f} s; "
              f"RSS 1 torrent {rss_one[-1] / 1024:.1f} MiB, {args.torrents} torrents "
              f"{rss_many[-1] / 1024:.1f} MiB ({per_torrent[-1]:.1f} KiB per torrent); "
              + (f"{per_peer[-1]:.2f} KiB per idle peer; " if per_peer else "")
              + f"idle CPU {cpu_idle[-1] * 100:.2f}% of a core"
              + (f", {cpu_peers[-1] * 100:.2f}% with the peers" if cpu_peers else ""), flush=True)
        shutil.rmtree(state, ignore_errors=True)

    med = statistics.median
    print(f"median of {args.runs}: start-up {args.torrents} torrents cold {med(cold):.2f} s, "
          f"with --state-dir {med(warm):.2f} s (ratio cold/resumed {med(cold) / med(warm):.2f}x)")
    print(f"median of {args.runs}: RSS {med(per_torrent):.1f} KiB per torrent "
          f"({med(rss_one) / 1024:.1f} MiB with one, {med(rss_many) / 1024:.1f} MiB with "
          f"{args.torrents})")
    if per_peer:
        print(f"median of {args.runs}: {med(per_peer):.2f} KiB RSS per idle peer "
              f"({args.idle_peers} peers, at least {answered_min} answered every run)")
    print(f"median of {args.runs}: idle CPU {med(cpu_idle) * 100:.2f}% of a core with "
          f"{args.torrents} torrents"
          + (f", {med(cpu_peers) * 100:.2f}% with {args.idle_peers} idle peers" if cpu_peers else ""))
finally:
    shutil.rmtree(tmp, ignore_errors=True)
