"""An inbound SYN flood against `seed --listen`, inside the test's own sd_*
namespaces: 40,000 SYNs from spoofed 198.19.0.0/16 sources (bounded to 10 s)
at a listener whose namespace has a small SYN backlog, while a real
python3-libtorrent leecher downloads from the same port. The leecher must
complete (SYN cookies let it through), and the seeder's summary must count
what the kernel turned away (inbound.kernel_netns: cookies sent, listen
drops)."""
import os
import signal
import subprocess
import sys
import tempfile
import time

from seedtest import SWARMDIAL, Check, make_data, make_torrent, read_json, same_tree
from sdtest import is_root, skip

if not is_root():
    skip("needs root for sd_* namespaces")
HERE = os.path.dirname(os.path.abspath(__file__))
check = Check("seed under a SYN flood")
tmp = tempfile.mkdtemp(prefix="sd_flood_")
os.chmod(tmp, 0o755)
sizes = {"a.bin": 2 * 1024 * 1024}
make_data(tmp, sizes)
torrent = os.path.join(tmp, "t.torrent")
make_torrent(tmp, 65536, torrent)

pid = os.getpid()
seed_ns, client_ns = f"sd_flood_{pid}_s", f"sd_flood_{pid}_c"
seed_if, client_if = f"sdfs{pid % 100000}", f"sdfc{pid % 100000}"
seed_ip, client_ip = "198.18.26.1", "198.18.26.2"
made, procs = [], []


def sh(*cmd):
    subprocess.run([str(c) for c in cmd], check=True)


def in_ns(ns, cmd):
    return ["ip", "netns", "exec", ns] + [str(c) for c in cmd]


try:
    for ns in (seed_ns, client_ns):
        sh("ip", "netns", "add", ns)
        made.append(ns)
    sh("ip", "link", "add", seed_if, "netns", seed_ns, "type", "veth", "peer", "name", client_if,
       "netns", client_ns)
    for ns, dev, ip in ((seed_ns, seed_if, seed_ip), (client_ns, client_if, client_ip)):
        sh("ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", dev)
        sh("ip", "-n", ns, "link", "set", dev, "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    # The seeder's answers to spoofed sources go to the client namespace,
    # which does not forward: they end there.
    sh("ip", "-n", seed_ns, "route", "add", "198.19.0.0/16", "via", client_ip)
    for key, value in (("net.ipv4.tcp_max_syn_backlog", 64), ("net.core.somaxconn", 64),
                       ("net.ipv4.tcp_syncookies", 1)):
        sh("ip", "netns", "exec", seed_ns, "sysctl", "-qw", f"{key}={value}")

    summary = os.path.join(tmp, "s.json")
    seed = subprocess.Popen(in_ns(seed_ns, [SWARMDIAL, "seed", "--torrent", torrent, "--data", tmp,
                                            "--listen", f"{seed_ip}:6881", "--summary", summary,
                                            "--quiet", "--duration", 90]),
                            stderr=subprocess.PIPE, text=True)
    procs.append(seed)
    time.sleep(1.5)
    flood = subprocess.Popen(in_ns(client_ns, [sys.executable, os.path.join(HERE, "syn_flood.py"),
                                               seed_ip, 6881, 40000, 10]),
                             stdout=subprocess.PIPE, text=True)
    procs.append(flood)
    time.sleep(0.5)
    save = os.path.join(tmp, "dl")
    leech = subprocess.Popen(in_ns(client_ns, ["/usr/bin/python3", os.path.join(HERE, "netns_libtorrent.py"),
                                               "leech", torrent, save, client_ip, 6990, seed_ip, 6881, 60]),
                             stdout=subprocess.PIPE, text=True)
    procs.append(leech)
    lines = leech.stdout.read().split()
    check.that("done" in lines, f"the leecher completed during the flood: {lines}")
    check.that("done" not in lines or same_tree(tmp, save, sizes), "byte-identical")
    sent = int(flood.stdout.read().strip() or 0)
    flood.wait()
    print(f"SYNs sent by the flood: {sent}")
    check.that(sent >= 5000, f"the flood sent only {sent} SYNs")
    seed.send_signal(signal.SIGTERM)
    rc = seed.wait(timeout=30)
    check.that(rc == 0, f"seed exit {rc}: {seed.stderr.read()[-300:]}")
    s = read_json(summary)
    kernel = s["seed"]["inbound"].get("kernel_netns")
    print("turned away by the kernel:", kernel, "accepted:", s["seed"]["inbound"]["accepted"])
    check.that(kernel is not None, "the summary has the kernel's listen counters")
    if kernel:
        check.that(kernel["syncookies_sent"] + kernel["listen_drops"] > 0,
                   f"the flood shows as cookies or drops: {kernel}")
    check.that(s["seed"]["peers_served"] >= 1, "the leecher was served")
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    for ns in made:
        subprocess.run(["ip", "netns", "del", ns])
check.done()
