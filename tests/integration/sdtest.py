"""Shared fixtures for swarmdial's integration tests: real kernel listeners,
refusing ports and black holes on loopback, a /proc/net/tcp sampler, and
helpers to run the binary and read its rows and summary.

Loopback only: every address used here is in 127.0.0.0/8."""
import csv
import json
import os
import socket
import subprocess
import sys
import threading
import time

SWARMDIAL = os.environ.get("SWARMDIAL") or (sys.argv[1] if len(sys.argv) > 1 else "swarmdial")


class Listener:
    """A live peer: listens and accepts (then closes) until stopped."""

    def __init__(self, addr, port=0, backlog=4096):
        self.sock = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.listen(backlog)
        self.sock.settimeout(0.1)
        self.addr, self.port = addr, self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop:
            try:
                c, _ = self.sock.accept()
                self.accepted += 1
                c.close()
            except (socket.timeout, OSError):
                pass

    def close(self):
        self._stop = True
        self.thread.join()
        self.sock.close()


class BlackHole:
    """listen(fd, 0) with its one-entry accept queue filled and never
    drained: the kernel drops every further SYN, so connects time out."""

    def __init__(self, addr="0.0.0.0", port=0):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        fill_addr = "127.0.0.1" if addr == "0.0.0.0" else addr
        # One queued connection fills a backlog-0 accept queue. (A second
        # filler would itself sit in SYN_SENT and confuse SYN_SENT counts.)
        self.fillers = [socket.create_connection((fill_addr, self.port), timeout=5)]

    def close(self):
        for f in self.fillers:
            f.close()
        self.sock.close()


def closed_port(addr="127.0.0.1"):
    """A port with nothing listening on addr: connects are refused (RST)."""
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
    s.bind((addr, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def free_tcp_port():
    return closed_port("127.0.0.1")


class SynSentSampler:
    """Samples /proc/net/tcp{,6} for SYN_SENT sockets to a set of remote
    ports, every few ms, and keeps the maximum seen."""

    def __init__(self, remote_ports, interval=0.002):
        self.ports = {f"{p:04X}" for p in remote_ports}
        self.interval = interval
        self.max = 0
        # The largest count seen in two samples in a row. A sample is not an
        # atomic snapshot (the kernel walks its hash while sockets open and
        # close), so a single one can count a closing socket and its
        # successor both; a socket the kernel really holds stays for many.
        self.sustained = 0
        self._last = 0
        self.samples = 0
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def count(self):
        # One large read() per file: the kernel walks its socket hash in a
        # single pass instead of one pass per page, so sockets that close and
        # open during the read are far less likely to be counted twice.
        n = 0
        for path in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            chunks = []
            try:
                while True:
                    chunk = os.read(fd, 1 << 22)
                    if not chunk:
                        break
                    chunks.append(chunk)
            finally:
                os.close(fd)
            for line in b"".join(chunks).decode().splitlines()[1:]:
                parts = line.split()
                if parts[3] == "02" and parts[2].rsplit(":", 1)[1] in self.ports:
                    n += 1
        return n

    def _run(self):
        while not self._stop:
            n = self.count()
            self.max = max(self.max, n)
            self.sustained = max(self.sustained, min(n, self._last))
            self._last = n
            self.samples += 1
            time.sleep(self.interval)

    def stop(self):
        self._stop = True
        self.thread.join()
        return self.max


def write_targets(path, endpoints):
    with open(path, "w") as f:
        for host, port in endpoints:
            f.write(f"[{host}]:{port}\n" if ":" in host else f"{host}:{port}\n")


def run_dial(args, timeout=120, **kw):
    cmd = [SWARMDIAL, "dial"] + [str(a) for a in args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


def read_rows(path):
    with open(path) as f:
        if path.endswith(".jsonl"):
            return [json.loads(line) for line in f if line.strip()]
        return list(csv.DictReader(f))


def bencode(v):
    """BEP 3 encoding of ints, bytes, str, lists and dicts (keys sorted)."""
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, str):
        return bencode(v.encode())
    if isinstance(v, list):
        return b"l" + b"".join(bencode(x) for x in v) + b"e"
    return b"d" + b"".join(bencode(k) + bencode(v[k]) for k in sorted(v)) + b"e"


def read_json(path):
    with open(path) as f:
        return json.load(f)


class Check:
    """Collects failures so one run reports every broken assertion."""

    def __init__(self, name):
        self.name, self.failures = name, []

    def that(self, cond, msg):
        if not cond:
            self.failures.append(msg)
            print(f"FAIL: {msg}", flush=True)
        return cond

    def done(self):
        if self.failures:
            print(f"{self.name}: {len(self.failures)} failure(s)")
            sys.exit(1)
        print(f"{self.name}: ok")
        sys.exit(0)


def skip(reason):
    """meson treats exit code 77 as a skipped test."""
    print(f"SKIP: {reason}")
    sys.exit(77)


def is_root():
    return os.geteuid() == 0


def sh(*cmd, check=True, **kw):
    return subprocess.run([str(c) for c in cmd], check=check, capture_output=True, text=True, **kw)


class NetnsPair:
    """Two namespaces joined by a veth pair (DESIGN "Test networks"):
    `dialer` holds 198.18.N.1 and `peer` holds 198.18.N.2, with optional
    nftables rules in the peer that drop SYNs to given ports (black holes).
    The namespaces get a small TCP hash table so /proc/net/tcp can be read
    in microseconds, which keeps SYN_SENT samples close to instantaneous.
    Everything is deleted on close(), which callers run in `finally`."""

    def __init__(self, tag, subnet=0, drop_ports=None, ehash_entries=1024):
        self.dialer = f"sd_{tag}_{os.getpid()}_d"
        self.peer = f"sd_{tag}_{os.getpid()}_p"
        self.dialer_ip = f"198.18.{subnet}.1"
        self.peer_ip = f"198.18.{subnet}.2"
        self._made = []
        old = sh("sysctl", "-n", "net.ipv4.tcp_child_ehash_entries", check=False).stdout.strip()
        if old:
            sh("sysctl", "-qw", f"net.ipv4.tcp_child_ehash_entries={ehash_entries}")
        try:
            for ns in (self.dialer, self.peer):
                sh("ip", "netns", "add", ns)
                self._made.append(ns)
        except BaseException:
            self.close()
            raise
        finally:
            if old:
                sh("sysctl", "-qw", f"net.ipv4.tcp_child_ehash_entries={old}")
        try:
            self._build(subnet, drop_ports)
        except BaseException:
            self.close()
            raise

    def _build(self, subnet, drop_ports):
        veth_d, veth_p = f"sdv{os.getpid() % 100000}{subnet}d", f"sdv{os.getpid() % 100000}{subnet}p"
        sh("ip", "link", "add", veth_d, "netns", self.dialer, "type", "veth", "peer", "name",
           veth_p, "netns", self.peer)
        for ns, dev, ip in ((self.dialer, veth_d, self.dialer_ip), (self.peer, veth_p, self.peer_ip)):
            sh("ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        if drop_ports:
            lo, hi = drop_ports
            rules = (f"table inet sd_blackhole {{\n chain input {{\n"
                     f"  type filter hook input priority 0;\n  tcp dport {lo}-{hi} drop\n }}\n}}\n")
            sh("ip", "netns", "exec", self.peer, "nft", "-f", "-", input=rules)

    def exec_prefix(self, ns):
        return ["ip", "netns", "exec", ns]

    def close(self):
        for ns in self._made:
            sh("ip", "netns", "del", ns, check=False)
        self._made = []


class ProcSynSentSampler(SynSentSampler):
    """SynSentSampler over /proc/PID/net/tcp, i.e. the namespace of PID."""

    def __init__(self, pid, remote_ports, interval=0.002):
        self.pid = pid
        super().__init__(remote_ports, interval)

    def count(self):
        n = 0
        for name in ("tcp", "tcp6"):
            try:
                with open(f"/proc/{self.pid}/net/{name}", "rb", buffering=0) as f:
                    data = f.read()
            except (FileNotFoundError, ProcessLookupError):
                continue
            for line in data.decode().splitlines()[1:]:
                parts = line.split()
                if parts[3] == "02" and parts[2].rsplit(":", 1)[1] in self.ports:
                    n += 1
        return n
