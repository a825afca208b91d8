"""Real trackers for the tests, started on loopback and stopped by PID:
opentracker (Debian package) and the npm `bittorrent-tracker` server."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_SERVER = os.path.join(HERE, "..", "trackers", "bt_tracker_server.mjs")


def free_port_both():
    """A port free for TCP and UDP on 127.0.0.1 (trackers listen on both)."""
    for _ in range(50):
        t = socket.socket()
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()
    raise RuntimeError("no free port")


def wait_tcp(port, timeout=10):
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


class OpenTracker:
    """opentracker refuses to run as root: it drops to `nobody` and chroots
    into its directory, which `nobody` must be able to read. Debian builds it
    with a whitelist: only the info-hashes given here are tracked (the list
    is read after the chroot, so it lives inside). Stats from 127.0.0.1."""

    def __init__(self, info_hashes, cpu=None):
        self.port = free_port_both()
        self.dir = tempfile.mkdtemp(prefix="sd_ot_")
        os.chmod(self.dir, 0o755)
        with open(os.path.join(self.dir, "whitelist"), "w") as f:
            f.writelines(h + "\n" for h in info_hashes)
        os.chmod(os.path.join(self.dir, "whitelist"), 0o644)
        cmd = ["opentracker", "-i", "127.0.0.1", "-p", str(self.port), "-P", str(self.port),
               "-d", self.dir, "-u", "nobody", "-A", "127.0.0.1", "-w", "/whitelist"]
        if cpu is not None:
            cmd = ["taskset", "-c", str(cpu)] + cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_tcp(self.port):
            self.close()
            raise RuntimeError("opentracker did not start")
        self.http = f"http://127.0.0.1:{self.port}/announce"
        self.udp = f"udp://127.0.0.1:{self.port}/announce"

    def stats(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats?mode=everything", timeout=5) as r:
            root = ET.fromstring(r.read())
        num = lambda path: int(root.find(path).text)
        return {"peers": num("peers/count"), "seeds": num("seeds/count"),
                "torrents": num("torrents/count_mutex"),
                "tcp_announce": num("connections/tcp/announce"),
                "tcp_scrape": num("connections/tcp/scrape"),
                "udp_connect": num("connections/udp/connect"),
                "udp_announce": num("connections/udp/announce"),
                "udp_scrape": num("connections/udp/scrape")}

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class NodeTracker:
    """npm bittorrent-tracker, HTTP and UDP on one port; ends when its stdin closes."""

    def __init__(self, port=None, interval_ms=None, http_host="127.0.0.1", netns=None):
        """netns: run inside this network namespace (the test's own)."""
        self.port = port or free_port_both()
        self.netns = netns
        cmd = ["node", NODE_SERVER, str(self.port), str(interval_ms) if interval_ms else "-", http_host]
        if netns:
            cmd = ["ip", "netns", "exec", netns] + cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            err = self.proc.stderr.read()
            self.close()
            raise RuntimeError(f"bittorrent-tracker did not start: {line!r} {err[-500:]}")
        host = f"[{http_host}]" if ":" in http_host else http_host
        self.http_base = f"http://{host}:{self.port}"
        self.http = f"{self.http_base}/announce"
        self.udp = f"udp://127.0.0.1:{self.port}"
        self.udp6 = f"udp://[::1]:{self.port}"

    def stats(self):
        if self.netns:  # fetched from inside its namespace
            out = subprocess.run(["ip", "netns", "exec", self.netns, sys.executable, "-c",
                                  "import sys, urllib.request; sys.stdout.write(urllib.request"
                                  f".urlopen('{self.http_base}/stats.json', timeout=5).read().decode())"],
                                 capture_output=True, text=True, timeout=15, check=True).stdout
            return json.loads(out)
        with urllib.request.urlopen(f"{self.http_base}/stats.json", timeout=5) as r:
            return json.loads(r.read())

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
