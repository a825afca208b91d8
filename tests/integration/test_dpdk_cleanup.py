"""SIGKILL of a DPDK run, then `swarmdial cleanup` (or the next run) removes
what it left, in the sd_* namespaces of dpdk_net.py:

1. a TAP-path run (dial --hold over net_af_packet) killed: its nftables
   table and source rule stay behind. `cleanup` from another network
   namespace leaves them alone and says why; `cleanup --dry-run` lists them
   and changes nothing; the next DPDK run removes them itself and says so.
2. an AF_XDP run killed: its XDP program stays on the interface. `cleanup`
   detaches it and says so; a second `cleanup` has nothing to do. No
   journal is left in /run/swarmdial."""
import json
import os
import signal
import subprocess
import tempfile
import time

from dpdk_net import DpdkNet, skip_unless_dpdk
from sdtest import SWARMDIAL, Check

skip_unless_dpdk(SWARMDIAL)
check = Check("dpdk cleanup after SIGKILL")
tmp = tempfile.mkdtemp(prefix="sd_cleanup_")
net = DpdkNet("clean", subnet=24)


def journal(pid):
    try:
        with open(f"/run/swarmdial/dpdk-{pid}.json") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def wait_for_change(proc, kind, timeout=30):
    t0 = time.time()
    while time.time() - t0 < timeout and proc.poll() is None:
        j = journal(proc.pid)
        if j and any(c["kind"] == kind for c in j["changes"]):
            return j
        time.sleep(0.1)
    return None


def in_engine(*cmd):
    return subprocess.run(net.in_engine(list(cmd)), capture_output=True, text=True, timeout=60)


def nft_tables():
    return in_engine("nft", "list", "tables", "netdev").stdout


def rules():
    return in_engine("ip", "rule", "show").stdout


def xdp_on_wire():
    out = in_engine("ip", "-j", "link", "show", "dev", net.engine_if).stdout
    return "xdp" in json.loads(out)[0] if out.strip() else False


def kill9(proc):
    proc.send_signal(signal.SIGKILL)
    proc.wait()


try:
    listeners = net.listeners(first=6000, count=10, keep=True)
    targets = os.path.join(tmp, "live.txt")
    with open(targets, "w") as f:
        f.writelines(f"{net.peer_ip}:{6000 + i}\n" for i in range(10))
    holes = os.path.join(tmp, "holes.txt")
    with open(holes, "w") as f:
        f.writelines(f"{net.peer_ip}:{7000 + i}\n" for i in range(200))

    # 1. The TAP path, killed.
    tap_run = subprocess.Popen(net.in_engine([
        SWARMDIAL, "dial", "--backend", "dpdk", "--source", f"{net.engine_ip}/32", "--dpdk",
        net.eal_args(1, prefix="sdca"), "--targets", targets, "--hold", "--duration", 60,
        "--output", os.path.join(tmp, "tap.csv"), "--quiet"]),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    j = wait_for_change(tap_run, "kernel_side")
    check.that(j is not None, "the TAP run journals its changes in /run/swarmdial")
    time.sleep(0.5)
    kill9(tap_run)
    table = f"swarmdial_wire_{tap_run.pid}"
    check.that(table in nft_tables(), f"the killed run left its nftables table: {nft_tables()}")
    check.that(f"from {net.engine_ip} lookup" in rules(), f"...and its source rule: {rules()}")

    elsewhere = subprocess.run([SWARMDIAL, "cleanup"], capture_output=True, text=True, timeout=60)
    check.that(elsewhere.returncode == 0 and "another network namespace" in elsewhere.stdout,
               f"cleanup elsewhere leaves it: {elsewhere.stdout!r}")
    dry = in_engine(SWARMDIAL, "cleanup", "--dry-run")
    print(dry.stdout.strip())
    check.that(dry.returncode == 0 and "would undo" in dry.stdout and table in dry.stdout,
               f"--dry-run lists the table: {dry.stdout!r}")
    check.that(table in nft_tables(), "--dry-run changed nothing")

    # The next DPDK run (AF_XDP, dial-only, refused targets) cleans up first.
    refused = os.path.join(tmp, "refused.txt")
    with open(refused, "w") as f:
        f.writelines(f"{net.peer_ip}:{5000 + i}\n" for i in range(5))
    nxt = in_engine(SWARMDIAL, "dial", "--backend", "dpdk", "--source", f"{net.engine_ip}/32",
                    "--dpdk", net.eal_args(1, prefix="sdcb", driver="af_xdp"), "--targets", refused,
                    "--output", os.path.join(tmp, "next.csv"), "--quiet")
    print(nxt.stderr.strip())
    check.that(nxt.returncode == 0, f"the next run: exit {nxt.returncode}: {nxt.stderr[-300:]}")
    check.that(f"cleaned up: nftables table netdev {table}" in nxt.stderr,
               f"the next run says what it removed: {nxt.stderr!r}")
    check.that(table not in nft_tables(), "the table is gone")
    check.that(f"from {net.engine_ip} lookup" not in rules(), f"the rule is gone: {rules()}")
    check.that(journal(tap_run.pid) is None, "the killed run's journal is gone")
    check.that(not xdp_on_wire(), "a clean AF_XDP run leaves no XDP program")

    # 2. An AF_XDP run, killed.
    xdp_run = subprocess.Popen(net.in_engine([
        SWARMDIAL, "dial", "--backend", "dpdk", "--source", f"{net.engine_ip}/32", "--dpdk",
        net.eal_args(1, prefix="sdcc", driver="af_xdp"), "--targets", holes, "--half-open", 8,
        "--timeout", 3000, "--output", os.path.join(tmp, "xdp.csv"), "--quiet"]),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    j = wait_for_change(xdp_run, "xdp")
    check.that(j is not None, "the AF_XDP run journals its XDP program")
    kill9(xdp_run)
    check.that(xdp_on_wire(), "the killed run left its XDP program on the interface")
    out = in_engine(SWARMDIAL, "cleanup")
    print(out.stdout.strip())
    check.that(out.returncode == 0 and "removed: XDP program" in out.stdout,
               f"cleanup says it detached the program: {out.stdout!r}")
    check.that(not xdp_on_wire(), "the XDP program is gone")
    again = in_engine(SWARMDIAL, "cleanup")
    check.that("nothing to clean up" in again.stdout, f"a second cleanup: {again.stdout!r}")
    left = [f for f in os.listdir("/run/swarmdial") if f.startswith("dpdk-")] \
        if os.path.isdir("/run/swarmdial") else []
    mine = [f for f in left if f in (f"dpdk-{tap_run.pid}.json", f"dpdk-{xdp_run.pid}.json")]
    check.that(not mine, f"journals left: {mine}")
finally:
    net.close()
check.done()
