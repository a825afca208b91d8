"""The workload `tracker-load` models, checked against what a real tracker
(opentracker, Debian's whitelisting build) holds afterwards, read with the
test's own BEP 15 scrape:

- --infohashes FILE: the torrents of a whitelist instead of the synthetic
  ones; announces for a listed torrent the tracker does not serve come
  back malformed (opentracker's answer), and are counted as bad replies;
- --popularity zipf:1: the torrent of rank r (its line in the file) holds
  1/r of the peers, to within a couple of peers;
- --seeders: the share of seeds the tracker counts;
- --completed and --stopped: `completed` events show in the tracker's
  download counts, and peers that left are gone from it."""
import hashlib
import os
import random
import socket
import struct
import subprocess
import tempfile

from seedtest import SWARMDIAL, Check, read_json
from trackertest import OpenTracker

check = Check("tracker-load workload")
tmp = tempfile.mkdtemp(prefix="sd_tmodel_")
rng = random.Random(7)
T, P = 30, 40
hashes = [hashlib.sha1(rng.randbytes(32)).hexdigest() for _ in range(T)]
unlisted = hashlib.sha1(b"not on the whitelist").hexdigest()


def scrape(port, hex_hashes):
    """BEP 15 connect + scrape: (seeders, completed, leechers) per hash."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(struct.pack(">QII", 0x41727101980, 0, 1), ("127.0.0.1", port))
    action, tid, conn = struct.unpack(">IIQ", s.recv(64)[:16])
    assert action == 0 and tid == 1, "connect reply"
    out = []
    for i in range(0, len(hex_hashes), 50):
        chunk = hex_hashes[i:i + 50]
        s.sendto(struct.pack(">QII", conn, 2, 2 + i) + b"".join(bytes.fromhex(h) for h in chunk),
                 ("127.0.0.1", port))
        reply = s.recv(65536)
        action, tid = struct.unpack(">II", reply[:8])
        assert action == 2 and tid == 2 + i, f"scrape reply {action} {tid}"
        out += [struct.unpack(">III", reply[8 + 12 * j:20 + 12 * j]) for j in range(len(chunk))]
    s.close()
    return out


def load(ot, listfile, extra):
    summary = os.path.join(tmp, "s.json")
    p = subprocess.run([SWARMDIAL, "tracker-load", "--tracker", ot.udp, "--infohashes", listfile,
                        "--peers", str(P), "--rate", "3000", "--duration", "2", "--summary", summary,
                        "--quiet", *extra], capture_output=True, text=True, timeout=60)
    check.that(p.returncode == 0, f"exit {p.returncode}: {p.stderr[-300:]}")
    return read_json(summary)


# The list as an operator writes it: a comment, a blank line, one in capitals.
listfile = os.path.join(tmp, "whitelist.txt")
with open(listfile, "w") as f:
    f.write("# torrents this tracker serves, most popular first\n\n")
    f.writelines((h.upper() if i == 3 else h) + "\n" for i, h in enumerate(hashes))

ot = OpenTracker(hashes)
try:
    before = ot.stats()
    s = load(ot, listfile, ["--popularity", "zipf:1", "--seeders", "0.75"])
    after = ot.stats()
    counted = after["udp_announce"] - before["udp_announce"]
    scrapes = after["udp_scrape"] - before["udp_scrape"]
    req = s["requests"]
    check.that(s["sent"] == 6000 and s["error_total"] == 0, f"sent {s['sent']}, errors {s['errors']}")
    check.that(req["announce"]["ok"] == counted, f"we counted {req['announce']} announces, opentracker {counted}")
    check.that(req["scrape"]["ok"] == scrapes == sum(1 for k in range(6000) if k % 102 == 100), f"scrapes {req['scrape']}, opentracker {scrapes}")
    check.that(s["swarm"]["torrents"] == T and s["swarm"]["info_hashes"] == "file"
               and s["swarm"]["popularity"] == "zipf", f"summary swarm {s['swarm']}")
    rows = scrape(ot.port, hashes)
    peers = [sd + lc for sd, _, lc in rows]
    seeds = sum(sd for sd, _, _ in rows)
    h = sum(1 / r for r in range(1, T + 1))
    want = [T * P / (h * (i + 1)) for i in range(T)]
    print("peers by rank:", peers[:8], "...", peers[-3:], "expected", [round(w) for w in want[:8]])
    check.that(sum(peers) == T * P, f"the tracker holds {sum(peers)} peers of {T * P}")
    check.that(all(abs(p - w) <= 2.5 for p, w in zip(peers, want)),
               f"peers per torrent follow 1/rank: {list(zip(peers, [round(w, 1) for w in want]))}")
    share = seeds / max(1, sum(peers))
    print(f"seeds {seeds} of {sum(peers)} ({share:.3f})")
    check.that(abs(share - 0.75) < 0.04, f"seed share {share:.3f}, asked for 0.75")
finally:
    ot.close()

# Churn: leechers finish (the tracker counts downloads), peers leave and
# come back; a torrent the tracker does not serve is a tracker error.
with open(listfile, "a") as f:
    f.write(unlisted + "\n")
ot = OpenTracker(hashes)
try:
    s = load(ot, listfile, ["--popularity", "uniform", "--seeders", "0.5", "--completed", "0.3",
                            "--stopped", "0.2", "--request-mix", "announce=1"])
    rows = scrape(ot.port, hashes)
    present = sum(sd + lc for sd, _, lc in rows)
    downloads = sum(c for _, c, _ in rows)
    members = (T + 1) * P
    print(f"churn: {present} peers present of {T * P} listed memberships, {downloads} downloads, "
          f"errors {s['errors']}")
    # 40 peers x 31 torrents in 6000 requests: about 4.8 rounds each. Half
    # leech; at 0.3 a round, about 60% of them finish by round 4.
    check.that(0.35 * T * P * 0.5 < downloads < T * P * 0.5, f"completed events: {downloads}")
    # At a 0.2 chance per re-announce, about a sixth are away at the end.
    check.that(0.6 * T * P < present < 0.97 * T * P, f"peers present after churn: {present}")
    # opentracker answers an announce for a torrent it does not serve with
    # the 8-byte header of an announce reply and nothing else: a malformed
    # reply, counted as one. (A `stopped` for it, which asks for nothing
    # back, may be answered in full.)
    unserved = sum(1 for k in range(6000) if (k % members) % (T + 1) == T)
    bad = s["errors"]["bad_reply"]
    check.that(s["swarm"]["torrents"] == T + 1 and 0.75 * unserved <= bad <= unserved
               and s["errors"]["timeout"] == 0,
               f"the unserved torrent's {unserved} announces: {bad} bad replies ({s['errors']})")
    check.that(s["ok"] + s["error_total"] == s["sent"] == 6000, f"accounted: {s['ok']} + {s['errors']}")
    check.that(s["swarm"]["stopped"] == 0.2 and s["swarm"]["completed"] == 0.3, f"{s['swarm']}")
finally:
    ot.close()

# Bad lists are one line naming the file and line, exit 2.
bad = os.path.join(tmp, "bad.txt")
for body, where in [(hashes[0] + "\nnot-a-hash\n", ":2:"), (hashes[0] + "\n\n" + hashes[0] + "\n", ":3:"),
                    ("# nothing\n", "no info-hashes")]:
    with open(bad, "w") as f:
        f.write(body)
    p = subprocess.run([SWARMDIAL, "tracker-load", "--tracker", "udp://127.0.0.1:1", "--rate", "10",
                        "--duration", "1", "--infohashes", bad], capture_output=True, text=True)
    check.that(p.returncode == 2 and where in p.stderr and "--infohashes" in p.stderr
               and len(p.stderr.strip().splitlines()) == 1, f"{body!r}: {p.returncode} {p.stderr!r}")
check.done()
