"""Admission and rate limits of `swarmdial seed`: --upload-limit caps the
upload rate a real leecher sees; --inbound-rate turns away accepts beyond
its rate and counts them (inbound never touches the half-open budget)."""
import os
import signal
import socket
import tempfile
import time

from seedtest import (Check, Leecher, free_port, make_data, make_torrent, read_json, same_tree,
                      start_seed, wait_for_port)

check = Check("seed limits")
tmp = tempfile.mkdtemp(prefix="sd_limits_")
sizes = {"a.bin": 3 * 1024 * 1024}
make_data(tmp, sizes)
torrent = os.path.join(tmp, "t.torrent")
make_torrent(tmp, 65536, torrent)

# --upload-limit 1 MB/s: 3 MiB cannot arrive in much under 3 s.
port = free_port()
summary = os.path.join(tmp, "s1.json")
leecher = Leecher(torrent, os.path.join(tmp, "dl"))
seed = start_seed(["--torrent", torrent, "--data", tmp, "--listen", f"127.0.0.1:{port}",
                   "--upload-limit", 1_000_000, "--summary", summary, "--quiet", "--duration", 60])
check.that(wait_for_port(port), "listening")
leecher.connect(port)
took = leecher.wait_done(30)
seed.send_signal(signal.SIGINT)
check.that(seed.wait(timeout=20) == 0, "seed exit 0")
check.that(took is not None and same_tree(tmp, os.path.join(tmp, "dl"), sizes), "download complete")
if took:
    rate = sizes["a.bin"] / took
    print(f"--upload-limit 1000000: {rate / 1e6:.2f} MB/s observed over {took:.2f} s")
    check.that(rate < 1.3e6, f"upload rate {rate / 1e6:.2f} MB/s exceeds the 1 MB/s limit")
    check.that(rate > 0.5e6, f"upload rate {rate / 1e6:.2f} MB/s is far below the limit")

# --inbound-rate 5/s: a burst of 40 connections mostly gets turned away.
port = free_port()
summary = os.path.join(tmp, "s2.json")
mport = free_port()
seed = start_seed(["--torrent", torrent, "--data", tmp, "--listen", f"127.0.0.1:{port}",
                   "--inbound-rate", 5, "--workers", 1, "--summary", summary, "--quiet",
                   "--duration", 60, "--metrics", f"127.0.0.1:{mport}"])
check.that(wait_for_port(port), "listening")
time.sleep(1.5)  # the probe above used a token; let the bucket refill
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
time.sleep(1.0)
import urllib.request
page = urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=5).read().decode()
for s in socks:
    s.close()
for family in ("swarmdial_inbound_total", "swarmdial_upload_bytes_total", "swarmdial_pieces_served_total",
               "swarmdial_peers", "swarmdial_disconnects_total"):
    check.that(f"# TYPE {family} " in page, f"seed metrics include {family}")
import re
m = re.search(r'^swarmdial_inbound_total\{result="rejected_rate"\} (\d+)$', page, re.M)
check.that(m is not None and int(m.group(1)) >= 25, f"metrics count the rate rejections: {m and m.group(0)}")
seed.send_signal(signal.SIGINT)
check.that(seed.wait(timeout=20) == 0, "seed exit 0")
s = read_json(summary)
inbound = s["seed"]["inbound"]
print("inbound:", inbound)
check.that(inbound["rejected_rate"] >= 25, f"burst of 40 at 5/s: {inbound}")
check.that(inbound["accepted"] >= 5, f"some accepted: {inbound}")
check.that(s["syn_sent"] == 0, "inbound peers never use the dialer's budget")
check.done()
