"""The dpdk backend's handoff: handshakes done in userspace become kernel
sockets through TCP_REPAIR, over both exception paths, chosen by the port:
net_af_packet uses the TAP path (the flows' later packets pass through the
shards and a TAP), net_af_xdp uses swarmdial's XDP program (it takes only
the handshakes from the wire; the kernel gets the rest directly).
swarmdial (or the echo client built on the same glue) runs in an sd_*
namespace on the veth; real peers in the other. For each path:

1. echo: 16 MiB each way through one repaired socket, every byte checked;
   then the same over a plain kernel connect() on the same veth, and the
   throughput of each is printed. On the AF_XDP path no frame of the flow
   may pass through the engine.
2. --hold (on the TAP path over two shards, two af_packet queues, so some
   handshakes and flows cross shards through the steering rings; DPDK
   22.11's net_af_xdp gives a veth one queue), with listening, closed,
   dropped and ICMP-rejected ports: exact outcomes, and the peer's kernel sees every
   held flow ESTABLISHED. On the AF_XDP path, while it runs: the engine's
   address on the wire interface, its ports in ip_local_reserved_ports,
   the peer in the kernel's neighbour table; after it: all of that undone
   and the XDP program detached. On the TAP path GRO is off on the wire
   interface while it runs, and back on after.
The peer keeps veth's default offloads: partial TCP checksums, and GSO
frames of up to 64 KB on the handed-off flows (the TAP path segments them).
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
SIZE = 16 << 20
PATHS = {"af_packet": "TAP path", "af_xdp": "AF_XDP path"}


def dial(driver, args, shards=1, timeout=60):
    cmd = [SWARMDIAL, "dial", "--backend", "dpdk", "--shards", shards, "--source",
           f"{net.engine_ip}/32", "--dpdk", net.eal_args(shards, driver=driver)] + list(args)
    return [str(c) for c in cmd]


def last_json(text):
    lines = text.strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


def engine_state():
    """What the engine namespace's kernel shows of an exception path."""
    run = lambda cmd: subprocess.run(net.in_engine(cmd), capture_output=True, text=True).stdout
    return {
        "gro": "generic-receive-offload: on" in run(["ethtool", "-k", net.engine_if]),
        "reserved": run(["cat", "/proc/sys/net/ipv4/ip_local_reserved_ports"]).strip(),
        "addresses": run(["ip", "-4", "-o", "addr", "show", "dev", net.engine_if]),
        "xdp": "xdp" in run(["ip", "link", "show", "dev", net.engine_if]),
        "neighbour": run(["ip", "neigh", "show", net.peer_ip, "dev", net.engine_if]),
    }


def echo_test(driver, plain_rate):
    name = PATHS[driver]
    r = subprocess.run(net.in_engine([ECHO_CLIENT, net.eal_args(1, driver=driver), net.engine_ip,
                                      net.peer_ip, 6200, SIZE]),
                       capture_output=True, text=True, timeout=120)
    res = last_json(r.stdout)
    check.that(r.returncode == 0 and res.get("echoed") == SIZE,
               f"echo over {name}: exit {r.returncode} {res} {r.stderr[-400:]}")
    check.that(res.get("repair_failed") == 0, f"echo over {name}: repair failures {res}")
    if driver == "af_packet":
        check.that(res.get("to_kernel", 0) > 0 and res.get("from_kernel", 0) > 0,
                   f"echo: frames did not cross the TAP path {res}")
    else:
        check.that(res.get("to_kernel") == 0 and res.get("from_kernel") == 0,
                   f"echo: the AF_XDP path's flow went through the engine {res}")
    if res.get("seconds") and plain_rate:
        rate = 2 * SIZE / res["seconds"] / 1e6
        print(f"echo 16 MiB each way: {name} {rate:.1f} MB/s, plain connect() "
              f"{plain_rate:.1f} MB/s, ratio {rate / plain_rate:.2f}x")


def plain_echo():
    """The baseline: the kernel's own address on the same veth, no swarmdial."""
    subprocess.run(["ip", "-n", net.engine, "addr", "add", "198.18.24.2/24", "dev",
                    net.engine_if], check=True)
    r = subprocess.run(net.in_engine([ECHO_CLIENT, "--plain", "-", "198.18.24.2", net.peer_ip,
                                      6200, SIZE]), capture_output=True, text=True, timeout=120)
    subprocess.run(["ip", "-n", net.engine, "addr", "del", "198.18.24.2/24", "dev",
                    net.engine_if], check=True)
    plain = last_json(r.stdout)
    check.that(r.returncode == 0 and plain.get("echoed") == SIZE, f"plain echo: {plain}")
    return 2 * SIZE / plain["seconds"] / 1e6 if plain.get("seconds") else None


# Each path dials its own peers: a flow held by the first run is still
# ESTABLISHED on the peer's side (its closing FIN had no shard left to carry
# it), and a SYN on the same 4-tuple would only get a challenge ACK.
LISTEN_BASE = {"af_packet": 6000, "af_xdp": 6010}
BT_PORT = {"af_packet": 6881, "af_xdp": 6882}


def hold_test(driver):
    name = PATHS[driver]
    listen = LISTEN_BASE[driver]
    if driver == "af_packet":  # a packet socket must not see GRO's merged frames
        subprocess.run(net.in_engine(["ethtool", "-K", net.engine_if, "gro", "on"]), check=True)
    before = engine_state()
    out = os.path.join(tmp, f"hold_{driver}.csv")
    summary = os.path.join(tmp, f"hold_{driver}.json")
    p = subprocess.Popen(net.in_engine(dial(driver, [
        "--range", f"{net.peer_ip}/32:{listen}-{listen + 9},5000-5004,7000-7002,8000-8002", "--hold",
        "--duration", "4", "--timeout", "1000", "--output", out, "--summary", summary,
        "--quiet"], shards=2 if driver == "af_packet" else 1)), stderr=subprocess.PIPE,
        text=True)
    time.sleep(2.5)
    during = engine_state()
    ss = subprocess.run(net.in_peer(["ss", "-Htn", "state", "established", "dst", net.engine_ip,
                                     "(", "sport", ">=", f":{listen}", "and", "sport", "<=",
                                     f":{listen + 9}", ")"]), capture_output=True, text=True).stdout
    established_at_peer = len([line for line in ss.splitlines() if line.strip()])
    rc = p.wait(timeout=30)
    after = engine_state()
    check.that(rc == 0, f"hold over {name}: exit {rc} {p.stderr.read()[-400:]}")
    s = read_json(summary) if os.path.exists(summary) else {"outcomes": {}, "wire": {}}
    want = {"established": 10, "refused": 5, "timeout": 3, "unreachable": 3}
    got = {k: s["outcomes"].get(k) for k in want}
    check.that(got == want, f"hold over {name}: outcomes {s['outcomes']}, want {want}")
    check.that(s.get("hold", {}).get("held") == 10, f"hold over {name}: summary {s.get('hold')}")
    check.that(established_at_peer == 10, f"hold over {name}: the peer sees "
               f"{established_at_peer} established connections, want 10")
    check.that(s["wire"].get("repair_failed") == 0, f"hold over {name}: wire {s['wire']}")
    if driver == "af_packet":
        check.that(before["gro"] and not during["gro"] and after["gro"],
                   f"hold: GRO on the wire interface before/during/after: {before['gro']} "
                   f"{during['gro']} {after['gro']}, want on/off/on")
        subprocess.run(net.in_engine(["ethtool", "-K", net.engine_if, "gro", "off"]), check=True)
    if driver == "af_xdp":
        check.that(during["xdp"] and not after["xdp"],
                   f"hold: XDP program attached during the run / detached after: "
                   f"{during['xdp']} / {after['xdp']}")
        check.that("20000-" in during["reserved"] and after["reserved"] == before["reserved"],
                   f"hold: reserved ports before {before['reserved']!r} during "
                   f"{during['reserved']!r} after {after['reserved']!r}")
        check.that(net.engine_ip in during["addresses"] and net.engine_ip not in after["addresses"],
                   f"hold: engine address on the wire interface during {during['addresses']!r} "
                   f"after {after['addresses']!r}")
        check.that("lladdr" in during["neighbour"] and s["wire"].get("neighbours_to_kernel", 0) > 0,
                   f"hold: the kernel did not get the peer's MAC: {during['neighbour']!r} "
                   f"wire {s['wire']}")
        check.that(s["wire"].get("to_kernel") == 0 and s["wire"].get("from_kernel") == 0,
                   f"hold: frames forwarded on the AF_XDP path {s['wire']}")
    print(f"hold over {name}: peer sees {established_at_peer} established; outcomes {got}")


def bt_test(driver, torrent, info_hash):
    name = PATHS[driver]
    out = os.path.join(tmp, f"bt_{driver}.csv")
    r = subprocess.run(net.in_engine(dial(driver, [
        "--range", f"{net.peer_ip}/32:{BT_PORT[driver]}", "--bt-infohash", info_hash,
        "--bt-timeout", "3000",
        "--timeout", "1000", "--output", out, "--quiet"])), capture_output=True, text=True,
        timeout=60)
    check.that(r.returncode == 0, f"bt over {name}: exit {r.returncode} {r.stderr[-400:]}")
    rows = list(csv.DictReader(open(out))) if os.path.exists(out) else []
    row = rows[0] if rows else {}
    check.that(row.get("outcome") == "established" and row.get("bt") == "bt_ok",
               f"bt over {name}: row {row}")
    check.that(row.get("client", "").startswith("libtorrent"),
               f"bt over {name}: client {row.get('client')}")


try:
    net.start_in_peer([sys.executable, os.path.join(INTEGRATION_DIR, "peer_echo.py"),
                       net.peer_ip, 6200])
    net.listeners(6000, 20, keep=True)
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
    for port in BT_PORT.values():
        net.start_in_peer([sys.executable, os.path.join(HERE, "netns_libtorrent.py"), "seed",
                           torrent, data, net.peer_ip, port])

    plain_rate = plain_echo()
    for driver in PATHS:
        echo_test(driver, plain_rate)
        hold_test(driver)
        bt_test(driver, torrent, info_hash)

    # A wire interface receiving on more queues than the port binds: replies
    # on the other queue would go to the kernel, so the run refuses to start.
    net.set_engine_queues(2)
    r = subprocess.run(net.in_engine(dial("af_xdp", ["--range", f"{net.peer_ip}/32:6000",
                                                     "--hold", "--quiet"])),
                       capture_output=True, text=True, timeout=60)
    net.set_engine_queues(1)
    err = r.stderr.strip().splitlines()
    check.that(r.returncode == 2 and len(err) == 1 and "receives on 2 queues" in err[0],
               f"queue mismatch: exit {r.returncode} {r.stderr[-400:]!r}")
finally:
    net.close()
check.done()
