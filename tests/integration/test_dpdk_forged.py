"""Forged traffic at a DPDK run, sent from the peer namespace while it dials
(forge_replies.py answers every SYN): SYN-ACKs with a wrong ack, RSTs that
do not acknowledge the SYN, SYN-ACKs to a neighbouring port, ICMP errors
quoting a sequence number never sent, and old flows' SYN-ACKs replayed after
their slot was reused. Every genuine attempt must still end as it would
without them (listeners established, black holes timed out: no forged RST
or ICMP may turn one into refused or unreachable), and the summary's wire
counters must show the forgeries as what they are."""
import json
import os
import subprocess
import sys
import tempfile

from dpdk_net import HERE, DpdkNet, skip_unless_dpdk
from sdtest import SWARMDIAL, Check, read_json, read_rows

skip_unless_dpdk(SWARMDIAL)
check = Check("dpdk forged replies")
tmp = tempfile.mkdtemp(prefix="sd_forged_")
net = DpdkNet("forge", subnet=23)
try:
    listeners = net.listeners(first=6000, count=20)
    forger = subprocess.Popen(net.in_peer([sys.executable, os.path.join(HERE, "forge_replies.py"),
                                           net.peer_if]), stdout=subprocess.PIPE, text=True)
    net._procs.append(forger)
    check.that(forger.stdout.readline().strip() == "ready", "the forger started")
    want = {(net.peer_ip, 6000 + i): "established" for i in range(20)}
    want.update({(net.peer_ip, 7000 + i): "timeout" for i in range(40)})
    targets = os.path.join(tmp, "targets.txt")
    with open(targets, "w") as f:
        f.writelines(f"{h}:{p}\n" for h, p in want)
    out, summary = os.path.join(tmp, "rows.csv"), os.path.join(tmp, "s.json")
    cmd = net.in_engine([SWARMDIAL, "dial", "--backend", "dpdk", "--source", f"{net.engine_ip}/32",
                         "--dpdk", net.eal_args(1), "--targets", targets, "--half-open", 8,
                         "--timeout", 1000, "--rate", 0, "--output", out, "--summary", summary])
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    net.stop(forger)
    sent = json.loads(forger.stdout.read().strip().splitlines()[-1])
    print("forgeries sent:", sent)
    check.that(r.returncode == 0, f"exit {r.returncode}: {r.stderr.strip()}")
    rows = read_rows(out)
    got = {(row["target"], int(row["port"])): row["outcome"] for row in rows}
    wrong = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
    check.that(len(rows) == len(want), f"{len(rows)} rows for {len(want)} targets")
    check.that(not wrong, f"forgeries changed outcomes (got, want): {wrong}")
    wire = read_json(summary)["wire"]
    print("wire counters:", {k: v for k, v in wire.items() if v})
    check.that(sent["bad_ack"] >= 60 and sent["replay"] >= 10, f"the forger answered too little: {sent}")
    check.that(wire["bad_ack"] > 0, "wrong acks counted as bad_ack")
    check.that(wire["ignored_resets"] > 0, "RSTs without the right ack counted as ignored_resets")
    check.that(wire["ignored_icmp"] > 0, "ICMP quoting another sequence counted as ignored_icmp")
    check.that(wire["stray"] > 0, "segments for other ports or gone flows counted as stray")
    # Every forged segment is accounted for somewhere: nothing slipped through as an answer.
    tcp_forged = sent["bad_ack"] + sent["rst_no_ack"] + sent["wrong_port"] + sent["replay"]
    seen = wire["bad_ack"] + wire["ignored_resets"] + wire["stray"]
    check.that(seen >= tcp_forged * 0.9, f"{seen} counted of {tcp_forged} forged TCP segments")
finally:
    net.close()
check.done()
