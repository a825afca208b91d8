"""tracker-load with IPv4 and IPv6 peers, against the npm `bittorrent-tracker`
listening on 127.0.0.1 (UDP) and ::1 (UDP and HTTP), both inside a network
namespace the test makes for it (sd_tl6_*: its own loopback, nothing else).

- --ipv6-peers 0.4 with a UDP tracker on 127.0.0.1 and an HTTP one on
  [::1]: each peer keeps its family; the tracker ends up holding exactly
  the IPv4 and IPv6 peers the model says (recomputed here from the model's
  published rule), the summary splits requests by family, and the IPv6
  peers' HTTP replies bring IPv6 peers (BEP 7 peers6).
- Every peer IPv6, over UDP to [::1] (BEP 15's IPv6 form, 18-byte
  records): bittorrent-tracker answers an IPv6 request with its IPv4 list
  only (findings about that tracker, not bugs here): a swarm of IPv6 peers
  hears of nobody, which the generator counts as withheld peers, and in a
  swarm with IPv4 peers their 6-byte records come back to IPv6 requesters,
  counted as bad replies.
- Bad input: an IPv6 share with no IPv6 tracker, an IPv6 tracker with no
  IPv6 peers, two IPv6 UDP trackers: one line each, exit 2."""
import os
import subprocess
import sys
import tempfile

from seedtest import SWARMDIAL, Check, read_json
from trackertest import NodeTracker

MASK = (1 << 64) - 1


def mix(x):  # splitmix64's finalizer, as engine/tracker/load_plan.cpp draws
    x = (x + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def ipv6_client(client, share):
    """A peer's family: a uniform draw keyed by its number (the model's rule)."""
    return (mix(mix(client) ^ (0x6F << 48)) >> 11) * 2.0 ** -53 < share


check = Check("tracker-load IPv6")
if os.geteuid() != 0:
    print("SKIP: needs root for a network namespace")
    sys.exit(77)
ns = f"sd_tl6_{os.getpid()}"
tmp = tempfile.mkdtemp(prefix="sd_tl6_")
subprocess.run(["ip", "netns", "add", ns], check=True)
tracker = None
try:
    subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
    tracker = NodeTracker(port=6969, http_host="::1", netns=ns)

    def load(*args):
        summary = os.path.join(tmp, "s.json")
        p = subprocess.run(["ip", "netns", "exec", ns, SWARMDIAL, "tracker-load", *map(str, args),
                            "--summary", summary, "--quiet"],
                           capture_output=True, text=True, timeout=60)
        check.that(p.returncode == 0, f"tracker-load {args}: exit {p.returncode} {p.stderr[-300:]}")
        return read_json(summary)

    # Uniform: each of the P peers joins all T torrents, so two rounds of
    # announces (2 T P of them) reach every peer.
    T, P, share = 4, 150, 0.4
    s = load("--tracker", tracker.udp, "--tracker", tracker.http, "--ipv6-peers", share,
             "--torrents", T, "--peers", P, "--popularity", "uniform", "--rate", 600,
             "--duration", 2 * T * P / 600, "--request-mix", "announce=1,scrape=0,connect=0",
             "--numwant", 200, "--connections", 4, "--timeout", 3000)
    v6_peers = sum(ipv6_client(c, share) for c in range(P))
    fam = s["families"]
    print(f"families {fam}, model: {v6_peers} of {P} peers IPv6; "
          f"peers received {s['requests']['announce']['peers_received']}, "
          f"IPv6 {s['requests']['announce']['peers6_received']}")
    check.that(s["error_total"] == 0, f"no errors: {s['errors']}")
    check.that(fam["ipv4"]["sent"] + fam["ipv6"]["sent"] == s["sent"], f"families add up: {fam}")
    check.that(fam["ipv6"]["sent"] == v6_peers * 2 * T,
               f"IPv6 peers' announces: {fam['ipv6']['sent']}, model {v6_peers} x {2 * T}")
    check.that(fam["ipv6"]["ok"] == fam["ipv6"]["sent"] and fam["ipv4"]["ok"] == fam["ipv4"]["sent"],
               f"every request answered: {fam}")
    stats = tracker.stats()
    print(f"tracker: {stats['peersIPv4']} IPv4 peers, {stats['peersIPv6']} IPv6 peers")
    check.that(stats["peersIPv6"] == v6_peers and stats["peersIPv4"] == P - v6_peers,
               f"the tracker holds the model's peers: {stats['peersIPv4']} IPv4, "
               f"{stats['peersIPv6']} IPv6; model {P - v6_peers}, {v6_peers}")
    # In the second round an IPv6 peer's HTTP reply lists the IPv6 peers of
    # its torrent (peers6) beside the IPv4 ones; UDP replies to IPv4 peers
    # carry IPv4 peers only.
    check.that(s["requests"]["announce"]["peers6_received"] >= v6_peers * T * (v6_peers - 1) / 2,
               f"IPv6 peers heard of IPv6 peers: {s['requests']['announce']['peers6_received']}")

    # Every peer IPv6, over UDP (BEP 15: 18-byte records). bittorrent-tracker
    # answers with its IPv4 list only: in torrents of IPv6 peers alone (not
    # the ones above) they hear of nobody, and every reply once the swarm
    # has others is counted as withheld ...
    hashes = os.path.join(tmp, "v6only.txt")
    with open(hashes, "w") as f:
        f.write("".join(f"{i:040x}\n" for i in (0xA1, 0xA2)))
    s = load("--tracker", tracker.udp6, "--infohashes", hashes, "--peers", 50,
             "--popularity", "uniform", "--rate", 400, "--duration", 1,
             "--request-mix", "announce=1,scrape=0,connect=0", "--connections", 2, "--timeout", 3000)
    a = s["requests"]["announce"]
    print(f"UDP over IPv6, IPv6 swarm: {a}, families {s['families']}")
    check.that(s["families"]["ipv6"]["sent"] == s["sent"] == 400, f"all IPv6: {s['families']}")
    check.that(a["ok"] == a["sent"] and a["peers_received"] == 0 and a["peers_withheld"] >= 300,
               f"bittorrent-tracker's IPv6 UDP replies withhold an IPv6 swarm: {a}")
    # ... and in the torrents above, which hold IPv4 peers, the IPv4 records
    # it sends an IPv6 requester are malformed (6 bytes where BEP 15 has 18).
    s = load("--tracker", tracker.udp6, "--torrents", T, "--peers", 50, "--popularity", "uniform",
             "--rate", 400, "--duration", 1, "--request-mix", "announce=1,scrape=0,connect=0",
             "--connections", 2, "--timeout", 3000)
    print(f"UDP over IPv6, IPv4 peers in the swarm: errors {s['errors']}")
    check.that(s["errors"]["bad_reply"] >= 100, f"6-byte records to IPv6 are bad replies: {s['errors']}")

    for args, want in [
        (["--tracker", tracker.udp, "--ipv6-peers", "0.5"], "--ipv6-peers"),
        (["--tracker", tracker.udp, "--tracker", tracker.udp6], "--ipv6-peers"),
        (["--tracker", tracker.udp6, "--tracker", "udp://[::2]:1"], "per family"),
        (["--tracker", tracker.udp6, "--ipv6-peers", "1.5"], "--ipv6-peers"),
    ]:
        p = subprocess.run([SWARMDIAL, "tracker-load", *args, "--duration", "1"],
                           capture_output=True, text=True, timeout=10)
        lines = p.stderr.strip().splitlines()
        check.that(p.returncode == 2 and len(lines) == 1 and want in lines[0],
                   f"{args}: exit {p.returncode}, {p.stderr.strip()!r}")
finally:
    if tracker:
        tracker.close()
    subprocess.run(["ip", "netns", "del", ns], check=False)
check.done()
