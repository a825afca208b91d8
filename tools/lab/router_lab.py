#!/usr/bin/env python3
"""The router lab (DESIGN "Test networks"): dialer ns -- router ns -- targets
ns, joined by veth pairs, addresses from 198.18.0.0/15 that exist only here,
with ceilings planted on purpose:

- table: the router forwards and drops new flows once its conntrack holds
  TABLE of them (`ct state new ct count over TABLE counter drop`), with a
  short per-namespace nf_conntrack_tcp_timeout_syn_sent, as a NAT box does
  with its 120 s;
- accept: listeners accept at a fixed rate with a small backlog; the
  kernel drops the SYNs that do not fit;
- uplink: `tc tbf` on the router's uplink at a few Mbit/s, with a bulk
  transfer through it (a leecher downloading from the dialer's side), so a
  full queue inflates every handshake's RTT.

Targets are 198.18.3.0/24 and 198.19.0.0/16 (all local in the targets
namespace): ports
LIVE_PORTS answer (listeners), ports HOLE_PORTS are black holes (nftables
drop in the targets namespace).

As a module (the tests): `with RouterLab("tag", table=400) as lab: ...`.
As a script: `router_lab.py up TAG [--table N] [--syn-sent S] [--accept-rate N]
[--uplink-kbit N [--bulk]]`, then run swarmdial under `ip netns exec sd_TAG_d`, and
`router_lab.py down TAG`. Root only; it deletes what it makes."""
import argparse
import os
import signal
import subprocess
import sys
import time

LIVE_PORTS = (10000, 10099)
HOLE_PORTS = (20000, 20099)
TARGET_NET = "198.18.3.0/24"
# A larger block, also local in the targets namespace, for runs that must
# not run out of targets (benchmarks: 65536 addresses x the ports).
WIDE_NET = "198.19.0.0/16"
HERE = os.path.dirname(os.path.abspath(__file__))


def sh(*cmd, check=True, **kw):
    return subprocess.run([str(c) for c in cmd], check=check, capture_output=True, text=True, **kw)


class RouterLab:
    def __init__(self, tag, table=0, syn_sent_s=2, accept_rate=0, backlog=64, uplink_kbit=0,
                 close_s=1, bulk=False):
        self.tag = tag
        self.dialer, self.router, self.targets = (f"sd_{tag}_d", f"sd_{tag}_r", f"sd_{tag}_t")
        self.dialer_ip = "198.18.1.2"
        self.table = table
        self._made, self._procs = [], []
        try:
            self._build(table, syn_sent_s, close_s, accept_rate, backlog, uplink_kbit)
            if bulk:
                self.start_bulk()
        except BaseException:
            self.close()
            raise

    def _build(self, table, syn_sent_s, close_s, accept_rate, backlog, uplink_kbit):
        for ns in (self.dialer, self.router, self.targets):
            sh("ip", "netns", "add", ns)
            self._made.append(ns)
        short = self.tag[:6]
        links = ((self.dialer, f"{short}d0", "198.18.1.2/24", self.router, f"{short}r0", "198.18.1.1/24"),
                 (self.router, f"{short}r1", "198.18.2.1/24", self.targets, f"{short}t0", "198.18.2.2/24"))
        for ns_a, dev_a, ip_a, ns_b, dev_b, ip_b in links:
            sh("ip", "link", "add", dev_a, "netns", ns_a, "type", "veth", "peer", "name", dev_b,
               "netns", ns_b)
            for ns, dev, ip in ((ns_a, dev_a, ip_a), (ns_b, dev_b, ip_b)):
                sh("ip", "-n", ns, "addr", "add", ip, "dev", dev)
                sh("ip", "-n", ns, "link", "set", dev, "up")
        for ns in (self.dialer, self.router, self.targets):
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", self.dialer, "route", "add", "default", "via", "198.18.1.1")
        sh("ip", "-n", self.targets, "route", "add", "default", "via", "198.18.2.1")
        for net in (TARGET_NET, WIDE_NET):
            sh("ip", "-n", self.router, "route", "add", net, "via", "198.18.2.2")
            # Every address of the target nets is local in the targets namespace.
            sh("ip", "-n", self.targets, "route", "add", "local", net, "dev", "lo")
        self._sysctl(self.router, "net.ipv4.ip_forward", 1)
        self._sysctl(self.targets, "net.ipv4.icmp_ratelimit", 0)
        self._sysctl(self.targets, "net.ipv4.tcp_max_syn_backlog", backlog)
        self._sysctl(self.targets, "net.core.somaxconn", backlog)
        # The router's conntrack: unanswered SYNs live syn_sent_s; closed and
        # reset flows go quickly, as they would on a NAT box under load.
        rules = ("table inet sd_lab {\n counter lab_new {}\n counter lab_drop {}\n"
                 " chain forward_lab {\n  type filter hook forward priority 0;\n"
                 "  ct state new counter name lab_new\n"
                 + (f"  ct state new ct count over {table} counter name lab_drop drop\n" if table else "")
                 + " }\n}\n")
        self._nft(self.router, rules)
        for key, value in (("tcp_timeout_syn_sent", syn_sent_s), ("tcp_timeout_close", close_s),
                           ("tcp_timeout_time_wait", close_s), ("tcp_timeout_syn_recv", close_s)):
            self._sysctl(self.router, f"net.netfilter.nf_conntrack_{key}", value)
        self._nft(self.targets, "table inet sd_lab_holes {\n chain input {\n"
                                "  type filter hook input priority 0;\n"
                                f"  tcp dport {HOLE_PORTS[0]}-{HOLE_PORTS[1]} drop\n }}\n}}\n")
        if uplink_kbit:
            sh("ip", "netns", "exec", self.router, "tc", "qdisc", "add", "dev", f"{short}r1", "root",
               "tbf", "rate", f"{uplink_kbit}kbit", "burst", "4kb", "latency", "400ms")
        self.listeners = self.start_in(self.targets, [sys.executable, os.path.join(HERE, "lab_listeners.py"),
                                                      LIVE_PORTS[0], LIVE_PORTS[1], backlog, accept_rate])

    def start_bulk(self, port=30000):
        """A bulk TCP transfer from the dialer's side to the targets'."""
        bulk = os.path.join(HERE, "lab_bulk.py")
        self.start_in(self.targets, [sys.executable, bulk, "sink", port])
        self.start_in(self.dialer, [sys.executable, bulk, "send", "198.18.3.250", port])

    def _sysctl(self, ns, key, value):
        sh("ip", "netns", "exec", ns, "sysctl", "-qw", f"{key}={value}")

    def _nft(self, ns, rules):
        sh("ip", "netns", "exec", ns, "nft", "-f", "-", input=rules)

    def start_in(self, ns, cmd, ready="ready"):
        p = subprocess.Popen(["ip", "netns", "exec", ns] + [str(c) for c in cmd],
                             stdout=subprocess.PIPE, text=True)
        self._procs.append(p)
        if ready and p.stdout.readline().strip() != ready:
            raise RuntimeError(f"{cmd[:2]} did not start")
        return p

    def set_table(self, table):
        """Changes the router's table size mid-run (the rule is replaced)."""
        self.table = table
        out = sh("ip", "netns", "exec", self.router, "nft", "-a", "list", "chain", "inet", "sd_lab",
                 "forward_lab").stdout
        for line in out.splitlines():
            if "ct count over" in line and "# handle" in line:
                handle = line.rsplit("# handle", 1)[1].strip()
                sh("ip", "netns", "exec", self.router, "nft", "replace", "rule", "inet", "sd_lab",
                   "forward_lab", "handle", handle, "ct", "state", "new", "ct", "count", "over", table,
                   "counter", "name", "lab_drop", "drop")
                return
        raise RuntimeError("no table rule to change")

    def limit_udp(self, port, per_second, burst=50):
        """The router forwards at most PER_SECOND datagrams a second to
        udp PORT (a tracker's planted ceiling) and drops the rest."""
        sh("ip", "netns", "exec", self.router, "nft", "add", "rule", "inet", "sd_lab", "forward_lab",
           "udp", "dport", port, "limit", "rate", "over", f"{per_second}/second", "burst", burst,
           "packets", "drop")

    def counters(self):
        """(new flows seen, new flows dropped) at the router."""
        def packets(name):
            out = sh("ip", "netns", "exec", self.router, "nft", "list", "counter", "inet", "sd_lab",
                     name).stdout
            return int(out.split("packets", 1)[1].split()[0])
        return packets("lab_new"), packets("lab_drop")

    def targets_range(self, net=TARGET_NET, live_ports=LIVE_PORTS, holes=True):
        """--range for live ports (and, with holes, as many black-hole ports)."""
        text = f"{net}:{live_ports[0]}-{live_ports[1]}"
        if holes:
            text += f",{HOLE_PORTS[0]}-{HOLE_PORTS[0] + live_ports[1] - live_ports[0]}"
        return text

    def in_dialer(self, cmd):
        return ["ip", "netns", "exec", self.dialer] + [str(c) for c in cmd]

    def bulk_received(self, port=30000):
        """Bytes the bulk transfer's sink has received so far (0 without one)."""
        out = sh("ip", "netns", "exec", self.targets, "ss", "-tinH", "state", "established",
                 f"( sport = :{port} )", check=False).stdout
        total = 0
        for field in out.split():
            if field.startswith("bytes_received:"):
                total += int(field.split(":", 1)[1])
        return total

    def close(self):
        # Newest first: a bulk sender outlives its sink, so a sink stopped
        # first would reset it mid-write.
        for p in reversed(self._procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self._procs = []
        for ns in self._made:
            sh("ip", "netns", "del", ns, check=False)
        self._made = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("action", choices=["up", "down"])
    ap.add_argument("tag")
    ap.add_argument("--table", type=int, default=0)
    ap.add_argument("--syn-sent", type=int, default=2)
    ap.add_argument("--accept-rate", type=float, default=0)
    ap.add_argument("--backlog", type=int, default=64)
    ap.add_argument("--uplink-kbit", type=int, default=0)
    ap.add_argument("--bulk", action="store_true", help="a bulk transfer through the uplink")
    a = ap.parse_args()
    if a.action == "down":
        for suffix in ("d", "r", "t"):
            sh("ip", "netns", "del", f"sd_{a.tag}_{suffix}", check=False)
        return
    lab = RouterLab(a.tag, a.table, a.syn_sent, a.accept_rate, a.backlog, a.uplink_kbit, bulk=a.bulk)
    print(f"lab up: dial from `ip netns exec {lab.dialer}`, targets --range {lab.targets_range()}; "
          f"Ctrl-C tears it down")
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        lab.close()


if __name__ == "__main__":
    main()
