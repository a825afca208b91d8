"""The DPDK test network (DESIGN "Test networks", issue 4's topology):
namespace `engine` holds one veth end with NO address, which swarmdial
drives through a DPDK vdev (net_af_packet or net_af_xdp); namespace `peer` holds the other
end with 198.18.S.1/24 and real kernel peers:

  ports 6000-6099 on 198.18.S.1: listening (established)
  ports 5000-5999: closed (refused, the kernel sends RST)
  ports 7000-7999: nftables drop (timeout)
  ports 8000-8999: nftables reject with ICMP host-unreachable (unreachable)

The engine's own address (198.18.S.100) exists only inside swarmdial.
Everything is deleted on close(), which callers run in `finally`."""
import os
import signal
import subprocess
import sys
import time

from sdtest import is_root, sh, skip

HERE = os.path.dirname(os.path.abspath(__file__))

NFT_RULES = """table inet sd_dpdk {
 chain input {
  type filter hook input priority 0;
  tcp dport 7000-7999 drop
  tcp dport 8000-8999 reject with icmp type host-unreachable
 }
}
"""


def skip_unless_dpdk(swarmdial):
    """Skips (exit 77) without root or in a build without the dpdk backend."""
    if not is_root():
        skip("needs root for sd_* namespaces and a DPDK port")
    # Flags that pass validation, then EAL arguments no EAL accepts: a DPDK
    # build fails at once in EAL (nothing is sent), one without DPDK says so.
    probe = subprocess.run([swarmdial, "dial", "--range", "198.18.0.1/32:1", "--backend", "dpdk",
                            "--dpdk", "--not-an-eal-option", "--source", "198.18.0.100/32",
                            "--output", "/dev/null", "--quiet"],
                           capture_output=True, text=True, timeout=30)
    if "no DPDK support" in probe.stderr:
        skip("this build has no DPDK backend")


class DpdkNet:
    def __init__(self, tag, subnet):
        pid = os.getpid()
        self.engine = f"sd_{tag}_{pid}_e"
        self.peer = f"sd_{tag}_{pid}_p"
        self.engine_if = f"sde{pid % 100000}{subnet}"
        self.peer_if = f"sdp{pid % 100000}{subnet}"
        self.peer_ip = f"198.18.{subnet}.1"
        self.engine_ip = f"198.18.{subnet}.100"
        self.absent_ip = f"198.18.{subnet}.77"  # on-link, nobody answers ARP
        self._made, self._procs = [], []
        try:
            for ns in (self.engine, self.peer):
                sh("ip", "netns", "add", ns)
                self._made.append(ns)
            # Room for two queues, one in use: net_af_xdp binds an AF_XDP
            # socket per queue, and DPDK 22.11's PMD gives a veth (which has
            # rx/tx channels, no combined ones) only one. set_engine_queues()
            # makes the second one real, for the test of that mismatch.
            sh("ip", "link", "add", self.engine_if, "netns", self.engine, "numtxqueues", "2",
               "numrxqueues", "2", "type", "veth", "peer", "name", self.peer_if, "netns",
               self.peer, "numtxqueues", "2", "numrxqueues", "2")
            self.set_engine_queues(1)
            sh("ip", "-n", self.engine, "link", "set", self.engine_if, "up")
            sh("ip", "-n", self.peer, "addr", "add", f"{self.peer_ip}/24", "dev", self.peer_if)
            for ns, dev in ((self.engine, "lo"), (self.peer, self.peer_if), (self.peer, "lo")):
                sh("ip", "-n", ns, "link", "set", dev, "up")
            # The peer keeps veth's default offloads: its frames reach DPDK
            # with TCP checksums left partial and, on the handed-off flows,
            # as GSO frames of up to 64 KB; the engine must take both.
            # Linux rate-limits ICMP errors per destination (burst 6, then
            # 1/s); every unreachable target must get its answer.
            sh("ip", "netns", "exec", self.peer, "sysctl", "-qw", "net.ipv4.icmp_ratelimit=0")
            sh("ip", "netns", "exec", self.peer, "nft", "-f", "-", input=NFT_RULES)
        except BaseException:
            self.close()
            raise

    def set_engine_queues(self, n):
        """n queues each way on both ends (veth's XDP wants at least as many
        receive queues as its peer transmits on)."""
        for ns, dev in ((self.engine, self.engine_if), (self.peer, self.peer_if)):
            sh("ip", "netns", "exec", ns, "ethtool", "-L", dev, "rx", str(n), "tx", str(n))

    def eal_args(self, queues=1, prefix="sd", driver="af_packet"):
        """EAL arguments for a port on the engine's veth end: net_af_packet
        (the TAP exception path) or net_af_xdp (swarmdial's XDP program)."""
        if driver == "af_xdp":
            vdev = f"net_af_xdp0,iface={self.engine_if},queue_count={queues}"
        else:
            vdev = f"net_af_packet0,iface={self.engine_if}"
            if queues > 1:
                vdev += f",qpairs={queues}"
        return (f"--no-huge -m 256 --no-pci --no-shconf --file-prefix {prefix}{os.getpid()} "
                f"--vdev {vdev}")

    def in_engine(self, cmd):
        return ["ip", "netns", "exec", self.engine] + [str(c) for c in cmd]

    def in_peer(self, cmd):
        return ["ip", "netns", "exec", self.peer] + [str(c) for c in cmd]

    def start_in_peer(self, cmd, ready_line="ready"):
        """Starts a helper in the peer namespace and waits for its ready line."""
        p = subprocess.Popen(self.in_peer(cmd), stdout=subprocess.PIPE, text=True)
        self._procs.append(p)
        line = p.stdout.readline().strip()
        if line != ready_line:
            raise RuntimeError(f"{cmd[:2]} did not start: {line!r}")
        return p

    def listeners(self, first=6000, count=10, keep=False):
        return self.start_in_peer([sys.executable, os.path.join(HERE, "peer_listeners.py"),
                                   self.peer_ip, first, count] + (["keep"] if keep else []))

    def capture(self, out_path):
        return self.start_in_peer([sys.executable, os.path.join(HERE, "syn_capture.py"),
                                   self.peer_if, out_path])

    def stop(self, p):
        """Ends a helper we started (by PID) and waits for it."""
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def close(self):
        for p in self._procs:
            self.stop(p)
        self._procs = []
        for ns in self._made:
            sh("ip", "netns", "del", ns, check=False)
        self._made = []
