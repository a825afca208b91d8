"""`swarmdial seed --backend dpdk` serves python3-libtorrent leechers in the
peer namespace to completion, byte-identical: one that swarmdial dials
(userspace handshake, then a repaired kernel socket for the worker pool)
and one that dials swarmdial's --listen address (an inbound connection,
which reaches the kernel listener through the TAP exception path).
SIGTERM then ends the run with exit 0 and a summary.
Run with Debian's /usr/bin/python3 (libtorrent)."""
import filecmp
import os
import signal
import subprocess
import sys
import tempfile
import time

try:
    import libtorrent as lt
except ImportError:
    print("SKIP: python3-libtorrent is not installed")
    sys.exit(77)

from dpdk_net import DpdkNet, skip_unless_dpdk
from sdtest import SWARMDIAL, Check, read_json

skip_unless_dpdk(SWARMDIAL)

HERE = os.path.dirname(os.path.abspath(__file__))
check = Check("dpdk seed")
tmp = tempfile.mkdtemp(prefix="sd_dpdkseed_")
net = DpdkNet("dseed", subnet=26)
seed_proc = None
try:
    data = os.path.join(tmp, "data")
    os.makedirs(os.path.join(data, "set"))
    sizes = {"a.bin": 3 * 1024 * 1024 + 12345, "b.bin": 1024 * 1024}
    for name, size in sizes.items():
        with open(os.path.join(data, "set", name), "wb") as f:
            f.write(os.urandom(size))
    fs = lt.file_storage()
    lt.add_files(fs, os.path.join(data, "set"))
    t = lt.create_torrent(fs, 64 * 1024, flags=lt.create_torrent.v1_only)
    lt.set_piece_hashes(t, data)
    torrent = os.path.join(tmp, "t.torrent")
    with open(torrent, "wb") as f:
        f.write(lt.bencode(t.generate()))

    listen_port = 6882
    dialed_dir, dialing_dir = os.path.join(tmp, "dialed"), os.path.join(tmp, "dialing")
    os.makedirs(dialed_dir)
    os.makedirs(dialing_dir)
    helper = os.path.join(HERE, "netns_libtorrent.py")
    # A: waits on 6881 for swarmdial to dial it. B: dials swarmdial's listener.
    leech_a = net.start_in_peer([sys.executable, helper, "leech", torrent, dialed_dir, net.peer_ip,
                                 6881, net.engine_ip, 0, 60])
    summary = os.path.join(tmp, "summary.json")
    seed_proc = subprocess.Popen(net.in_engine([
        SWARMDIAL, "seed", "--backend", "dpdk", "--shards", "1", "--source", f"{net.engine_ip}/32",
        "--dpdk", net.eal_args(1), "--torrent", torrent, "--data", data, "--listen",
        f"{net.engine_ip}:{listen_port}", "--peers", f"{net.peer_ip}:6881", "--timeout", "1000",
        "--summary", summary, "--quiet"]), stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)  # EAL, the TAP and the listener
    leech_b = net.start_in_peer([sys.executable, helper, "leech", torrent, dialing_dir,
                                 net.peer_ip, 6891, net.engine_ip, listen_port, 60])
    for name, proc in (("dialed", leech_a), ("dialing", leech_b)):
        line = proc.stdout.readline().strip()
        check.that(line == "done", f"{name} leecher: {line!r}")
    for name, d in (("dialed", dialed_dir), ("dialing", dialing_dir)):
        for rel in sizes:
            got = os.path.join(d, "set", rel)
            check.that(os.path.exists(got) and filecmp.cmp(got, os.path.join(data, "set", rel),
                                                            shallow=False),
                       f"{name} leecher: {rel} differs from the seed's copy")
    seed_proc.send_signal(signal.SIGTERM)
    rc = seed_proc.wait(timeout=20)
    err = seed_proc.stderr.read()
    check.that(rc == 0, f"seed exit {rc}: {err[-400:]}")
    s = read_json(summary)
    print(f"summary: outcomes {s.get('outcomes')} wire {s.get('wire')}")
    check.that(s["backend"] == "dpdk", f"summary backend {s['backend']}")
    check.that(s["outcomes"]["established"] >= 1, f"summary outcomes {s['outcomes']}")
    check.that(s["wire"]["to_kernel"] > 0 and s["wire"]["from_kernel"] > 0,
               f"summary wire {s['wire']}")
    check.that(s["wire"]["repair_failed"] == 0, f"summary wire {s['wire']}")
finally:
    if seed_proc and seed_proc.poll() is None:
        seed_proc.kill()
        seed_proc.wait()
    net.close()
check.done()
