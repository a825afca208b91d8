"""`swarmdial tracker-load` against real trackers on loopback. At a rate the
tracker sustains, the achieved rate is within 5% of the target, and the
summary matches what the tracker itself counted (opentracker's stats page,
bittorrent-tracker's stats.json). A tracker frozen for a second shows up in
the latency (measured from the scheduled time) while requests keep leaving on
the timetable: the load is open-loop."""
import hashlib
import json
import os
import signal
import subprocess
import tempfile
import threading
import time

from seedtest import SWARMDIAL, Check, read_json
from trackertest import NodeTracker, OpenTracker, free_port_both

check = Check("tracker-load")
T, P = 20, 50
hashes = [hashlib.sha1(f"swarmdial-load-torrent-{i}".encode()).hexdigest() for i in range(T)]
tmp = tempfile.mkdtemp(prefix="sd_tload_")


def load(urls, rate, duration, extra=()):
    summary = os.path.join(tmp, "s.json")
    args = [SWARMDIAL, "tracker-load", "--rate", str(rate), "--duration", str(duration),
            "--torrents", str(T), "--peers", str(P), "--summary", summary, "--status", *extra]
    for u in urls:
        args += ["--tracker", u]
    p = subprocess.run(args, capture_output=True, text=True, timeout=120)
    print(p.stderr[-600:])
    check.that(p.returncode == 0, f"{urls}: exit {p.returncode}")
    return read_json(summary), p.stderr


def within(actual, target, pct=5):
    return abs(actual - target) <= target * pct / 100


ot = OpenTracker(hashes)
try:
    for kind, rate in [("udp", 3000), ("http", 1500)]:
        before = ot.stats()
        s, err = load([getattr(ot, kind)], rate, 3)
        after = ot.stats()
        side = "udp" if kind == "udp" else "tcp"
        counted = after[f"{side}_announce"] - before[f"{side}_announce"]
        scrapes = after[f"{side}_scrape"] - before[f"{side}_scrape"]
        req = s["requests"]
        check.that(within(s["achieved_rate"], rate), f"{kind}: achieved {s['achieved_rate']:.0f}/s of {rate}/s")
        check.that(s["sent"] == rate * 3, f"{kind}: sent {s['sent']} of {rate * 3} scheduled")
        # The default mix, aquatic's: 100 announces, 1 scrape, 1 connect (UDP only).
        pattern = 102 if kind == "udp" else 101
        check.that(req["scrape"]["sent"] == rate * 3 // pattern + (rate * 3 % pattern > 100),
                   f"{kind}: scrapes {req['scrape']['sent']} of the mix's share")
        check.that(req["announce"]["ok"] == counted,
                   f"{kind}: we counted {req['announce']['ok']} announces ok, opentracker {counted}")
        check.that(req["scrape"]["ok"] == scrapes and scrapes > 0,
                   f"{kind}: we counted {req['scrape']['ok']} scrapes ok, opentracker {scrapes}")
        check.that(s["ok"] == sum(r["ok"] for r in req.values()), f"{kind}: ok adds up: {req}")
        # Each announce brought back whole peer records, at most numwant 30.
        per = req["announce"]["peers_received"] / max(1, req["announce"]["ok"])
        check.that(0 < per <= 30 and s["interval_s"]["min"] > 0, f"{kind}: {per:.1f} peers per announce, "
                   f"interval {s['interval_s']}")
        check.that(s["error_total"] <= s["sent"] * 0.01, f"{kind}: errors {s['errors']}")
        check.that(s["latency_us"]["count"] == s["ok"] and 0 < s["latency_us"]["p50"] < 100_000,
                   f"{kind}: latency {s['latency_us']}")
        check.that("rate " in err and "p99" in err, f"{kind}: status line")
        if kind == "udp":
            connects = after["udp_connect"] - before["udp_connect"]
            check.that(s["udp"]["connects"] == 16 and connects == 16 + req["connect"]["ok"]
                       and req["connect"]["ok"] == rate * 3 // 102,
                       f"udp: connection ids {s['udp']['connects']} + mix connects {req['connect']} "
                       f"vs opentracker's {connects}")
            # Every synthetic peer announced `started` to every torrent.
            check.that(after["torrents"] == T and after["peers"] == T * P,
                       f"udp: opentracker holds {after['torrents']} torrents, {after['peers']} peers")

    # UDP GSO: a run of equal-sized requests leaves as one send and still
    # reaches the tracker as datagrams it answers one by one: opentracker
    # counts exactly what we sent, with GSO and without.
    for gso in ["on", "off"]:
        before = ot.stats()
        s, _ = load([ot.udp], 8000, 2, ["--udp-gso", gso, "--request-mix", "announce=1"])
        counted = ot.stats()["udp_announce"] - before["udp_announce"]
        used = s["udp"]["gso_sends"]
        check.that((used > 0) == (gso == "on"), f"--udp-gso {gso}: {used} GSO sends")
        check.that(s["requests"]["announce"]["ok"] == counted and s["sent"] == 16000
                   and s["error_total"] <= s["sent"] * 0.01,
                   f"--udp-gso {gso}: sent {s['sent']}, ok {s['requests']['announce']['ok']}, opentracker "
                   f"{counted}, errors {s['errors']}")

    # Open loop: freeze the tracker for 1 s mid-run. Requests keep leaving on
    # the timetable and the stall shows in the latency instead of vanishing.
    def freeze():
        time.sleep(1.0)
        os.kill(ot.proc.pid, signal.SIGSTOP)
        time.sleep(1.0)
        os.kill(ot.proc.pid, signal.SIGCONT)

    threading.Thread(target=freeze).start()
    s, _ = load([ot.udp], 1000, 3)
    check.that(s["sent"] == 3000, f"frozen tracker: sent {s['sent']} of 3000 on schedule")
    check.that(s["send_lag_us"]["p99"] < 50_000, f"frozen tracker: the generator kept time: lag {s['send_lag_us']}")
    check.that(s["latency_us"]["p99"] >= 700_000, f"frozen tracker: p99 {s['latency_us']['p99']} us shows the stall")
    check.that(s["ok"] + s["error_total"] == 3000, "frozen tracker: every request accounted for")
finally:
    ot.close()

# Three generators, --partition K/3, side by side against a fresh tracker:
# together they are the whole swarm (each peer in one of them), and merge
# adds their totals up to what the tracker counted.
ot = OpenTracker(hashes)
try:
    before, parts = ot.stats(), []
    for k in range(3):
        summary = os.path.join(tmp, f"part{k}.json")
        parts.append((summary, subprocess.Popen(
            [SWARMDIAL, "tracker-load", "--tracker", ot.udp, "--rate", "500", "--duration", "3",
             "--torrents", str(T), "--peers", str(P), "--partition", f"{k}/3", "--summary", summary,
             "--quiet"], stderr=subprocess.PIPE, text=True)))
    for summary, p in parts:
        check.that(p.wait(timeout=60) == 0, f"partition {summary}: {p.stderr.read()[-300:]}")
    after = ot.stats()
    total = os.path.join(tmp, "total.json")
    r = subprocess.run([SWARMDIAL, "merge", *[s for s, _ in parts], "-o", total], capture_output=True,
                       text=True, timeout=30)
    check.that(r.returncode == 0, f"merge tracker-load: {r.stderr}")
    m = read_json(total)
    each = [read_json(s) for s, _ in parts]
    check.that(m["families"]["ipv4"]["sent"] == m["sent"] and m["families"]["ipv6"]["sent"] == 0,
               f"merge adds the families up: {m['families']}")
    check.that(m["sent"] == sum(e["sent"] for e in each) == 4500 and m["ok"] == sum(e["ok"] for e in each),
               f"merged sent {m['sent']}, ok {m['ok']}")
    check.that(m["requests"]["announce"]["ok"] == after["udp_announce"] - before["udp_announce"],
               f"merged announces {m['requests']['announce']} vs opentracker's "
               f"{after['udp_announce'] - before['udp_announce']}")
    check.that(m["requests"]["scrape"]["ok"] == after["udp_scrape"] - before["udp_scrape"],
               f"merged scrapes {m['requests']['scrape']} vs opentracker's {after['udp_scrape'] - before['udp_scrape']}")
    check.that(after["peers"] == T * P, f"3 partitions announced {after['peers']} distinct peers of {T * P}")
    check.that(m["latency_us"]["count"] == m["ok"] and m["run"]["partitions"] == 3,
               f"merged latency {m['latency_us']['count']} of {m['ok']}; run {m['run']}")
finally:
    ot.close()

nt = NodeTracker()
try:
    # Announces only here: this checks the UDP/HTTP split and the peers.
    s, _ = load([nt.udp, nt.http], 600, 3, ["--request-mix", "announce=1"])
    st = nt.stats()
    check.that(within(s["achieved_rate"], 600), f"node udp+http: achieved {s['achieved_rate']:.0f}/s of 600/s")
    check.that(s["udp"]["announces"] == 900 and s["http"]["announces"] == 900,
               f"node: split {s['udp']['announces']}/{s['http']['announces']}")
    check.that(s["error_total"] == 0, f"node: errors {s['errors']}")
    check.that(st["torrents"] == T, f"node: {st['torrents']} torrents of {T}")
    # stats.json counts distinct peer ids. With the default Zipf popularity
    # every membership is its own client.
    check.that(st["peersAll"] == T * P, f"node: {st['peersAll']} distinct peers of {T * P}")
    # bittorrent-tracker's HTTP scrape keys its "files" by the info-hash
    # re-encoded as UTF-8 (30-odd bytes, not 20): wrong, so every one is a
    # bad reply, while its UDP scrapes are right.
    for url, good in [(nt.udp, True), (nt.http, False)]:
        s, _ = load([url], 300, 2, ["--request-mix", "announce=9,scrape=1"])
        sc = s["requests"]["scrape"]
        check.that(sc["sent"] == 60 and sc["info_hashes"] >= 60, f"node scrapes {url}: {sc}")
        if good:
            check.that(sc["ok"] == 60 and s["error_total"] == 0, f"node udp scrapes: {sc} {s['errors']}")
        else:
            check.that(sc["ok"] == 0 and s["errors"]["bad_reply"] == 60, f"node http scrapes: {sc} {s['errors']}")
finally:
    nt.close()

# Bad flags are one line naming the flag; an unreachable tracker is a one-line runtime error.
for args, flag in [(["--tracker", "udp://127.0.0.1:1", "--rate", "0", "--duration", "1"], "--rate"),
                   (["--rate", "10", "--duration", "1"], "--tracker"),
                   (["--tracker", "https://x/announce", "--rate", "10", "--duration", "1"], "--tracker"),
                   (["--tracker", "udp://127.0.0.1:1", "--rate", "10"], "--duration"),
                   (["--tracker", "udp://127.0.0.1:1", "--rate", "10", "--duration", "1", "--udp-gso", "yes"],
                    "--udp-gso")]:
    p = subprocess.run([SWARMDIAL, "tracker-load", *args], capture_output=True, text=True)
    check.that(p.returncode == 2 and flag in p.stderr and len(p.stderr.strip().splitlines()) == 1,
               f"{args}: {p.returncode} {p.stderr!r}")
p = subprocess.run([SWARMDIAL, "tracker-load", "--tracker", f"udp://127.0.0.1:{free_port_both()}", "--rate", "10",
                    "--duration", "1", "--timeout", "300"], capture_output=True, text=True, timeout=30)
check.that(p.returncode == 1 and "no connect reply" in p.stderr, f"unreachable: {p.returncode} {p.stderr!r}")
check.done()
