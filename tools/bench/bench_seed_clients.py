#!/usr/bin/python3
"""The same torrents seeded by swarmdial, qbittorrent-nox and
transmission-daemon (Debian's packages), side by side in one run: each
seeder in turn serves --torrents generated torrents (default 200), and the
bench reads, once every torrent is seeding:
- RSS of the seeding process, and its private part (USS: Private_Clean +
  Private_Dirty of smaps_rollup), which leaves out the shared libraries'
  pages that every process using them maps (libcrypto alone is 3.5 MiB of
  swarmdial's RSS);
- CPU at idle over --idle-seconds (every thread's run time from
  /proc/PID/task/*/schedstat, to the nanosecond), no peers;
- the time for --leechers python3-libtorrent leechers (default 20, each
  its own session, on as many different torrents) to finish downloading
  from it, all at once, dialling in to the seeder's peer port.
Every download is checked byte-identical. Seeders run in turn, in a
rotating order per run; medians of --runs. Ratios are swarmdial's figure
over the better (lower) of the other two.

Usage: /usr/bin/python3 tools/bench/bench_seed_clients.py BUILD_DIR
       [--torrents N] [--size-kib K] [--leechers N] [--runs N] [--idle-seconds S]
Loopback only: no trackers, DHT, LSD, PeX or UPnP anywhere; every wait is
bounded; each seeder is ended by PID."""
import argparse
import filecmp
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import libtorrent as lt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine import describe  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("build_dir")
ap.add_argument("--torrents", type=int, default=200)
ap.add_argument("--size-kib", type=int, default=2048, help="data per torrent")
ap.add_argument("--leechers", type=int, default=20)
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--idle-seconds", type=float, default=10.0)
ap.add_argument("--leech-timeout", type=float, default=180.0,
                help="a seeder whose leechers are not all done by then is reported unfinished")
args = ap.parse_args()
if min(args.torrents, args.size_kib, args.leechers, args.runs) < 1 or args.idle_seconds <= 0 \
        or args.leechers > args.torrents:
    print("bench_seed_clients.py: counts must be positive and --leechers <= --torrents",
          file=sys.stderr)
    sys.exit(2)
for tool in ("qbittorrent-nox", "transmission-daemon", "transmission-remote"):
    if not shutil.which(tool):
        print(f"bench_seed_clients.py: {tool} is not installed "
              "(bash deploy/install-deps.sh --tests)", file=sys.stderr)
        sys.exit(2)
swarmdial = os.path.abspath(os.path.join(args.build_dir, "tools/swarmdial/swarmdial"))
tmp = tempfile.mkdtemp(prefix="sd_bench_clients_", dir="/var/tmp")
data = os.path.join(tmp, "data")  # every torrent's NAME lives here: each seeder's save path


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def wait_listening(port, proc, what):
    deadline = time.monotonic() + 30
    while not port_open(port):
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError(f"{what} did not open its port {port}")
        time.sleep(0.1)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))


def uss_kb(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        return sum(int(l.split()[1]) for l in f if l.startswith(("Private_Clean:", "Private_Dirty:")))


def cpu_s(pid):
    """CPU time of every thread of pid, in seconds, to the nanosecond
    (/proc/PID/task/*/schedstat: an idle seeder uses less than one clock
    tick a second, so /proc/PID/stat's ticks cannot tell them apart)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread that ended between the listing and the read
    return total / 1e9


def make_torrents():
    os.makedirs(data)
    tdir = os.path.join(tmp, "torrents")
    os.makedirs(tdir)
    out = []
    chunk = os.urandom(1 << 20)
    for i in range(args.torrents):
        name = f"t{i:04d}.bin"
        with open(os.path.join(data, name), "wb") as f:
            left = args.size_kib * 1024
            off = (i * 7919) % len(chunk)  # distinct data per torrent, cheap to write
            while left > 0:
                piece = (chunk[off:] + chunk[:off])[:left]
                f.write(piece)
                left -= len(piece)
                off = (off + 4099) % len(chunk)
        fs = lt.file_storage()
        lt.add_files(fs, os.path.join(data, name))
        t = lt.create_torrent(fs, 256 * 1024, flags=lt.create_torrent.v1_only)
        lt.set_piece_hashes(t, data)
        path = os.path.join(tdir, name + ".torrent")
        with open(path, "wb") as f:
            f.write(lt.bencode(t.generate()))
        out.append((name, path, str(lt.torrent_info(path).info_hashes().v1)))
    return tdir, out


class Swarmdial:
    name = "swarmdial"

    def __init__(self, tdir, torrents):
        self.port = free_port()
        self.proc = subprocess.Popen([swarmdial, "seed", "--torrents-dir", tdir, "--data-root",
                                      data, "--listen", f"127.0.0.1:{self.port}", "--quiet",
                                      "--duration", "3600"], stderr=subprocess.DEVNULL)

    def seeding(self):
        return port_open(self.port)  # it listens once every torrent is verified

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)


class QBittorrent:
    name = "qbittorrent-nox"

    def __init__(self, tdir, torrents):
        self.dir = tempfile.mkdtemp(prefix="qb_", dir=tmp)
        self.port, self.web = free_port(), free_port()
        conf = os.path.join(self.dir, "qBittorrent", "config")
        os.makedirs(conf)
        with open(os.path.join(conf, "qBittorrent.conf"), "w") as f:
            f.write("[LegalNotice]\nAccepted=true\n\n[BitTorrent]\n"
                    f"Session\\Port={self.port}\nSession\\DHTEnabled=false\n"
                    "Session\\LSDEnabled=false\nSession\\PeXEnabled=false\n"
                    "Session\\BTProtocol=TCP\nSession\\QueueingSystemEnabled=false\n"
                    f"Session\\DefaultSavePath={data}\n\n[Preferences]\n"
                    f"WebUI\\Port={self.web}\nWebUI\\Address=127.0.0.1\n"
                    "WebUI\\LocalHostAuth=false\nWebUI\\CSRFProtection=false\n"
                    "WebUI\\HostHeaderValidation=false\nConnection\\UPnP=false\n"
                    "Connection\\ResolvePeerCountries=false\n")
        self.proc = subprocess.Popen(["qbittorrent-nox", f"--profile={self.dir}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_listening(self.web, self.proc, "qbittorrent-nox")
        for _, path, _ in torrents:  # one request per torrent, as a user's script would
            with open(path, "rb") as f:
                self.api("torrents/add", files={"torrents": (os.path.basename(path), f.read())},
                         fields={"savepath": data})

    def api(self, path, fields=None, files=None):
        body, headers = None, {}
        if files:
            b = "sdbench" + os.urandom(8).hex()
            parts = [f'--{b}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                     for k, v in (fields or {}).items()]
            parts += [f'--{b}\r\nContent-Disposition: form-data; name="{k}"; filename="{n}"\r\n'
                      f"Content-Type: application/x-bittorrent\r\n\r\n".encode() + v + b"\r\n"
                      for k, (n, v) in files.items()]
            body = b"".join(parts) + f"--{b}--\r\n".encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={b}"
        req = urllib.request.Request(f"http://127.0.0.1:{self.web}/api/v2/{path}", data=body,
                                     headers=headers)
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.read()

    def seeding(self):
        rows = json.loads(self.api("torrents/info"))
        return len(rows) == args.torrents and all(r["progress"] >= 1.0 and "checking" not in
                                                   r["state"] for r in rows)

    def stop(self):
        self.proc.terminate()


class Transmission:
    name = "transmission-daemon"

    def __init__(self, tdir, torrents):
        self.dir = tempfile.mkdtemp(prefix="tr_", dir=tmp)
        self.port, self.rpc = free_port(), free_port()
        conf = {"peer-port": self.port, "peer-port-random-on-start": False, "rpc-enabled": True,
                "rpc-port": self.rpc, "rpc-bind-address": "127.0.0.1",
                "rpc-authentication-required": False, "rpc-whitelist-enabled": False,
                "rpc-host-whitelist-enabled": False, "dht-enabled": False, "lpd-enabled": False,
                "pex-enabled": False, "utp-enabled": False, "port-forwarding-enabled": False,
                "download-dir": data, "incomplete-dir-enabled": False,
                "start-added-torrents": True, "message-level": 0,
                "download-queue-enabled": False, "seed-queue-enabled": False,
                "queue-stalled-enabled": False}
        with open(os.path.join(self.dir, "settings.json"), "w") as f:
            json.dump(conf, f)
        self.proc = subprocess.Popen(["transmission-daemon", "-f", "-g", self.dir],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_listening(self.rpc, self.proc, "transmission-daemon")
        for _, path, _ in torrents:
            self.remote("-a", path, "-w", data)

    def remote(self, *a):
        return subprocess.run(["transmission-remote", f"127.0.0.1:{self.rpc}", *a],
                              capture_output=True, text=True, timeout=60).stdout

    def seeding(self):
        rows = [l for l in self.remote("-l").splitlines()[1:-1] if l.strip()]
        return len(rows) == args.torrents and all(" 100% " in l and "Verif" not in l
                                                  for l in rows)

    def stop(self):
        self.proc.terminate()


def leech_all(port, torrents):
    """args.leechers sessions, one torrent each, dialling the seeder at once.
    Returns (seconds until the last has every piece, or None if that took
    longer than --leech-timeout; the share of all their bytes they had).
    A finished download that differs from the data is an error."""
    picks = [torrents[(i * len(torrents)) // args.leechers] for i in range(args.leechers)]
    sessions, handles, dls = [], [], []
    for i, (name, path, _) in enumerate(picks):
        dl = os.path.join(tmp, f"dl{i}")
        ses = lt.session({"listen_interfaces": "127.0.0.1:0", "enable_dht": False,
                          "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
                          "enable_outgoing_utp": False, "enable_incoming_utp": False,
                          "alert_mask": 0})
        handles.append(ses.add_torrent({"ti": lt.torrent_info(path), "save_path": dl}))
        sessions.append(ses)
        dls.append((name, dl))
    time.sleep(1.0)  # the sessions are up
    t0 = time.monotonic()
    for h in handles:
        h.connect_peer(("127.0.0.1", port))
    took = None
    while time.monotonic() - t0 < args.leech_timeout:
        if all(h.status().is_seeding for h in handles):
            took = time.monotonic() - t0
            break
        time.sleep(0.05)
    share = sum(h.status().total_wanted_done for h in handles) / max(
        1, sum(h.status().total_wanted for h in handles))
    bad = [n for (n, dl), h in zip(dls, handles) if h.status().is_seeding and not filecmp.cmp(
        os.path.join(data, n), os.path.join(dl, n), shallow=False)]
    del handles, sessions
    for _, dl in dls:
        shutil.rmtree(dl, ignore_errors=True)
    if bad:
        raise RuntimeError(f"downloads that differ from the data: {bad}")
    return took, share


def one(kind, tdir, torrents):
    s = kind(tdir, torrents)
    try:
        t0 = time.monotonic()
        while not s.seeding():
            if time.monotonic() - t0 > 600 or s.proc.poll() is not None:
                raise RuntimeError(f"{kind.name} did not start seeding")
            time.sleep(0.5)
        ready = time.monotonic() - t0
        time.sleep(2.0)  # start-up settles
        rss, uss = rss_kb(s.proc.pid), uss_kb(s.proc.pid)
        c0, w0 = cpu_s(s.proc.pid), time.monotonic()
        time.sleep(args.idle_seconds)
        idle = (cpu_s(s.proc.pid) - c0) / (time.monotonic() - w0)
        took, share = leech_all(s.port, torrents)
        return {"rss_mib": rss / 1024, "uss_mib": uss / 1024, "idle_cpu": idle, "ready_s": ready, "leech_share": share,
                "leech_s": took if took is not None else float("inf")}
    finally:
        s.stop()
        try:
            s.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            s.proc.kill()
            s.proc.wait()


print(describe())
print(f"features: {args.torrents} torrents of {args.size_kib} KiB (256 KiB pieces), "
      f"{args.leechers} python3-libtorrent {lt.__version__} leechers dialling in, plaintext; "
      f"swarmdial seed --torrents-dir (io_uring), qbittorrent-nox and transmission-daemon "
      f"from Debian; medians of {args.runs}")
kinds = [Swarmdial, QBittorrent, Transmission]
try:
    tdir, torrents = make_torrents()
    res = {k.name: [] for k in kinds}
    for run in range(args.runs):
        order = kinds[run % 3:] + kinds[:run % 3]
        for k in order:
            r = one(k, tdir, torrents)
            res[k.name].append(r)
            print(f"run {run + 1} {k.name:>19}: ready {r['ready_s']:6.1f} s  RSS "
                  f"{r['rss_mib']:7.1f} MiB (private {r['uss_mib']:5.1f})  idle CPU {r['idle_cpu'] * 100:6.3f}%  "
                  + (f"{args.leechers} leechers done in {r['leech_s']:6.2f} s" if r["leech_s"] != float("inf")
                     else f"leechers unfinished after {args.leech_timeout:.0f} s "
                          f"({r['leech_share']:.0%} of their bytes)"), flush=True)
    med = {n: {key: statistics.median(r[key] for r in rs) for key in rs[0]}
           for n, rs in res.items()}
    print(f"\nmedians of {args.runs}:")
    for n, m in med.items():
        done = (f"leechers done in {m['leech_s']:6.2f} s" if m["leech_s"] != float("inf")
                else f"leechers unfinished after {args.leech_timeout:.0f} s")
        print(f"  {n:>19}: RSS {m['rss_mib']:7.1f} MiB (private {m['uss_mib']:5.1f})  idle CPU {m['idle_cpu'] * 100:6.3f}% of a "
              f"core  {done}  (ready after {m['ready_s']:.1f} s)")
    sd = med["swarmdial"]
    for key, what in (("rss_mib", "RSS"), ("uss_mib", "private memory"), ("idle_cpu", "idle CPU"),
                      ("leech_s", "leech time")):
        best_name = min((n for n in med if n != "swarmdial"), key=lambda n: med[n][key])
        best = med[best_name][key]
        ratio = sd[key] / best if best > 0 else float("inf")
        print(f"  swarmdial {what} / better of the others ({best_name}): {ratio:.2f}x")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
