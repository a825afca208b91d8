#!/usr/bin/python3
"""Soak: `swarmdial seed` for a long time against an emulated swarm with
churn, sampled every second; says whether memory and descriptors stay flat.

    tools/soak/soak.py BUILD/tools/swarmdial/swarmdial --minutes 30 --out soak/

Loopback only, no root. What runs (every process is started here and ended
here, by PID):
- npm bittorrent-tracker (tests/trackers/, installed by
  `deploy/install-deps.sh --tests`), asking for an announce every 15 s;
- `swarmdial seed` with a small half-open budget, announcing to it;
- a new `swarmdial swarm` generation every --generation seconds, each living
  two generations: leechers and slow leechers that download and leave,
  black holes that hold the seeder's half-open slots until they time out.
  Addresses of a generation that left answer RST when dialled again.

Every second: the seeder's RSS and open descriptors (/proc), and from its
/metrics the half-open slots in use, the connected peers and the io_uring
overflow counters. The descriptor slope is taken over descriptors minus
connected peers, so peers coming and going do not read as a leak.
samples.csv has them; soak.json has the verdict. Over the last --window
minutes (20 by default, at most two thirds of the run) the least-squares
slopes of RSS and descriptors must stay under --max-rss-slope KiB/min and
--max-fd-slope per minute, no ring may overflow, and the seeder must exit 0.
Exit code 0 when all hold, 1 otherwise, 2 for bad arguments.
Needs python3-libtorrent (Debian) to make the torrent."""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TRACKER_JS = os.path.join(HERE, "..", "..", "tests", "trackers", "bt_tracker_server.mjs")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def make_torrent(root, size):
    import libtorrent as lt
    os.makedirs(os.path.join(root, "set"))
    with open(os.path.join(root, "set", "soak.bin"), "wb") as f:
        f.write(os.urandom(size))
    fs = lt.file_storage()
    lt.add_files(fs, os.path.join(root, "set"))
    t = lt.create_torrent(fs, 262144, flags=lt.create_torrent.v1_only)
    lt.set_piece_hashes(t, root)
    path = os.path.join(root, "soak.torrent")
    with open(path, "wb") as f:
        f.write(lt.bencode(t.generate()))
    return path


def slope_per_minute(points):
    """Least-squares slope of (t seconds, value) points, per minute."""
    n = len(points)
    if n < 2:
        return 0.0
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    den = sum((t - mt) ** 2 for t, _ in points)
    if den == 0:
        return 0.0
    return 60.0 * sum((t - mt) * (v - mv) for t, v in points) / den


def proc_sample(pid):
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
        page = r.read().decode()

    def total(name, labels=""):
        pat = "^" + re.escape(name) + (re.escape(labels) if labels else r"(\{[^}]*\})?") + r" (\S+)$"
        return sum(float(m.group(m.lastindex)) for m in re.finditer(pat, page, re.M))
    return {"half_open": total("swarmdial_half_open"),
            "budget": total("swarmdial_half_open_budget"),
            "cq_overflow": total("swarmdial_uring_overflow_total", '{queue="cq"}'),
            "sq_dropped": total("swarmdial_uring_overflow_total", '{queue="sq"}'),
            "upload_bytes": total("swarmdial_upload_bytes_total"),
            "peers": total("swarmdial_peers")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("swarmdial")
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--out", default="soak-out")
    ap.add_argument("--window", type=float, default=20, help="minutes the slopes are taken over")
    ap.add_argument("--generation", type=float, default=20, help="seconds between swarm generations")
    # Black holes hold a slot for the whole --timeout; with a tracker handing
    # out 50 peers per announce, these keep a small budget mostly full.
    ap.add_argument("--half-open", type=int, default=8)
    ap.add_argument("--leechers", type=int, default=6)
    ap.add_argument("--blackholes", type=int, default=120)
    ap.add_argument("--max-rss-slope", type=float, default=512, help="KiB per minute")
    ap.add_argument("--max-fd-slope", type=float, default=1.0, help="descriptors per minute")
    a = ap.parse_args()
    if a.minutes <= 0 or a.generation <= 0 or not os.access(a.swarmdial, os.X_OK):
        print("soak.py: --minutes and --generation must be positive, SWARMDIAL executable",
              file=sys.stderr)
        return 2
    os.makedirs(a.out, exist_ok=True)
    # SIGTERM or Ctrl-C ends the soak early: children are still stopped by
    # PID and the report is still written, marked interrupted.
    stopping = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.append(True))
    tmp = tempfile.mkdtemp(prefix="sd_soak_")
    procs = []
    seed = tracker = None
    samples = []
    try:
        torrent = make_torrent(tmp, 8 * 1024 * 1024)
        # The swarm's peers share one port, its own, so two soaks (or a soak
        # and the tests) on one machine do not collide on 127.x addresses.
        tport, mport, lport, sport = free_port(), free_port(), free_port(), free_port()
        tracker = subprocess.Popen(["node", TRACKER_JS, str(tport), "15000"], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if not tracker.stdout.readline().startswith("ready"):
            print("soak.py: bittorrent-tracker did not start (deploy/install-deps.sh --tests)",
                  file=sys.stderr)
            return 1
        url = f"http://127.0.0.1:{tport}/announce"
        seconds = a.minutes * 60
        summary = os.path.join(a.out, "seed-summary.json")
        seed = subprocess.Popen(
            [a.swarmdial, "seed", "--torrent", torrent, "--data", tmp, "--listen",
             f"127.0.0.1:{lport}", "--tracker", url, "--tracker-timeout", "2000", "--half-open",
             str(a.half_open), "--timeout", "3000", "--metrics", f"127.0.0.1:{mport}",
             "--summary", summary, "--duration", str(int(seconds + 60)), "--quiet"],
            stderr=open(os.path.join(a.out, "seed.stderr"), "w"))
        start = time.time()
        next_gen, gen = start, 0
        with open(os.path.join(a.out, "samples.csv"), "w") as f:
            f.write("t,rss_kib,fds,half_open,budget,cq_overflow,sq_dropped,upload_bytes,peers,"
                    "swarms,fds_idle\n")
            while time.time() - start < seconds and not stopping:
                now = time.time()
                if now >= next_gen:
                    # Each generation lives two periods on its own 127.x.y.0/24s.
                    gen += 1
                    base = f"127.{90 + gen // 200 % 30}.{gen % 200}.0"
                    procs.append(subprocess.Popen(
                        [a.swarmdial, "swarm", "--torrent", torrent, "--leechers", str(a.leechers),
                         "--slow", "2", "--blackhole", str(a.blackholes), "--base", base,
                         "--port", str(sport), "--swarm-seed", str(gen), "--tracker", url,
                         "--duration",
                         str(int(2 * a.generation)), "--quiet"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                    next_gen += a.generation
                procs = [p for p in procs if p.poll() is None]
                if seed.poll() is not None:
                    print(f"soak.py: the seeder exited early ({seed.returncode})", file=sys.stderr)
                    break
                try:
                    rss, fds = proc_sample(seed.pid)
                    m = scrape(mport)
                except (OSError, StopIteration, ValueError):
                    time.sleep(1)
                    continue
                # Descriptors beyond the connected peers': what a leak would grow.
                row = {"t": round(now - start, 2), "rss_kib": rss, "fds": fds, **m,
                       "swarms": len(procs), "fds_idle": fds - int(m["peers"])}
                samples.append(row)
                f.write(",".join(str(row[k]) for k in row) + "\n")
                f.flush()
                time.sleep(max(0.0, 1.0 - (time.time() - now)))
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        seed_rc = None
        if seed is not None:
            if seed.poll() is None:
                seed.send_signal(signal.SIGTERM)
            try:
                seed_rc = seed.wait(timeout=60)
            except subprocess.TimeoutExpired:
                seed.kill()
                seed_rc = seed.wait()
        if tracker is not None and tracker.poll() is None:
            tracker.stdin.close()
            try:
                tracker.wait(timeout=5)
            except subprocess.TimeoutExpired:
                tracker.kill()
        shutil.rmtree(tmp, ignore_errors=True)

    window = min(a.window * 60, seconds * 2 / 3)
    tail = [s for s in samples if s["t"] >= samples[-1]["t"] - window] if samples else []
    rss_slope = slope_per_minute([(s["t"], s["rss_kib"]) for s in tail])
    fd_slope = slope_per_minute([(s["t"], s["fds_idle"]) for s in tail])
    busy = [s["half_open"] / s["budget"] for s in samples if s["budget"]]
    served = {}
    try:
        with open(os.path.join(a.out, "seed-summary.json")) as f:
            seed_sum = json.load(f)["seed"]
        served = {k: seed_sum[k] for k in ("peers_served", "pieces_served", "bytes_up", "disconnects")}
    except (OSError, ValueError, KeyError):
        pass
    last = samples[-1] if samples else {}
    report = {
        "minutes": round((samples[-1]["t"] if samples else 0) / 60, 2),
        "samples": len(samples),
        "generations": gen if samples else 0,
        "window_minutes": round(window / 60, 2),
        "rss_kib": {"first": samples[0]["rss_kib"] if samples else None,
                    "last": last.get("rss_kib"), "max": max((s["rss_kib"] for s in samples), default=None),
                    "slope_per_min": round(rss_slope, 1)},
        "fds": {"first": samples[0]["fds"] if samples else None, "last": last.get("fds"),
                "max": max((s["fds"] for s in samples), default=None),
                "without_peers_first": samples[0]["fds_idle"] if samples else None,
                "without_peers_last": last.get("fds_idle"), "slope_per_min": round(fd_slope, 3)},
        "half_open_occupancy": {"mean": round(sum(busy) / len(busy), 3) if busy else 0,
                                "max": round(max(busy), 3) if busy else 0},
        "uring_overflow": {"cq": last.get("cq_overflow"), "sq": last.get("sq_dropped")},
        "seed_exit": seed_rc,
        "interrupted": bool(stopping),
        "served": served,
    }
    problems = []
    if len(samples) < max(10, seconds * 0.8):
        problems.append(f"only {len(samples)} samples in {seconds:.0f} s")
    if rss_slope > a.max_rss_slope:
        problems.append(f"RSS grows {rss_slope:.0f} KiB/min (limit {a.max_rss_slope:.0f})")
    if abs(fd_slope) > a.max_fd_slope:
        problems.append(f"descriptors drift {fd_slope:.2f}/min (limit {a.max_fd_slope})")
    if last.get("cq_overflow") or last.get("sq_dropped"):
        problems.append(f"io_uring overflow: {report['uring_overflow']}")
    if seed_rc != 0:
        problems.append(f"seeder exit {seed_rc}")
    report["problems"] = problems
    report["verdict"] = "flat" if not problems else "failed"
    with open(os.path.join(a.out, "soak.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report, indent=1))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
