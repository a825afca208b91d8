#!/usr/bin/python3
"""Seeding throughput on loopback: one python3-libtorrent leecher downloads a
torrent (default 1 GiB, 4 files, 1 MiB pieces... see --size) from
`swarmdial seed`, then from aria2c seeding the same data, alternating, in one
run. Prints the download times, their medians and the ratio
(aria2 time / swarmdial time: > 1 means swarmdial is faster).
The same download encrypted (MSE/PE, RC4 forced on the leecher) against
plaintext, side by side: download times and the seeder's own CPU time per
MiB, so the cost of RC4 per byte on the seeding side is read directly
(the leecher decrypts on the same machine, so the time ratio includes its
share too).
Then: memory per connected peer, from swarmdial's RSS with 1,000 idle peers
that completed the handshake.

Usage: /usr/bin/python3 tools/bench/bench_seed.py BUILD_DIR [--size-mib N] [--runs N]
Loopback only; every run is bounded by a timeout."""
import argparse
import os
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

import libtorrent as lt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine import describe  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("build_dir")
ap.add_argument("--size-mib", type=int, default=1024)
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--idle-peers", type=int, default=1000)
args = ap.parse_args()
swarmdial = os.path.join(args.build_dir, "tools/swarmdial/swarmdial")
tmp = tempfile.mkdtemp(prefix="sd_bench_seed_", dir="/var/tmp")
print(describe())
print(f"libtorrent {lt.__version__} leecher; features: io_uring send (and SEND_ZC), "
      f"MSE/PE with OpenSSL RC4 (legacy provider)")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, proc, timeout=120):
    t0 = time.time()
    while time.time() - t0 < timeout and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"port {port} never opened")


# --- data and torrent -------------------------------------------------------
total = args.size_mib * 1024 * 1024
os.makedirs(os.path.join(tmp, "set"))
chunk = os.urandom(1 << 20)
for i in range(4):
    with open(os.path.join(tmp, "set", f"part{i}.bin"), "wb") as f:
        for _ in range(total // 4 // len(chunk)):
            f.write(chunk[i:] + chunk[:i])  # distinct pieces, cheap to write
fs = lt.file_storage()
lt.add_files(fs, os.path.join(tmp, "set"))
t = lt.create_torrent(fs, 1 << 20, flags=lt.create_torrent.v1_only)
lt.set_piece_hashes(t, tmp)
torrent = os.path.join(tmp, "t.torrent")
with open(torrent, "wb") as f:
    f.write(lt.bencode(t.generate()))
print(f"torrent: {total / 2**20:.0f} MiB in 4 files, 1 MiB pieces")


def leech(port, rc4=False):
    dl = os.path.join(tmp, "dl")
    shutil.rmtree(dl, ignore_errors=True)
    # enc policy 0 forced, 2 disabled; allowed_enc_level 2: RC4 only.
    enc = ({"out_enc_policy": 0, "in_enc_policy": 0, "allowed_enc_level": 2, "prefer_rc4": True}
           if rc4 else {"out_enc_policy": 2, "in_enc_policy": 2})
    ses = lt.session({"listen_interfaces": "127.0.0.1:0", "enable_dht": False, "enable_lsd": False,
                      "enable_upnp": False, "enable_natpmp": False, **enc,
                      "enable_outgoing_utp": False, "alert_mask": 0})
    h = ses.add_torrent({"ti": lt.torrent_info(torrent), "save_path": dl})
    time.sleep(1.0)
    t0 = time.time()
    h.connect_peer(("127.0.0.1", port))
    while not h.status().is_seeding:
        if time.time() - t0 > 600:
            sys.exit("download timed out")
        time.sleep(0.05)
    took = time.time() - t0
    del ses
    shutil.rmtree(dl, ignore_errors=True)
    return took


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


seeder_cpu = {"plain": [], "rc4": []}


def run_swarmdial(zero_copy=False, rc4=False):
    port = free_port()
    p = subprocess.Popen([swarmdial, "seed", "--torrent", torrent, "--data", tmp, "--listen",
                          f"127.0.0.1:{port}", "--quiet", "--workers", "1"] +
                         (["--send-zc"] if zero_copy else []))
    wait_port(port, p)
    try:
        c0 = cpu_s(p.pid)
        took = leech(port, rc4)
        if not zero_copy:
            seeder_cpu["rc4" if rc4 else "plain"].append(cpu_s(p.pid) - c0)
        return took
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(timeout=30)


def run_aria2():
    port = free_port()
    p = subprocess.Popen(["aria2c", "-V", "--seed-ratio=0.0", "--seed-time=100", f"--dir={tmp}",
                          f"--listen-port={port}", "--enable-dht=false", "--bt-enable-lpd=false",
                          "--summary-interval=0", "--console-log-level=error", "--bt-max-peers=0",
                          torrent], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, p)
    try:
        return leech(port)
    finally:
        p.kill()
        p.wait()


times = {"swarmdial": [], "swarmdial_zc": [], "swarmdial_rc4": [], "aria2": []}
for r in range(args.runs):
    times["swarmdial"].append(run_swarmdial())
    times["swarmdial_zc"].append(run_swarmdial(zero_copy=True))
    times["swarmdial_rc4"].append(run_swarmdial(rc4=True))
    times["aria2"].append(run_aria2())
    print(f"run {r + 1}: swarmdial {times['swarmdial'][-1]:.2f} s, swarmdial --send-zc "
          f"{times['swarmdial_zc'][-1]:.2f} s, swarmdial RC4 {times['swarmdial_rc4'][-1]:.2f} s, "
          f"aria2 {times['aria2'][-1]:.2f} s")
ms, ma = statistics.median(times["swarmdial"]), statistics.median(times["aria2"])
mz = statistics.median(times["swarmdial_zc"])
print(f"median download time: swarmdial {ms:.2f} s ({total / ms / 1e6:.0f} MB/s), "
      f"aria2 {ma:.2f} s ({total / ma / 1e6:.0f} MB/s); ratio aria2/swarmdial {ma / ms:.2f}x")
print(f"zero-copy: send_zc {mz:.2f} s vs plain send {ms:.2f} s: ratio plain/zc {ms / mz:.2f}x")
mr = statistics.median(times["swarmdial_rc4"])
cp, cr = statistics.median(seeder_cpu["plain"]), statistics.median(seeder_cpu["rc4"])
mib = total / 2**20
print(f"encryption (MSE/PE, RC4): download {mr:.2f} s vs plaintext {ms:.2f} s "
      f"({total / mr / 1e6:.0f} vs {total / ms / 1e6:.0f} MB/s, ratio plain/rc4 {ms / mr:.2f}x); "
      f"seeder CPU {cr * 1e3 / mib:.2f} vs {cp * 1e3 / mib:.2f} ms per MiB "
      f"(RC4 costs {(cr - cp) * 1e9 / total:.2f} ns per byte on the seeding side)")

# --- memory per idle peer ---------------------------------------------------
port = free_port()
p = subprocess.Popen([swarmdial, "seed", "--torrent", torrent, "--data", tmp, "--listen",
                      f"127.0.0.1:{port}", "--quiet", "--workers", "1", "--max-peers", "5000"])
wait_port(port, p)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))


info = lt.torrent_info(torrent)
ih = bytes.fromhex(str(info.info_hashes().v1))
time.sleep(0.5)
before = rss_kb(p.pid)
peers = []
for i in range(args.idle_peers):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"\x13BitTorrent protocol" + bytes(8) + ih + b"-XX0001-" + f"{i:012d}".encode())
    peers.append(s)
for s in peers:
    s.settimeout(5)
    s.recv(68)  # their handshake arrived, so the session exists
time.sleep(1.0)
after = rss_kb(p.pid)
print(f"memory: {args.idle_peers} idle peers add {(after - before) / 1024:.1f} MB RSS, "
      f"{(after - before) * 1024 / args.idle_peers / 1024:.2f} KiB per peer")
for s in peers:
    s.close()
p.send_signal(signal.SIGINT)
p.wait(timeout=30)
shutil.rmtree(tmp, ignore_errors=True)
