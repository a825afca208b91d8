"""deploy/systemd/: `seed` as a Type=notify service, checked without a
running systemd (tests run in containers where it is not PID 1).

- `systemd-analyze verify` accepts the unit with no warning (it reads the
  ExecStart binary, so the copy checked points at the built one: the only
  line that differs), and rejects a copy with a misspelt key, so the check
  can fail;
- `systemd-analyze security --offline` rates the hardening 2.0 or better;
- the notify protocol, spoken by the real binary through libsystemd: seed
  started with the unit's ExecStart arguments and the example seed.conf
  (only its paths and ports changed) and with NOTIFY_SOCKET and
  WATCHDOG_USEC set sends READY=1 once its listener accepts, a STATUS= line
  and a WATCHDOG=1 ping every second, and STOPPING=1 on SIGTERM, then exits
  0 with its summary written."""
import hashlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from sdtest import SWARMDIAL, Check, bencode, free_tcp_port, read_json, skip

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
UNIT = os.path.join(ROOT, "deploy", "systemd", "swarmdial-seed.service")
CONF = os.path.join(ROOT, "deploy", "systemd", "seed.conf")
INSTALLED = "/usr/local/bin/swarmdial"
check = Check("systemd unit")
if not shutil.which("systemd-analyze"):
    skip("systemd-analyze not installed (Debian package systemd)")
tmp = tempfile.mkdtemp(prefix="sd_unit_")
unit_text = open(UNIT).read()
binary = os.path.abspath(SWARMDIAL)


def verify(text, name="swarmdial-seed.service"):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return subprocess.run(["systemd-analyze", "verify", path], capture_output=True, text=True, timeout=60)


# verify
local = unit_text.replace(INSTALLED, binary)
changed = [(a, b) for a, b in zip(unit_text.splitlines(), local.splitlines()) if a != b]
check.that(len(changed) == 1 and changed[0][0].startswith("ExecStart="),
           f"only ExecStart names the binary: {changed}")
r = verify(local)
check.that(r.returncode == 0 and not r.stderr.strip(), f"systemd-analyze verify: rc {r.returncode} {r.stderr}")
r = verify(local.replace("ProtectSystem=", "ProtectSystme="))
check.that("Unknown key" in r.stderr, f"verify should report a misspelt key: {r.stderr!r}")

# security
r = subprocess.run(["systemd-analyze", "security", "--offline=true", os.path.join(tmp, "swarmdial-seed.service")],
                   capture_output=True, text=True, timeout=60)
m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout)
check.that(m is not None, f"security: no exposure level in {r.stdout[-300:]!r} {r.stderr[-300:]!r}")
if m:
    print(f"systemd-analyze security: exposure {m.group(1)}")
    check.that(float(m.group(1)) <= 2.0, f"exposure {m.group(1)} > 2.0")
props = dict(line.split("=", 1) for line in unit_text.splitlines() if "=" in line and not line.startswith("#"))
check.that(props.get("Type") == "notify" and props.get("WatchdogSec"), f"Type=notify with a watchdog: {props}")
check.that(props.get("NoNewPrivileges") == "yes" and props.get("CapabilityBoundingSet") == ""
           and props.get("ProtectSystem") == "strict" and props.get("LimitNOFILE"),
           "NoNewPrivileges, an empty CapabilityBoundingSet, ProtectSystem=strict, LimitNOFILE")


# The notify protocol. A torrent whose announce-list names a closed UDP
# port on loopback: `tracker = torrent` is exercised, its announces fail.
data = os.urandom(100_000)
data_path, torrent = os.path.join(tmp, "f.bin"), os.path.join(tmp, "t.torrent")
with open(data_path, "wb") as f:
    f.write(data)
hashes = b"".join(hashlib.sha1(data[i:i + 16384]).digest() for i in range(0, len(data), 16384))
closed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
closed.bind(("127.0.0.1", 0))
udp_port = closed.getsockname()[1]
closed.close()
with open(torrent, "wb") as f:
    f.write(bencode({"announce": f"udp://127.0.0.1:{udp_port}/announce",
                     "info": {"name": "f.bin", "length": len(data), "piece length": 16384, "pieces": hashes}}))
conf_text = open(CONF).read()
conf = {k.strip(): v.strip() for k, v in (line.split("=", 1) for line in conf_text.splitlines()
                                          if "=" in line and not line.lstrip().startswith("#"))}
conf_local = (conf_text.replace(conf["torrent"], torrent).replace(conf["data"], data_path)
              .replace(conf["listen"], "127.0.0.1:0").replace(conf["metrics"], f"127.0.0.1:{free_tcp_port()}")
              .replace(conf["state-dir"], os.path.join(tmp, "resume")))
conf_path = os.path.join(tmp, "seed.conf")
with open(conf_path, "w") as f:
    f.write(conf_local)
summary = os.path.join(tmp, "last-run.json")
exec_start = shlex.split(props["ExecStart"])
check.that(exec_start[0] == INSTALLED and exec_start[1] == "seed", f"ExecStart: {exec_start}")
args = [binary] + [conf_path if a == "/etc/swarmdial/seed.conf" else summary if a.endswith("last-run.json") else a
                   for a in exec_start[1:]]

notify_path = os.path.join(tmp, "notify")
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(notify_path)
sock.settimeout(0.2)
messages = []  # (time, text)
done = threading.Event()


def collect():
    while not done.is_set():
        try:
            messages.append((time.monotonic(), sock.recv(65536).decode()))
        except socket.timeout:
            pass


reader = threading.Thread(target=collect, daemon=True)
reader.start()
env = dict(os.environ, NOTIFY_SOCKET=notify_path, WATCHDOG_USEC="3000000")
p = subprocess.Popen(args, env=env, stderr=subprocess.PIPE, text=True)
try:
    deadline = time.monotonic() + 20
    ready_at = None
    while time.monotonic() < deadline and ready_at is None and p.poll() is None:
        ready_at = next((t for t, m in messages if "READY=1" in m.split("\n")), None)
        time.sleep(0.05)
    check.that(ready_at is not None, f"no READY=1 within 20 s: {messages}")
    # The "seeding ... port N" line came before READY: the port accepts now.
    line = p.stderr.readline()
    port = re.search(r"port (\d+)", line)
    check.that(port is not None, f"no listen port in {line!r}")
    if port:
        try:
            socket.create_connection(("127.0.0.1", int(port.group(1))), timeout=2).close()
            accepted = True
        except OSError:
            accepted = False
        check.that(accepted, "the listener accepts once READY=1 is sent")
    time.sleep(2.0)
    # `systemctl reload` (ExecReload): SIGHUP rereads, it does not stop the service.
    check.that("ExecReload=/bin/kill -HUP $MAINPID" in open(UNIT).read(), "the unit reloads by SIGHUP")
    p.send_signal(signal.SIGHUP)
    time.sleep(2.5)
    check.that(p.poll() is None, f"SIGHUP ended the service: exit {p.poll()}")
    p.send_signal(signal.SIGTERM)
    rc = p.wait(timeout=40)
    time.sleep(0.3)
finally:
    if p.poll() is None:
        p.kill()
    done.set()
    reader.join()
    sock.close()

texts = [m for _, m in messages]
print(f"{len(texts)} notifications; first {texts[:1]}, last {texts[-1:]}")
status = [m for m in texts if m.startswith("STATUS=") and "peers" in m]
pings = [m for m in texts if m == "WATCHDOG=1"]
check.that(len(status) >= 3, f"a STATUS line a second: {len(status)} in 4.5 s")
check.that(all("half-open" in s for s in status), f"STATUS carries the status line: {status[:1]}")
check.that(len(pings) >= 3, f"a WATCHDOG=1 ping a second: {len(pings)} in 4.5 s")
check.that(any(m.startswith("STOPPING=1") for m in texts), f"STOPPING=1 at SIGTERM: {texts[-3:]}")
check.that(rc == 0, f"exit code {rc} after SIGTERM")
s = read_json(summary) if os.path.exists(summary) else {}
check.that(s.get("interrupted") is True, f"summary written and marked interrupted: {list(s)[:5]}")
check.that(s.get("seed", {}).get("resume", {}).get("saved") is True,
           f"the config's state-dir keeps a resume state: {s.get('seed', {}).get('resume')}")

# Outside systemd nothing is sent and nothing breaks: the other tests run
# seed without NOTIFY_SOCKET.
shutil.rmtree(tmp, ignore_errors=True)
check.done()
