"""Strictness: dial only black-holed targets with --half-open 32 --shards 2
--timeout 300 while sampling the kernel's SYN_SENT sockets in /proc/net/tcp
every few ms. The kernel must never hold more than 64, and the attempt rate
must come out near budget / timeout (64 / 0.3 s = 213/s).

As root (CI) this runs in its own sd_* namespaces over veth, with an
nftables drop rule as the black hole: a private, small TCP hash makes each
/proc sample near-instantaneous. In the root namespace a sample walks
262,144 hash buckets (~0.6 ms), long enough for a socket that closes and
one that opens during the walk to both be counted, so a sample could show
more than the kernel ever held. Even the small hash's walk is not atomic
(under ASan a single sample once showed 69), so the budget is checked
against the count held over two samples in a row (1 ms apart): every
attempt here lives the full 300 ms timeout, so any socket beyond the
budget would show in hundreds of samples. Without root it is skipped."""
import os
import subprocess
import sys
import tempfile
import time

from sdtest import (SWARMDIAL, Check, NetnsPair, ProcSynSentSampler, is_root, read_json,
                    read_rows, skip)

backend = sys.argv[2]
if not is_root():
    skip("needs root to build sd_* network namespaces")
check = Check(f"strict budget ({backend})")
tmp = tempfile.mkdtemp(prefix="sd_strict_")
ports = (20000, 20511)
net = NetnsPair("strict" + backend[0], subnet=10 if backend == "uring" else 11, drop_ports=ports)
out, summary = os.path.join(tmp, "rows.csv"), os.path.join(tmp, "summary.json")
try:
    t0 = time.monotonic()
    p = subprocess.Popen(net.exec_prefix(net.dialer) + [
        SWARMDIAL, "dial", "--range", f"{net.peer_ip}/32:{ports[0]}-{ports[1]}", "--backend",
        backend, "--shards", "2", "--half-open", "32", "--timeout", "300", "--rate", "0",
        "--output", out, "--summary", summary, "--quiet"], stderr=subprocess.PIPE, text=True)
    sampler = ProcSynSentSampler(p.pid, range(ports[0], ports[1] + 1), interval=0.001)
    rc = p.wait(timeout=60)
    elapsed = time.monotonic() - t0
    sampler.stop()
    peak = sampler.sustained
    check.that(rc == 0, f"exit {rc}: {p.stderr.read().strip()}")
    rows = read_rows(out)
    check.that(len(rows) == 512, f"{len(rows)} rows")
    check.that(all(row["outcome"] == "timeout" for row in rows), "all black holes time out")
    print(f"peak SYN_SENT {peak} held over two samples ({sampler.max} in any single one) over "
          f"{sampler.samples} samples; {elapsed:.2f} s")
    check.that(sampler.samples > 200, "the sampler actually sampled")
    check.that(peak <= 64, f"kernel held {peak} SYN_SENT sockets, budget is 64")
    check.that(peak >= 48, f"budget barely used (peak {peak}): the test would prove nothing")
    s = read_json(summary)
    rate = s["rates"]["syn_per_s"]
    print(f"attempt rate {rate:.1f}/s, budget/timeout = 213.3/s")
    check.that(150 <= rate <= 230, f"attempt rate {rate:.1f}/s is not near budget/timeout")
    for sh_ in s["shards"]:
        check.that(sh_["half_open_high_water"] == 32, f"shard high water {sh_}")
finally:
    net.close()
check.done()
