"""tracker-load against a tracker that is wrong in known ways (the test's
own, buggy_udp_tracker.py): of every ten announces one is dropped, one is
answered under a wrong transaction id, one gets an empty peer list from a
swarm of 100; and the tracker freezes for 2 s mid-run. Each shows up in the
figures as what it is: timeouts, strays, withheld peers, and the freeze in
the latency measured from the timetable, while requests keep leaving on
schedule. The summary's row per second shows when (the answers stop, then
arrive in a burst), its spectrum the tail, and --plot and --compare work on
it."""
import os
import subprocess
import sys
import json
import tempfile

from seedtest import SWARMDIAL, Check, read_json

HERE = os.path.dirname(os.path.abspath(__file__))
check = Check("tracker-load against a faulty tracker")
tmp = tempfile.mkdtemp(prefix="sd_tfaults_")
tracker = subprocess.Popen([sys.executable, os.path.join(HERE, "buggy_udp_tracker.py"),
                            "--freeze-at", "1.5", "--freeze-for", "2"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
try:
    port = int(tracker.stdout.readline().split()[1])
    summary = os.path.join(tmp, "s.json")
    p = subprocess.run([SWARMDIAL, "tracker-load", "--tracker", f"udp://127.0.0.1:{port}",
                        "--rate", "400", "--duration", "5", "--timeout", "3000", "--torrents", "10",
                        "--peers", "20", "--request-mix", "announce=1", "--summary", summary,
                        "--plot", os.path.join(tmp, "t.svg"), "--quiet"],
                       capture_output=True, text=True, timeout=60)
    check.that(p.returncode == 0, f"exit {p.returncode}: {p.stderr[-300:]}")
    tracker.stdin.close()
    did = json.loads(tracker.stdout.readline())
    s = read_json(summary)
    print("tracker:", did)
    print("summary: ok", s["ok"], "errors", s["errors"], "strays", s["stray_replies"],
          "announce", s["requests"]["announce"], "latency p99", s["latency_us"]["p99"],
          "send lag p99", s["send_lag_us"]["p99"])
    ann = s["requests"]["announce"]
    check.that(s["sent"] == 2000 and did["announce"] == 2000, f"sent {s['sent']}, tracker saw {did['announce']}")
    check.that(s["errors"]["timeout"] == did["dropped"] + did["wrong_tid"],
               f"timeouts {s['errors']['timeout']} = dropped {did['dropped']} + wrong ids {did['wrong_tid']}")
    check.that(s["stray_replies"] == did["wrong_tid"], f"strays {s['stray_replies']} = wrong ids {did['wrong_tid']}")
    check.that(ann["peers_withheld"] == did["empty"], f"withheld {ann['peers_withheld']} = empty {did['empty']}")
    check.that(ann["ok"] == did["empty"] + did["proper"] and ann["peers_received"] == 10 * did["proper"],
               f"ok {ann['ok']}, peers {ann['peers_received']} for {did['proper']} proper replies")
    check.that(s["latency_us"]["p99"] >= 1_500_000, f"the 2 s freeze shows in p99: {s['latency_us']['p99']} us")
    check.that(s["send_lag_us"]["p99"] < 50_000, f"requests left on the timetable: lag {s['send_lag_us']}")
    check.that(s["interval_s"] == {"min": 1800, "max": 1800}, f"intervals {s['interval_s']}")

    # The timeline: the tracker stops answering for 2 s, then answers the
    # backlog at once; requests leave at 400/s throughout.
    rows = s["timeline"]
    print("timeline:", [(r["t_s"], round(r["sent_per_s"]), round(r["ok_per_s"]), r["p99_us"]) for r in rows])
    check.that(len(rows) >= 5, f"{len(rows)} rows for a 5 s run")
    full = [r for r in rows if r["t_s"] <= 5.0 and r["t_s"] >= 1.0]
    check.that(all(300 <= r["sent_per_s"] <= 500 for r in full), "sent at the rate every second")
    quiet = [r for r in rows if r["ok_per_s"] < 0.25 * 400 and 1.0 <= r["t_s"] <= 5.0]
    burst = [r for r in rows if r["ok_per_s"] > 1.5 * 320 and r["p99_us"] >= 1_000_000]
    check.that(quiet and burst, f"the freeze: quiet seconds {len(quiet)}, burst seconds {len(burst)}")
    check.that(abs(sum(r["ok_per_s"] * 1 for r in rows) - s["ok"]) < 0.1 * s["ok"],
               "the rows add up to the run, about")
    spec = s["latency_spectrum"]
    check.that(spec[0]["q"] == 0.5 and spec[-1]["q"] == 1.0 and spec[-1]["us"] == s["latency_us"]["max"]
               and all(a["us"] <= b["us"] for a, b in zip(spec, spec[1:])) and len(spec) >= 10,
               f"spectrum {spec}")
    with open(os.path.join(tmp, "t.svg")) as f:
        svg = f.read()
    check.that(svg.startswith("<?xml") and "<svg" in svg and "p99.9" in svg, "the plot is an SVG")

    # --compare: this run against one without the faults' tracker freezing.
    tracker2 = subprocess.Popen([sys.executable, os.path.join(HERE, "buggy_udp_tracker.py")],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    port2 = int(tracker2.stdout.readline().split()[1])
    summary2 = os.path.join(tmp, "s2.json")
    subprocess.run([SWARMDIAL, "tracker-load", "--tracker", f"udp://127.0.0.1:{port2}", "--rate", "400",
                    "--duration", "2", "--timeout", "3000", "--request-mix", "announce=1",
                    "--summary", summary2, "--quiet"], timeout=60)
    tracker2.stdin.close()
    tracker2.wait(timeout=10)
    cmp = subprocess.run([SWARMDIAL, "tracker-load", "--compare", summary, summary2],
                         capture_output=True, text=True)
    print(cmp.stdout)
    lines = {l[:22].strip(): l[22:].split() for l in cmp.stdout.splitlines()}
    check.that(cmp.returncode == 0 and lines["sent"][:2] == ["2000", "800"] and lines["sent"][2] == "0.4x",
               f"compare: {cmp.returncode} {lines.get('sent')}")
    check.that("latency p99 us" in lines and "stray replies" in lines, "compare lists latency and strays")
    for args in (["--compare", summary], ["--compare", summary, "/nonexist.json"],
                 ["--compare", summary, os.path.join(HERE, "buggy_udp_tracker.py")],
                 ["--compare", summary, summary2, "--rate", "1"]):
        bad = subprocess.run([SWARMDIAL, "tracker-load", *args], capture_output=True, text=True)
        check.that(bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1,
                   f"{args[1:]}: {bad.returncode} {bad.stderr!r}")
finally:
    if tracker.poll() is None:
        tracker.kill()
        tracker.wait()
check.done()
