"""`swarmdial swarm` as its own process, fed by a torrent python3-libtorrent
made (multi-file, hybrid v1+v2 with BEP 47 pad files), and `swarmdial seed
--peers-file` dialing the peers file the swarm wrote. The swarm's ground
truth (its --view JSON) and the seeder's summary must agree: every leecher
verified every byte, every dead peer was refused and every black hole timed
out. A second signal-ended swarm run still writes its view."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

from seedtest import SWARMDIAL, Check, make_data, make_torrent, read_json, start_seed

check = Check("swarm + seed")
tmp = tempfile.mkdtemp(prefix="sd_swarm_")
swarm = seed = None
try:
    make_data(tmp, {"a.bin": 2 * 1024 * 1024 + 77, "dir/b.bin": 700 * 1024, "c.bin": 5})
    torrent = os.path.join(tmp, "t.torrent")
    info = make_torrent(tmp, 65536, torrent, v1_only=False)
    peers_file, view = os.path.join(tmp, "peers.txt"), os.path.join(tmp, "view.json")
    leechers, dead, holes = 5, 7, 4
    swarm = subprocess.Popen(
        [SWARMDIAL, "swarm", "--torrent", torrent, "--leechers", str(leechers), "--dead", str(dead),
         "--blackhole", str(holes), "--base", "127.81.0.0", "--port", "7002", "--peers-file", peers_file,
         "--view", view, "--until-complete", "--duration", "60", "--status"],
        stderr=subprocess.PIPE, text=True)
    for _ in range(100):
        if os.path.exists(peers_file) and os.path.getsize(peers_file) > 0:
            break
        time.sleep(0.05)
    lines = open(peers_file).read().split()
    check.that(len(lines) == leechers + dead + holes, f"peers file has {len(lines)} lines")
    summary = os.path.join(tmp, "s.json")
    seed = start_seed(["--torrent", torrent, "--data", tmp, "--peers-file", peers_file,
                       "--half-open", "8", "--timeout", "500", "--summary", summary,
                       "--duration", "60", "--quiet",
                       # one dial per peer, so outcomes map onto the ground truth
                       "--redials", "0"])
    rc = swarm.wait(timeout=90)
    err = swarm.stderr.read()
    print(err[-2000:])
    check.that(rc == 0, f"swarm exit {rc}")
    time.sleep(0.8)  # the black holes' timeouts (500 ms) settle
    seed.send_signal(signal.SIGTERM)
    check.that(seed.wait(timeout=20) == 0, "seed exit code")
    v, s = read_json(view), read_json(summary)
    total = info.total_size()
    b = v["behaviours"]
    check.that(v["leechers_completed"] == leechers, f"leechers completed {v['leechers_completed']}")
    check.that(b["leecher"]["bytes_verified"] == leechers * total,
               f"verified {b['leecher']['bytes_verified']} of {leechers * total}")
    done = [p for p in v["peers"] if p["behaviour"] == "leecher"]
    check.that(all(p["completed"] and p["end"] == "complete" for p in done), f"leechers {done}")
    check.that(all(p.get("seeder_client", "").startswith("swarmdial") for p in done),
               f"the leechers saw client {[p.get('seeder_client') for p in done]}")
    o = s["outcomes"]
    check.that(o["established"] == leechers and o["refused"] == dead and o["timeout"] == holes,
               f"seed outcomes {o}")
    check.that(s["seed"]["bytes_up"] >= leechers * total, f"bytes up {s['seed']['bytes_up']}")

    # Ended by SIGINT instead: the view is still written, and says so.
    view2 = os.path.join(tmp, "view2.json")
    swarm = subprocess.Popen([SWARMDIAL, "swarm", "--torrent", torrent, "--leechers", "2",
                              "--base", "127.81.1.0", "--view", view2, "--quiet"])
    time.sleep(0.5)
    swarm.send_signal(signal.SIGINT)
    check.that(swarm.wait(timeout=10) == 0, "swarm exit after SIGINT")
    v2 = read_json(view2)
    check.that(v2["interrupted"] and v2["planned"]["leecher"] == 2, f"view after SIGINT {v2.get('planned')}")
    # A clash: the same addresses twice give a one-line runtime error, exit 1.
    first = subprocess.Popen([SWARMDIAL, "swarm", "--torrent", torrent, "--leechers", "1",
                              "--base", "127.81.2.0", "--quiet"])
    time.sleep(0.5)
    clash = subprocess.run([SWARMDIAL, "swarm", "--torrent", torrent, "--leechers", "1",
                            "--base", "127.81.2.0", "--quiet"], capture_output=True, text=True, timeout=10)
    first.send_signal(signal.SIGTERM)
    first.wait(timeout=10)
    check.that(clash.returncode == 1 and "127.81.2.1:6881" in clash.stderr
               and len(clash.stderr.strip().splitlines()) == 1, f"clash: {clash.returncode} {clash.stderr!r}")
    bad = subprocess.run([SWARMDIAL, "swarm", "--torrent", os.path.join(tmp, "nope.torrent")],
                         capture_output=True, text=True)
    check.that(bad.returncode == 2 and "--torrent" in bad.stderr, f"missing torrent: {bad.stderr!r}")
finally:
    for p in (swarm, seed):
        if p and p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(tmp, ignore_errors=True)
check.done()
