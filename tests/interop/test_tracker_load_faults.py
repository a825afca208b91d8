"""tracker-load against a tracker that is wrong in known ways (the test's
own, buggy_udp_tracker.py): of every ten announces one is dropped, one is
answered under a wrong transaction id, one gets an empty peer list from a
swarm of 100; and the tracker freezes for 2 s mid-run. Each shows up in the
figures as what it is: timeouts, strays, withheld peers, and the freeze in
the latency measured from the timetable, while requests keep leaving on
schedule."""
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
                        "--quiet"], capture_output=True, text=True, timeout=60)
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
finally:
    if tracker.poll() is None:
        tracker.kill()
        tracker.wait()
check.done()
