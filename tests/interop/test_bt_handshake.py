"""--bt-infohash against a real BitTorrent client: python3-libtorrent seeds a
torrent on loopback; swarmdial dials it and must record bt_ok and the
client's name. A wrong info-hash is dropped by libtorrent (bt_closed); a
raw peer that answers with another hash is bt_mismatch; a peer that never
answers is bt_timeout. Run with Debian's /usr/bin/python3 (libtorrent)."""
import csv
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

try:
    import libtorrent as lt
except ImportError:
    print("SKIP: python3-libtorrent is not installed")
    sys.exit(77)

SWARMDIAL = sys.argv[1]
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg, flush=True)


tmp = tempfile.mkdtemp(prefix="sd_bt_")
payload = os.path.join(tmp, "payload.bin")
with open(payload, "wb") as f:
    f.write(os.urandom(256 * 1024))
fs = lt.file_storage()
lt.add_files(fs, payload)
t = lt.create_torrent(fs, 16384)
lt.set_piece_hashes(t, tmp)
info = lt.torrent_info(t.generate())
info_hash = str(info.info_hashes().v1)

ses = lt.session({"listen_interfaces": "127.0.0.1:0", "enable_dht": False, "enable_lsd": False,
                  "enable_upnp": False, "enable_natpmp": False, "alert_mask": 0,
                  "peer_fingerprint": lt.generate_fingerprint("LT", 2, 0, 8, 0)})
h = ses.add_torrent({"ti": info, "save_path": tmp, "flags": lt.torrent_flags.seed_mode})
deadline = time.time() + 10
while not ses.listen_port() and time.time() < deadline:
    time.sleep(0.05)
lt_port = ses.listen_port()


def raw_peer(reply_hash, answer):
    """Accepts one connection at a time; answers with a handshake for
    reply_hash, or stays silent when answer is False."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    held = []

    def run():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            held.append(c)
            if answer:
                c.recv(68)
                c.sendall(b"\x13BitTorrent protocol" + bytes(8) + reply_hash +
                          b"-TR4050-abcdefghijkl")

    threading.Thread(target=run, daemon=True).start()
    return srv


mismatch = raw_peer(hashlib.sha1(b"another torrent").digest(), True)
silent = raw_peer(b"", False)
targets = os.path.join(tmp, "t.txt")
with open(targets, "w") as f:
    f.write(f"127.0.0.1:{lt_port}\n127.0.0.1:{mismatch.getsockname()[1]}\n"
            f"127.0.0.1:{silent.getsockname()[1]}\n")
try:
    for backend in ("uring", "epoll"):
        out = os.path.join(tmp, f"r_{backend}.csv")
        summary = os.path.join(tmp, f"s_{backend}.json")
        r = subprocess.run([SWARMDIAL, "dial", "--targets", targets, "--bt-infohash", info_hash,
                            "--bt-timeout", "1500", "--backend", backend, "--output", out,
                            "--summary", summary, "--quiet"], capture_output=True, text=True,
                           timeout=60)
        check(r.returncode == 0, f"{backend}: exit {r.returncode} {r.stderr}")
        rows = {int(row["port"]): row for row in csv.DictReader(open(out))}
        check(len(rows) == 3, f"{backend}: {len(rows)} rows")
        lt_row = rows.get(lt_port, {})
        check(lt_row.get("outcome") == "established" and lt_row.get("bt") == "bt_ok",
              f"{backend}: libtorrent row {lt_row}")
        check(lt_row.get("client", "").startswith("libtorrent 2.0.8"),
              f"{backend}: client from peer_id: {lt_row.get('client')}")
        mm = rows.get(mismatch.getsockname()[1], {})
        check(mm.get("bt") == "bt_mismatch" and mm.get("client") == "Transmission 4.0.5",
              f"{backend}: mismatch row {mm}")
        sl = rows.get(silent.getsockname()[1], {})
        check(sl.get("bt") == "bt_timeout", f"{backend}: silent row {sl}")
        import json
        s = json.load(open(summary))
        check(s["bt"]["bt_ok"] == 1 and s["bt"]["bt_mismatch"] == 1 and s["bt"]["bt_timeout"] == 1,
              f"{backend}: summary bt {s.get('bt')}")

    # A wrong info-hash: the real client hangs up on us.
    out = os.path.join(tmp, "r_wrong.csv")
    r = subprocess.run([SWARMDIAL, "dial", "--targets", targets, "--bt-infohash", "00" * 20,
                        "--bt-timeout", "1500", "--output", out, "--quiet"],
                       capture_output=True, text=True, timeout=60)
    rows = {int(row["port"]): row for row in csv.DictReader(open(out))}
    check(rows.get(lt_port, {}).get("bt") == "bt_closed",
          f"libtorrent drops an unknown info-hash: {rows.get(lt_port)}")
finally:
    mismatch.close()
    silent.close()
    del ses

if failures:
    print(f"bt handshake interop: {len(failures)} failure(s)")
    sys.exit(1)
print("bt handshake interop: ok")
