"""A real Prometheus (Debian's) scrapes a running `swarmdial seed`, which
uploads a torrent to a real aria2c, and a running `swarmdial dial --hold`,
with deploy/prometheus/rules.yml loaded. After a few scrapes its HTTP API
must agree with the summaries each process writes at exit: bytes uploaded,
pieces served, outcomes; and the recording rules evaluate."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

from seedtest import SWARMDIAL, Check, free_port, make_data, make_torrent, read_json, start_seed

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
if not shutil.which("prometheus") or not shutil.which("aria2c"):
    print("SKIP: prometheus or aria2c is not installed")
    sys.exit(77)
check = Check("prometheus scrape")
tmp = tempfile.mkdtemp(prefix="sd_prom_")
procs = []


def query(port, expr):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as r:
        body = json.load(r)
    return {tuple(sorted(s["metric"].items())): float(s["value"][1]) for s in body["data"]["result"]}


def one(port, expr):
    vals = list(query(port, expr).values())
    return vals[0] if len(vals) == 1 else None


def wait_ready(port, timeout=30):
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1)
            return True
        except OSError:
            time.sleep(0.2)
    return False


try:
    # A live peer for dial: accepts and keeps the connection.
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    threading.Thread(target=lambda: [srv.accept() for _ in range(4)], daemon=True).start()
    dial_metrics, seed_metrics, prom_port = free_port(), free_port(), free_port()
    dial_summary = os.path.join(tmp, "dial.json")
    dial = subprocess.Popen([SWARMDIAL, "dial", "--range", f"127.0.0.1/32:{srv.getsockname()[1]},1",
                             "--hold", "--duration", "60", "--metrics", f"127.0.0.1:{dial_metrics}",
                             "--output", "/dev/null", "--summary", dial_summary, "--quiet"])
    procs.append(dial)

    sizes = {"a.bin": 2 * 1024 * 1024 + 17}
    make_data(tmp, sizes)
    torrent = os.path.join(tmp, "t.torrent")
    make_torrent(tmp, 262144, torrent)
    aria_port = free_port()
    aria = subprocess.Popen(["aria2c", f"--listen-port={aria_port}", "--enable-dht=false",
                             "--bt-enable-lpd=false", "--enable-peer-exchange=false", "--seed-time=0",
                             f"--dir={os.path.join(tmp, 'dl')}", "--bt-stop-timeout=60",
                             "--summary-interval=0", "--console-log-level=warn", torrent],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(aria)
    time.sleep(1.0)
    seed_summary = os.path.join(tmp, "seed.json")
    seed = start_seed(["--torrent", torrent, "--data", tmp, "--peers", f"127.0.0.1:{aria_port}",
                       "--metrics", f"127.0.0.1:{seed_metrics}", "--summary", seed_summary,
                       "--quiet", "--duration", 90])
    procs.append(seed)

    shutil.copy(os.path.join(ROOT, "deploy", "prometheus", "rules.yml"), tmp)
    with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
        f.write("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                "rule_files: [rules.yml]\n"
                "scrape_configs:\n"
                "  - job_name: swarmdial\n"
                "    static_configs:\n"
                f"      - targets: ['127.0.0.1:{dial_metrics}', '127.0.0.1:{seed_metrics}']\n")
    prom = subprocess.Popen(["prometheus", f"--config.file={os.path.join(tmp, 'prometheus.yml')}",
                             f"--storage.tsdb.path={os.path.join(tmp, 'tsdb')}",
                             f"--web.listen-address=127.0.0.1:{prom_port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(prom)
    check.that(wait_ready(prom_port), "prometheus is ready")

    rc_aria = aria.wait(timeout=60)  # the download is complete
    check.that(rc_aria == 0, f"aria2c exit {rc_aria}")
    seed_i, dial_i = f'instance="127.0.0.1:{seed_metrics}"', f'instance="127.0.0.1:{dial_metrics}"'
    # A few scrapes after the last byte, and enough for the rules' rates.
    done_at = time.time()
    while time.time() - done_at < 30:
        time.sleep(1)
        scrapes = one(prom_port, f"count_over_time(up{{{seed_i}}}[1m])") or 0
        if time.time() - done_at >= 3 and scrapes >= 5 and \
                one(prom_port, f"swarmdial:established:rate1m{{{dial_i}}}") is not None:
            break
    up = query(prom_port, 'up{job="swarmdial"}')
    check.that(len(up) == 2 and all(v == 1 for v in up.values()), f"both targets up: {up}")
    scrapes = one(prom_port, f"count_over_time(up{{{seed_i}}}[1m])")
    check.that(scrapes is not None and scrapes >= 3, f"scrapes so far: {scrapes}")
    uploaded = one(prom_port, f"swarmdial_upload_bytes_total{{{seed_i}}}")
    pieces = one(prom_port, f"swarmdial_pieces_served_total{{{seed_i}}}")
    outcomes = {dict(k)["outcome"]: v for k, v in query(prom_port, f"swarmdial_outcomes_total{{{dial_i}}}").items()}
    established_rate = one(prom_port, f"swarmdial:established:rate1m{{{dial_i}}}")
    check.that(established_rate is not None, "the recording rules evaluate on live data")

    # Each command's page passes Prometheus's own linter.
    for port in (seed_metrics, dial_metrics):
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
        lint = subprocess.run(["promtool", "check", "metrics"], input=page, capture_output=True)
        check.that(lint.returncode == 0, f"promtool check metrics :{port}: {lint.stdout} {lint.stderr}")

    seed.send_signal(signal.SIGTERM)
    dial.send_signal(signal.SIGTERM)
    check.that(seed.wait(timeout=30) == 0 and dial.wait(timeout=30) == 0, "seed and dial exit 0")
    s, d = read_json(seed_summary), read_json(dial_summary)
    print(f"prometheus: uploaded {uploaded}, pieces {pieces}, outcomes {outcomes}; summaries: "
          f"{s['seed']['bytes_up']} B, {s['seed']['pieces_served']} pieces, {d['outcomes']}")
    check.that(uploaded == s["seed"]["bytes_up"] >= sum(sizes.values()),
               f"upload: prometheus {uploaded}, summary {s['seed']['bytes_up']}")
    check.that(pieces == s["seed"]["pieces_served"], f"pieces: prometheus {pieces}, summary {s['seed']['pieces_served']}")
    check.that(all(outcomes.get(k, 0) == v for k, v in d["outcomes"].items()) and
               outcomes.get("established") == 1 and outcomes.get("refused") == 1,
               f"outcomes: prometheus {outcomes}, summary {d['outcomes']}")
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(tmp, ignore_errors=True)
check.done()
