"""Two torrents, one shared half-open budget: one torrent with 5,000
black-holed peers, the other with 20 live ones (raw peer-wire listeners that
answer its handshake), all from one --peers-file that names each peer's
torrent, the dead ones first. Namespaces sd_* joined by a veth, 198.18.x;
the black holes are nftables drops in the peer namespace.
- --dial-order fair (the default): the live torrent's 20 peers are all
  connected (handshake answered) within a few seconds, while the dead
  torrent's dials hold most of the budget;
- --dial-order fifo: the same run, dials in arrival order: the live peers
  wait behind the dead ones (5,000 at 64 slots held 2 s each is 150 s).
Both are printed; fair must connect all 20 within 5 s, FIFO fewer in the
whole run."""
import os
import signal
import subprocess
import sys
import tempfile
import time

import libtorrent as lt

from sdtest import Check, NetnsPair, is_root, read_json, skip

if not is_root():
    skip("needs root for network namespaces")

SWARMDIAL = sys.argv[1]
check = Check("seed fair dials")
tmp = tempfile.mkdtemp(prefix="sd_fair_")
DEAD_PORTS = (10000, 14999)
LIVE_PORTS = range(20000, 20020)
RUN_S = 12

info = {}
for name, size in (("dead.bin", 40_000), ("live.bin", 50_000)):
    with open(os.path.join(tmp, name), "wb") as f:
        f.write(os.urandom(size))
    fs = lt.file_storage()
    lt.add_files(fs, os.path.join(tmp, name))
    t = lt.create_torrent(fs, 16384, flags=lt.create_torrent.v1_only)
    lt.set_piece_hashes(t, tmp)
    path = os.path.join(tmp, name + ".torrent")
    with open(path, "wb") as f:
        f.write(lt.bencode(t.generate()))
    info[name] = lt.torrent_info(path)

LIVE_PEERS = r"""
import selectors, socket, sys, time
want = bytes.fromhex(sys.argv[1]); ip = sys.argv[2]; ports = [int(p) for p in sys.argv[3:]]
sel = selectors.DefaultSelector()
for p in ports:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ip, p)); s.listen(16); s.setblocking(False); sel.register(s, selectors.EVENT_READ, "l")
print("ready", flush=True)
bufs = {}
while True:
    for key, _ in sel.select(1.0):
        s = key.fileobj
        if key.data == "l":
            c, _ = s.accept(); c.setblocking(False); bufs[c] = b""; sel.register(c, selectors.EVENT_READ, "c")
            continue
        try:
            d = s.recv(4096)
        except OSError:
            d = b""
        if not d:
            sel.unregister(s); s.close(); bufs.pop(s, None); continue
        if bufs.get(s) is None:
            continue  # answered already: keep the connection, ignore the rest
        bufs[s] += d
        if len(bufs[s]) >= 68:
            hs = bufs[s][:68]
            if hs[28:48] == want:
                s.sendall(hs[:28] + want + b"-LV0001-livepeer0000")
                print(f"{s.getsockname()[1]} {time.time():.3f}", flush=True)
                bufs[s] = None
            else:
                sel.unregister(s); s.close(); bufs.pop(s, None)
"""


def run(net, order):
    dead_hex = str(info["dead.bin"].info_hash())
    live_hex = str(info["live.bin"].info_hash())
    peers_file = os.path.join(tmp, "peers.txt")
    with open(peers_file, "w") as f:
        for port in range(DEAD_PORTS[0], DEAD_PORTS[1] + 1):
            f.write(f"{net.peer_ip}:{port} {dead_hex}\n")
        for port in LIVE_PORTS:
            f.write(f"{net.peer_ip}:{port} {live_hex}\n")
    live = subprocess.Popen(net.exec_prefix(net.peer) + ["/usr/bin/python3", "-c", LIVE_PEERS, live_hex, net.peer_ip,
                                                         *map(str, LIVE_PORTS)],
                            stdout=subprocess.PIPE, text=True)
    check.that(live.stdout.readline().strip() == "ready", f"{order}: live peers listen")
    summary = os.path.join(tmp, f"s_{order}.json")
    t0 = time.time()
    seed = subprocess.Popen(net.exec_prefix(net.dialer) + [
        SWARMDIAL, "seed", "--torrent", os.path.join(tmp, "dead.bin.torrent"), "--data", os.path.join(tmp, "dead.bin"),
        "--torrent", os.path.join(tmp, "live.bin.torrent"), "--data", os.path.join(tmp, "live.bin"),
        "--peers-file", peers_file, "--dial-order", order, "--half-open", "64", "--timeout", "2000",
        "--rate", "2000", "--shards", "1", "--workers", "1", "--redials", "0", "--duration", str(RUN_S),
        "--summary", summary, "--quiet"], stderr=subprocess.PIPE, text=True)
    try:
        rc = seed.wait(timeout=RUN_S + 30)
    finally:
        if seed.poll() is None:
            seed.kill()
        live.send_signal(signal.SIGTERM)
    out = live.communicate(timeout=10)[0]
    times = sorted(float(line.split()[1]) - t0 for line in out.splitlines() if len(line.split()) == 2)
    check.that(rc == 0, f"{order}: seed exit {rc}: {seed.stderr.read()}")
    s = read_json(summary)
    per = {t["name"]: t for t in s["seed"]["torrents"]}
    dialled = s["outcomes"]
    last = f"{times[-1]:.2f} s" if times else "-"
    print(f"{order}: {len(times)}/20 live peers connected, last after {last}; "
          f"live torrent served {per['live.bin']['peers_served']} peers; dials {dialled}; "
          f"dial queue {s['seed']['dials']}")
    return times, per


net = NetnsPair("fair", subnet=77, drop_ports=DEAD_PORTS)
try:
    fair_times, fair = run(net, "fair")
    fifo_times, fifo = run(net, "fifo")
finally:
    net.close()

check.that(len(fair_times) == 20 and fair_times[-1] < 5.0,
           f"fair: all 20 live peers connect within 5 s: {len(fair_times)}, {fair_times[-1:]} s")
check.that(fair["live.bin"]["peers_served"] == 20, f"fair: 20 sessions of the live torrent: {fair['live.bin']}")
check.that(len(fifo_times) < 20, f"fifo: the live peers wait behind the dead ones ({len(fifo_times)} connected)")
check.done()
