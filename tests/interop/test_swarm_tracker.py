"""The emulated swarm publishes its peers to a real tracker (opentracker),
each announce sent from the peer's own loopback address, dead and
black-holed peers included, as in a real public swarm. `seed --tracker`
then finds every one of them through the tracker alone, and the outcomes per
behaviour match the swarm's ground truth."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

from seedtest import SWARMDIAL, Check, make_data, make_torrent, read_json, start_seed
from trackertest import OpenTracker

check = Check("swarm --tracker")
tmp = tempfile.mkdtemp(prefix="sd_swtr_")
swarm = seed = None
make_data(tmp, {"a.bin": 900 * 1024 + 5})
torrent = os.path.join(tmp, "t.torrent")
info = make_torrent(tmp, 32768, torrent)
ot = OpenTracker([str(info.info_hash())])
try:
    leechers, dead, holes = 4, 10, 5
    view = os.path.join(tmp, "view.json")
    swarm = subprocess.Popen(
        [SWARMDIAL, "swarm", "--torrent", torrent, "--leechers", str(leechers), "--dead", str(dead),
         "--blackhole", str(holes), "--base", "127.83.0.0", "--port", "7003", "--tracker", ot.http,
         "--view", view, "--until-complete", "--duration", "60"], stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while ot.stats()["peers"] < leechers + dead + holes and time.time() - t0 < 15:
        time.sleep(0.1)
    check.that(ot.stats()["peers"] == leechers + dead + holes, f"opentracker holds {ot.stats()['peers']} peers")
    summary = os.path.join(tmp, "s.json")
    seed = start_seed(["--torrent", torrent, "--data", tmp, "--tracker", ot.udp, "--half-open", "6",
                       "--timeout", "500", "--summary", summary, "--duration", "60", "--quiet",
                       # one dial per peer, so outcomes map onto the ground truth
                       "--redials", "0"])
    rc = swarm.wait(timeout=60)
    err = swarm.stderr.read()
    print(err[-1500:])
    check.that(rc == 0, f"swarm exit {rc}")
    check.that(f"announced {leechers + dead + holes} of {leechers + dead + holes} peers" in err,
               "every peer announced")
    time.sleep(0.8)  # black-hole timeouts (500 ms) settle
    seed.send_signal(signal.SIGTERM)
    check.that(seed.wait(timeout=20) == 0, "seed exit")
    v, s = read_json(view), read_json(summary)
    check.that(v["leechers_completed"] == leechers, f"leechers completed {v['leechers_completed']}")
    check.that(s["tracker_peers_new"] == leechers + dead + holes, f"peers from the tracker {s['tracker_peers_new']}")
    o = s["outcomes"]
    check.that(o["established"] == leechers and o["refused"] == dead and o["timeout"] == holes,
               f"outcomes {o} vs {leechers}/{dead}/{holes}")
    hw = s["shards"][0]["half_open_high_water"]
    check.that(0 < hw <= 6, f"half-open high water {hw} of 6")
finally:
    for p in (swarm, seed):
        if p and p.poll() is None:
            p.kill()
            p.wait()
    ot.close()
    shutil.rmtree(tmp, ignore_errors=True)
check.done()
