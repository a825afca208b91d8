"""`swarmdial seed --backend dpdk` serves python3-libtorrent leechers in the
peer namespace to completion, byte-identical: one that swarmdial dials
(userspace handshake, then a repaired kernel socket for the worker pool)
and one that dials swarmdial's --listen address (an inbound connection,
which reaches the kernel listener through the exception path). Over both
exception paths: net_af_packet + TAP, and net_af_xdp + swarmdial's XDP
program (the flows then never pass through the engine).
SIGTERM then ends each run with exit 0 and a summary.
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


def make_torrent():
    data = os.path.join(tmp, "data")
    os.makedirs(os.path.join(data, "set"))
    for name, size in SIZES.items():
        with open(os.path.join(data, "set", name), "wb") as f:
            f.write(os.urandom(size))
    fs = lt.file_storage()
    lt.add_files(fs, os.path.join(data, "set"))
    t = lt.create_torrent(fs, 64 * 1024, flags=lt.create_torrent.v1_only)
    lt.set_piece_hashes(t, data)
    torrent = os.path.join(tmp, "t.torrent")
    with open(torrent, "wb") as f:
        f.write(lt.bencode(t.generate()))
    return torrent, data


def seed_run(driver, torrent, data, base_port):
    global seed_proc
    listen_port = base_port + 1
    dialed_dir = os.path.join(tmp, f"dialed_{driver}")
    dialing_dir = os.path.join(tmp, f"dialing_{driver}")
    os.makedirs(dialed_dir)
    os.makedirs(dialing_dir)
    helper = os.path.join(HERE, "netns_libtorrent.py")
    # A: waits on base_port for swarmdial to dial it. B: dials swarmdial's listener.
    # On af_packet, A's port first belongs to a peer that accepts swarmdial
    # once and closes (a client not ready yet): A is served only because
    # swarmdial dials again. On af_xdp, A starts just before swarmdial does,
    # as a test that raced before re-dials did.
    once = None
    if driver == "af_packet":
        once = net.start_in_peer([sys.executable, os.path.join(HERE, "accept_once.py"),
                                  net.peer_ip, base_port, 30])
    else:
        leech_a = net.start_in_peer([sys.executable, helper, "leech", torrent, dialed_dir,
                                     net.peer_ip, base_port, net.engine_ip, 0, 60])
    summary = os.path.join(tmp, f"summary_{driver}.json")
    seed_proc = subprocess.Popen(net.in_engine([
        SWARMDIAL, "seed", "--backend", "dpdk", "--shards", "1", "--source", f"{net.engine_ip}/32",
        "--dpdk", net.eal_args(1, driver=driver), "--torrent", torrent, "--data", data,
        "--listen", f"{net.engine_ip}:{listen_port}", "--peers", f"{net.peer_ip}:{base_port}",
        "--timeout", "1000", "--redial-delay", "500", "--summary", summary, "--quiet"]), stderr=subprocess.PIPE, text=True)
    if once:
        line = once.stdout.readline().strip()
        check.that(line == "closed", f"{driver}: swarmdial's first dial was turned away: {line!r}")
        leech_a = net.start_in_peer([sys.executable, helper, "leech", torrent, dialed_dir,
                                     net.peer_ip, base_port, net.engine_ip, 0, 60])
    time.sleep(1.5)  # EAL, the exception path and the listener
    leech_b = net.start_in_peer([sys.executable, helper, "leech", torrent, dialing_dir,
                                 net.peer_ip, base_port + 10, net.engine_ip, listen_port, 60])
    for name, proc in (("dialed", leech_a), ("dialing", leech_b)):
        line = proc.stdout.readline().strip()
        check.that(line == "done", f"{driver}: {name} leecher: {line!r}")
    for name, d in (("dialed", dialed_dir), ("dialing", dialing_dir)):
        for rel in SIZES:
            got = os.path.join(d, "set", rel)
            check.that(os.path.exists(got) and filecmp.cmp(got, os.path.join(data, "set", rel),
                                                            shallow=False),
                       f"{driver}: {name} leecher: {rel} differs from the seed's copy")
    seed_proc.send_signal(signal.SIGTERM)
    rc = seed_proc.wait(timeout=20)
    err = seed_proc.stderr.read()
    check.that(rc == 0, f"{driver}: seed exit {rc}: {err[-400:]}")
    s = read_json(summary)
    print(f"{driver}: outcomes {s.get('outcomes')} wire {s.get('wire')}")
    check.that(s["backend"] == "dpdk", f"summary backend {s['backend']}")
    check.that(s["outcomes"]["established"] >= 1, f"{driver}: outcomes {s['outcomes']}")
    if once:
        r = s["seed"]["redial"]
        # The peer closes with our handshake unread or not: a reset
        # (io_error) or a FIN (peer_closed), both re-dialled.
        turned_away = r["by_cause"].get("peer_closed", 0) + r["by_cause"].get("io_error", 0)
        check.that(turned_away >= 1 and s["outcomes"]["established"] >= 2,
                   f"{driver}: dialled again after the peer closed: {r}")
    w = s["wire"]
    if driver == "af_packet":
        check.that(w["to_kernel"] > 0 and w["from_kernel"] > 0, f"{driver}: wire {w}")
    else:
        check.that(w["to_kernel"] == 0 and w["from_kernel"] == 0 and
                   w["neighbours_to_kernel"] > 0, f"{driver}: wire {w}")
    check.that(w["repair_failed"] == 0, f"{driver}: wire {w}")


SIZES = {"a.bin": 3 * 1024 * 1024 + 12345, "b.bin": 1024 * 1024}
try:
    torrent, data = make_torrent()
    for i, driver in enumerate(("af_packet", "af_xdp")):
        seed_run(driver, torrent, data, 6881 + 100 * i)
finally:
    if seed_proc and seed_proc.poll() is None:
        seed_proc.kill()
        seed_proc.wait()
    net.close()
check.done()
