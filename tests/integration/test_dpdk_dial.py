"""The dpdk backend against real kernel peers, over a veth pair between two
sd_* namespaces (see dpdk_net.py). swarmdial drives its end through
net_af_packet; the kernel on its side never holds the engine's address.

1. outcomes, one shard: every target gets exactly the outcome the uring
   backend gives it (listening = established, closed = refused, nftables
   drop = timeout, ICMP host-unreachable = unreachable, an on-link address
   nobody answers ARP for = unreachable); summary totals = rows.
2. the same with two shards on two queue pairs (af_packet qpairs=2): the
   kernel's fanout puts replies on either queue, so some must travel to
   their owning shard through the software steering ring; and the same on
   net_af_xdp, where swarmdial's XDP program hands a dial-only run every
   frame.
3. strict budget, seen from outside: a capture in the peer namespace takes
   the first SYN of every attempt against black holes; no moment may have
   more attempts in flight than the sum of the budgets.
4. SIGTERM mid-run: exit 0, a row for every attempted target, summary
   flushed and marked interrupted.
5. bad EAL arguments, a shard count the port cannot give, missing --source:
   one line, exit 2."""
import os
import signal
import subprocess
import sys
import tempfile
import time

from dpdk_net import DpdkNet, skip_unless_dpdk
from sdtest import SWARMDIAL, Check, read_json, read_rows

skip_unless_dpdk(SWARMDIAL)

check = Check("dpdk dial")
tmp = tempfile.mkdtemp(prefix="sd_dpdk_")
net = DpdkNet("dpdk", subnet=21)


def dial(args, queues=1, timeout=60, driver="af_packet"):
    cmd = net.in_engine([SWARMDIAL, "dial", "--backend", "dpdk", "--source",
                         f"{net.engine_ip}/32", "--dpdk", net.eal_args(queues, driver=driver)]
                        + args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def expected_outcomes():
    want = {}
    for i in range(10):
        want[(net.peer_ip, 6000 + i)] = "established"
        want[(net.peer_ip, 5000 + i)] = "refused"
        want[(net.peer_ip, 7000 + i)] = "timeout"
        want[(net.peer_ip, 8000 + i)] = "unreachable"
    want[(net.absent_ip, 6000)] = "unreachable"
    return want


def check_outcomes(label, shards, queues, driver="af_packet"):
    want = expected_outcomes()
    targets = os.path.join(tmp, f"targets_{label}.txt")
    with open(targets, "w") as f:
        for host, port in want:
            f.write(f"{host}:{port}\n")
    out, summary = os.path.join(tmp, f"{label}.csv"), os.path.join(tmp, f"{label}.json")
    r = dial(["--targets", targets, "--shards", shards, "--half-open", 8, "--timeout", 600,
              "--rate", 0, "--output", out, "--summary", summary], queues, driver=driver)
    if not check.that(r.returncode == 0, f"{label}: exit {r.returncode}: {r.stderr.strip()}"):
        return None
    rows = read_rows(out)
    got = {(row["target"], int(row["port"])): row["outcome"] for row in rows}
    check.that(len(rows) == len(want), f"{label}: {len(rows)} rows for {len(want)} targets")
    wrong = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
    check.that(not wrong, f"{label}: wrong outcomes (got, want): {wrong}")
    for row in rows:
        if row["outcome"] == "established":
            check.that(row["rtt_us"] != "" and int(row["rtt_us"]) > 0, f"{label}: rtt in {row}")
    s = read_json(summary)
    check.that(s["backend"] == "dpdk", f"{label}: backend {s['backend']}")
    check.that(s["targets"] == len(rows), f"{label}: summary targets {s['targets']}")
    counts = {o: sum(1 for v in want.values() if v == o) for o in set(want.values())}
    for outcome, n in counts.items():
        check.that(s["outcomes"][outcome] == n, f"{label}: summary {outcome} {s['outcomes']}")
    check.that(len(s["shards"]) == shards, f"{label}: {len(s['shards'])} shards")
    for sh_ in s["shards"]:
        check.that(sh_["half_open_high_water"] <= 8, f"{label}: high water {sh_}")
    wire = s["wire"]
    check.that(wire["invalid"] == 0, f"{label}: invalid frames {wire}")
    check.that(wire["arp_requests"] >= 1, f"{label}: the engine resolved its peer by ARP {wire}")
    # Dial-only: each established flow is closed with a RST of our own.
    check.that(wire["resets_sent"] >= 10, f"{label}: resets sent {wire['resets_sent']}")
    print(f"{label}: {s['outcomes']} wire {wire}")
    return s


try:
    listeners = net.listeners(6000, 10)

    check_outcomes("one_shard", 1, 1)
    s = check_outcomes("two_shards", 2, 2)
    if s:
        check.that(s["wire"]["steered_away"] > 0,
                   f"two shards: no frame needed steering ({s['wire']}): the path went untested")
    check_outcomes("af_xdp", 1, 1, driver="af_xdp")

    # 3. strict budget against black holes, from the peer's capture.
    budget, shards, timeout_ms, n = 16, 2, 250, 400
    cap_file = os.path.join(tmp, "syns.json")
    cap = net.capture(cap_file)
    out, summary = os.path.join(tmp, "strict.csv"), os.path.join(tmp, "strict.json")
    r = dial(["--range", f"{net.peer_ip}/32:7000-{7000 + n - 1}", "--shards", shards,
              "--half-open", budget, "--timeout", timeout_ms, "--rate", 0, "--output", out,
              "--summary", summary, "--quiet"], queues=2)
    time.sleep(0.2)
    net.stop(cap)
    check.that(r.returncode == 0, f"strict: exit {r.returncode}: {r.stderr.strip()}")
    syns = read_json(cap_file)
    check.that(len(syns) == n, f"strict: the peer saw {len(syns)} attempts, {n} targets")
    check.that(all(x[1] == net.engine_ip for x in syns), "strict: every SYN from the engine's address")
    # An attempt occupies its slot from its SYN until its timeout; the next
    # SYN on that slot leaves after. Shortening each interval by 5 ms absorbs
    # the capture's own timestamp jitter, far less than the 250 ms timeout.
    slack = 0.005
    events = sorted([(t, 1) for t, *_ in syns] + [(t + timeout_ms / 1000 - slack, -1)
                                                   for t, *_ in syns], key=lambda e: (e[0], e[1]))
    live = peak = 0
    for _, d in events:
        live += d
        peak = max(peak, live)
    print(f"strict: peak attempts in flight seen by the peer {peak}, budget {budget * shards}")
    check.that(peak <= budget * shards, f"strict: {peak} attempts in flight, budget {budget * shards}")
    check.that(peak >= budget * shards * 3 // 4, f"strict: peak {peak}: the budget was barely used")
    s = read_json(summary)
    for sh_ in s["shards"]:
        check.that(sh_["half_open_high_water"] == budget, f"strict: shard high water {sh_}")
    check.that(s["outcomes"]["timeout"] == n, f"strict: outcomes {s['outcomes']}")
    ports = {x[2] for x in syns}
    check.that(len(ports) <= budget * shards,
               f"strict: {len(ports)} source ports for {budget * shards} slots")

    # 4. SIGTERM mid-run.
    out, summary = os.path.join(tmp, "signal.csv"), os.path.join(tmp, "signal.json")
    p = subprocess.Popen(net.in_engine([
        SWARMDIAL, "dial", "--backend", "dpdk", "--source", f"{net.engine_ip}/32", "--dpdk",
        net.eal_args(2), "--range", f"{net.peer_ip}/32:5000-5999,6000-6009,7000-7999",
        "--half-open", 32, "--rate", 400, "--timeout", 800, "--output", out, "--summary",
        summary, "--quiet"]), stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)
    t0 = time.monotonic()
    p.send_signal(signal.SIGTERM)
    rc = p.wait(timeout=20)
    took = time.monotonic() - t0
    check.that(rc == 0, f"signal: exit {rc}: {p.stderr.read().strip()}")
    check.that(took < 3.0, f"signal: took {took:.2f} s to exit")
    rows = read_rows(out)
    s = read_json(summary)
    check.that(s["interrupted"] is True, "signal: summary says interrupted")
    check.that(0 < len(rows) < 2010, f"signal: {len(rows)} rows")
    check.that(s["targets"] == len(rows), f"signal: summary {s['targets']} vs {len(rows)} rows")
    check.that(s["syn_sent"] == len(rows), f"signal: syn_sent {s['syn_sent']} vs rows {len(rows)}")
    check.that(len({(r_["target"], r_["port"]) for r_ in rows}) == len(rows), "signal: one row each")

    # 5. bad input.
    bad = [(["--dpdk", "--definitely-not-eal"], "--dpdk"),
           (["--dpdk", net.eal_args(1), "--shards", "3"], "queue pairs"),
           (["--dpdk", "--no-huge --no-pci --no-shconf"], "no Ethernet port")]
    for extra, needle in bad:
        r = subprocess.run(net.in_engine([SWARMDIAL, "dial", "--backend", "dpdk", "--source",
                                          f"{net.engine_ip}/32", "--range",
                                          f"{net.peer_ip}/32:6000"] + extra),
                           capture_output=True, text=True, timeout=30)
        lines = r.stderr.strip().splitlines()
        check.that(r.returncode == 2, f"{extra}: exit {r.returncode}")
        check.that(len(lines) == 1 and needle in lines[0], f"{extra}: stderr {r.stderr!r}")
    r = subprocess.run([SWARMDIAL, "dial", "--backend", "dpdk", "--dpdk", "--no-pci", "--range",
                        f"{net.peer_ip}/32:6000"], capture_output=True, text=True, timeout=30)
    check.that(r.returncode == 2 and "--source" in r.stderr, f"no --source: {r.stderr!r}")
finally:
    net.close()
check.done()
