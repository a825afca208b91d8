"""The dpdk backend's handoff: handshakes done in userspace become kernel
sockets through TCP_REPAIR, and the flows' later packets travel through the
TAP exception path. swarmdial (or the echo client built on the same glue)
runs in an sd_* namespace on net_af_packet; real peers in the other.

1. echo: 16 MiB each way through one repaired socket, every byte checked,
   and the same over a plain kernel connect() on the same veth: the
   throughput of each is printed.
2. --hold on two shards (two af_packet queues, so some handshakes and
   flows cross shards through the steering rings): N flows are handed off
   and held; the peer's kernel shows N ESTABLISHED connections from the
   engine's address.
3. --bt-infohash against python3-libtorrent seeding in the peer namespace:
   bt_ok and the client's name from its peer_id, over the repaired socket.
Run with Debian's /usr/bin/python3 (libtorrent)."""
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

try:
    import libtorrent as lt
except ImportError:
    print("SKIP: python3-libtorrent is not installed")
    sys.exit(77)

from dpdk_net import HERE as INTEGRATION_DIR
from dpdk_net import DpdkNet, skip_unless_dpdk
from sdtest import SWARMDIAL, Check, read_json

skip_unless_dpdk(SWARMDIAL)
# meson passes the echo client's path; by hand it sits in the same build tree.
ECHO_CLIENT = os.environ.get("SWARMDIAL_ECHO_CLIENT") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(SWARMDIAL)), "../../tests/dpdk/dpdk_echo_client"))

check = Check("dpdk handoff")
tmp = tempfile.mkdtemp(prefix="sd_handoff_")
net = DpdkNet("hand", subnet=24)
HERE = os.path.dirname(os.path.abspath(__file__))


def dial(args, timeout=60):
    cmd = [SWARMDIAL, "dial", "--backend", "dpdk", "--shards", "1", "--source",
                          f"{net.engine_ip}/32", "--dpdk", net.eal_args(1)] + [str(a) for a in args]
    return subprocess.run(net.in_engine(cmd), capture_output=True, text=True, timeout=timeout)


try:
    # 1. echo through the TAP path, then the plain baseline.
    net.start_in_peer([sys.executable, os.path.join(INTEGRATION_DIR, "peer_echo.py"),
                       net.peer_ip, 6200])
    size = 16 << 20
    r = subprocess.run(net.in_engine([ECHO_CLIENT, net.eal_args(1), net.engine_ip, net.peer_ip,
                                      6200, size]), capture_output=True, text=True, timeout=120)
    tap = json.loads(r.stdout.strip().splitlines()[-1]) if r.stdout.strip() else {}
    check.that(r.returncode == 0 and tap.get("echoed") == size,
               f"echo over TAP: exit {r.returncode} {tap} {r.stderr[-400:]}")
    check.that(tap.get("repair_failed") == 0, f"echo: repair failures {tap}")
    check.that(tap.get("to_kernel", 0) > 0 and tap.get("from_kernel", 0) > 0,
               f"echo: frames did not cross the exception path {tap}")
    # The baseline: the kernel's own address on the same veth, no swarmdial.
    subprocess.run(["ip", "-n", net.engine, "addr", "add", "198.18.24.2/24", "dev",
                    net.engine_if], check=True)
    r = subprocess.run(net.in_engine([ECHO_CLIENT, "--plain", "-", "198.18.24.2", net.peer_ip,
                                      6200, size]), capture_output=True, text=True, timeout=120)
    subprocess.run(["ip", "-n", net.engine, "addr", "del", "198.18.24.2/24", "dev",
                    net.engine_if], check=True)
    plain = json.loads(r.stdout.strip().splitlines()[-1]) if r.stdout.strip() else {}
    check.that(r.returncode == 0 and plain.get("echoed") == size, f"plain echo: {plain}")
    if tap.get("seconds") and plain.get("seconds"):
        t_rate, p_rate = 2 * size / tap["seconds"] / 1e6, 2 * size / plain["seconds"] / 1e6
        print(f"echo 16 MiB each way: TAP path {t_rate:.1f} MB/s, plain connect() "
              f"{p_rate:.1f} MB/s, ratio {t_rate / p_rate:.2f}x")

    # 2. --hold: flows stay established on the peer's side while held.
    net.listeners(6000, 10, keep=True)
    out, summary = os.path.join(tmp, "hold.csv"), os.path.join(tmp, "hold.json")
    p = subprocess.Popen(net.in_engine([
        SWARMDIAL, "dial", "--backend", "dpdk", "--shards", "2", "--source", f"{net.engine_ip}/32",
        "--dpdk", net.eal_args(2), "--range", f"{net.peer_ip}/32:6000-6009,5000-5004", "--hold",
        "--duration", "4", "--timeout", "1000", "--output", out, "--summary", summary,
        "--quiet"]), stderr=subprocess.PIPE, text=True)
    time.sleep(2.5)
    ss = subprocess.run(net.in_peer(["ss", "-Htn", "state", "established", "dst",
                                     net.engine_ip]), capture_output=True, text=True).stdout
    established_at_peer = len([line for line in ss.splitlines() if line.strip()])
    rc = p.wait(timeout=30)
    check.that(rc == 0, f"hold: exit {rc} {p.stderr.read()[-400:]}")
    s = read_json(summary)
    check.that(s["outcomes"]["established"] == 10 and s["outcomes"]["refused"] == 5,
               f"hold: outcomes {s['outcomes']}")
    check.that(s.get("hold", {}).get("held") == 10, f"hold: summary {s.get('hold')}")
    check.that(established_at_peer == 10,
               f"hold: the peer sees {established_at_peer} established connections, want 10")
    check.that(s["wire"]["repair_failed"] == 0, f"hold: wire {s['wire']}")
    print(f"hold: peer sees {established_at_peer} established; wire {s['wire']}")

    # 3. --bt-infohash against libtorrent in the peer namespace.
    data = os.path.join(tmp, "data")
    os.makedirs(data)
    with open(os.path.join(data, "payload.bin"), "wb") as f:
        f.write(os.urandom(256 * 1024))
    fs = lt.file_storage()
    lt.add_files(fs, os.path.join(data, "payload.bin"))
    t = lt.create_torrent(fs, 16384)
    lt.set_piece_hashes(t, data)
    torrent = os.path.join(tmp, "t.torrent")
    with open(torrent, "wb") as f:
        f.write(lt.bencode(t.generate()))
    info_hash = str(lt.torrent_info(torrent).info_hashes().v1)
    net.start_in_peer([sys.executable, os.path.join(HERE, "netns_libtorrent.py"), "seed", torrent,
                       data, net.peer_ip, 6881])
    out = os.path.join(tmp, "bt.csv")
    r = dial(["--range", f"{net.peer_ip}/32:6881", "--bt-infohash", info_hash, "--bt-timeout",
              "3000", "--timeout", "1000", "--output", out, "--quiet"])
    check.that(r.returncode == 0, f"bt: exit {r.returncode} {r.stderr[-400:]}")
    rows = list(csv.DictReader(open(out))) if os.path.exists(out) else []
    row = rows[0] if rows else {}
    check.that(row.get("outcome") == "established" and row.get("bt") == "bt_ok",
               f"bt: row {row}")
    check.that(row.get("client", "").startswith("libtorrent"), f"bt: client {row.get('client')}")

finally:
    net.close()
check.done()
