"""Helpers for the seeding interop tests: torrents made by python3-libtorrent,
libtorrent leechers, and running `swarmdial seed`. Loopback only."""
import filecmp
import os
import socket
import struct
import subprocess
import sys
import time
import urllib.request

import libtorrent as lt

SWARMDIAL = sys.argv[1]


def make_data(root, sizes):
    """Random files under root/set; sizes maps relative path -> bytes."""
    for rel, size in sizes.items():
        path = os.path.join(root, "set", rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(os.urandom(size))


def make_torrent(root, piece_size, out, v1_only=True):
    fs = lt.file_storage()
    lt.add_files(fs, os.path.join(root, "set"))
    flags = lt.create_torrent.v1_only if v1_only else 0
    t = lt.create_torrent(fs, piece_size, flags=flags)
    lt.set_piece_hashes(t, root)
    with open(out, "wb") as f:
        f.write(lt.bencode(t.generate()))
    return lt.torrent_info(out)


def free_port(addr="127.0.0.1"):
    s = socket.socket()
    s.bind((addr, 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Leecher:
    """A python3-libtorrent downloader on loopback. Plaintext by default (so
    the plaintext path is what most tests exercise); enc="forced" makes it
    speak MSE/PE with RC4 only, both ways, as users who require encryption
    configure it; enc="enabled" is libtorrent's own default.

    With settle=False it returns as soon as the session exists: its listening
    socket may be open before the torrent is loaded, so a peer that dials it
    at once is turned away, as a real client does, and must dial again."""

    ENC = {"forced": 0, "enabled": 1, "disabled": 2}  # libtorrent's enc_policy values

    def __init__(self, torrent, save_path, port=0, trackers=(), addr="127.0.0.1", settle=True,
                 enc="disabled"):
        policy = self.ENC[enc]
        self.ses = lt.session({
            "listen_interfaces": f"{addr}:{port}", "enable_dht": False, "enable_lsd": False,
            "enable_upnp": False, "enable_natpmp": False, "out_enc_policy": policy,
            "in_enc_policy": policy, "allowed_enc_level": 2 if enc == "forced" else 3,
            "prefer_rc4": enc != "disabled",
            "allow_multiple_connections_per_ip": True, "alert_mask": 0,
            "enable_outgoing_utp": False, "enable_incoming_utp": False})
        params = {"ti": lt.torrent_info(torrent), "save_path": save_path}
        if trackers:
            params["trackers"] = list(trackers)
        self.handle = self.ses.add_torrent(params)
        self.port = port
        if not settle:
            return
        deadline = time.time() + 10
        while not self.ses.listen_port() and time.time() < deadline:
            time.sleep(0.05)
        self.port = self.ses.listen_port()
        # A torrent still checking its save path turns peers away.
        checking = (lt.torrent_status.states.checking_files, lt.torrent_status.states.checking_resume_data)
        while self.handle.status().state in checking and time.time() < deadline:
            time.sleep(0.05)
        # libtorrent turns incoming peers away for a moment after the torrent
        # is added, even once it reports "downloading" (seen with 2.0.8).
        time.sleep(1.0)

    def connect(self, port):
        self.handle.connect_peer(("127.0.0.1", port))

    def wait_done(self, timeout):
        t0 = time.time()
        while time.time() - t0 < timeout:
            if self.handle.status().is_seeding:
                return time.time() - t0
            time.sleep(0.1)
        return None

    def progress(self):
        return self.handle.status().progress


def same_tree(a, b, rels):
    return all(filecmp.cmp(os.path.join(a, "set", r), os.path.join(b, "set", r), shallow=False)
               for r in rels)


def start_seed(args, **kw):
    return subprocess.Popen([SWARMDIAL, "seed", *map(str, args)], stderr=subprocess.PIPE, text=True, **kw)


def wait_for_port(port, timeout=10):
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def metric(port, name):
    """An unlabelled sample from swarmdial's /metrics on loopback, or None."""
    page = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    for line in page.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def bt_msg(mid, payload=b""):
    """One peer-wire message: length, id, payload."""
    return struct.pack(">IB", len(payload) + 1, mid) + payload


def bt_handshake(info_hash, peer_id=b"-XX0001-hostilepeer0"):
    """A BEP 3 handshake offering the extension protocol and BEP 6."""
    return b"\x13BitTorrent protocol" + bytes([0, 0, 0, 0, 0, 0x10, 0, 4]) + info_hash + peer_id


def unchoked_peer(port, info_hash, timeout=5):
    """A raw peer on loopback: handshake and INTERESTED sent, then it reads
    until the seeder unchokes it (or closes). Returns the socket."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(bt_handshake(info_hash) + bt_msg(2))
    s.settimeout(timeout)
    buf = b""
    while b"\x00\x00\x00\x01\x01" not in buf:  # UNCHOKE
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    return s


# Check and read_json are shared with the integration suite (tests/integration/sdtest.py).
from sdtest import Check, read_json  # noqa: E402,F401


def end_process(proc):
    """Ends a client we started, by its PID: SIGTERM, then SIGKILL after 10 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Transmission:
    """transmission-daemon (Debian's package) in the foreground, with its own
    config directory, on loopback only, downloading one torrent; settings
    override its defaults (e.g. {"encryption": 2}: encrypted peers only).
    Driven with transmission-remote. It has no way to be told a peer, so
    swarmdial dials it (at .peer_port). Ended by PID."""

    def __init__(self, torrent, download_dir, settings=None):
        import json
        import tempfile
        self.dir = tempfile.mkdtemp(prefix="sd_tr_")
        self.peer_port, self.rpc_port = free_port(), free_port()
        conf = {"peer-port": self.peer_port, "peer-port-random-on-start": False,
                "rpc-enabled": True, "rpc-port": self.rpc_port, "rpc-bind-address": "127.0.0.1",
                "rpc-authentication-required": False, "rpc-whitelist-enabled": False,
                "rpc-host-whitelist-enabled": False, "bind-address-ipv4": "127.0.0.1",
                "bind-address-ipv6": "::1", "dht-enabled": False, "lpd-enabled": False,
                "pex-enabled": False, "utp-enabled": False, "port-forwarding-enabled": False,
                "download-dir": download_dir, "incomplete-dir-enabled": False,
                "start-added-torrents": True, "message-level": 1}
        conf.update(settings or {})
        os.makedirs(download_dir, exist_ok=True)
        with open(os.path.join(self.dir, "settings.json"), "w") as f:
            json.dump(conf, f)
        self.proc = subprocess.Popen(["transmission-daemon", "-f", "-g", self.dir],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if not wait_for_port(self.rpc_port, timeout=15):
            self.close()
            raise RuntimeError("transmission-daemon did not open its RPC port")
        self.remote("-a", torrent, "-w", download_dir)
        deadline = time.time() + 10
        while not wait_for_port(self.peer_port, timeout=0.2) and time.time() < deadline:
            pass

    def remote(self, *args):
        return subprocess.run(["transmission-remote", f"127.0.0.1:{self.rpc_port}", *args],
                              capture_output=True, text=True, timeout=20).stdout

    def progress(self):
        return self.progress_of(1)

    def progress_of(self, tid):
        """Of the torrent with this id (1 for the first added, 2 next...)."""
        out = self.remote("-t", str(tid), "-i")
        for line in out.splitlines():
            line = line.strip()
            if line.startswith("Percent Done:"):
                return float(line.split(":")[1].strip().rstrip("%").replace("nan", "0")) / 100
        return 0.0

    def wait_done(self, timeout):
        t0 = time.time()
        while time.time() - t0 < timeout:
            if self.progress() >= 1.0:
                return time.time() - t0
            time.sleep(0.3)
        return None

    def close(self):
        end_process(self.proc)


class QBittorrent:
    """qbittorrent-nox (Debian's package) with its own profile directory,
    driven through its Web API on loopback (no login from localhost). DHT,
    LSD, PeX, UPnP and uTP are off, so it talks only to the peers it is told
    of or that dial it. encryption: 0 prefer, 1 require, 2 off (its own
    numbering). Ended by PID."""

    def __init__(self, download_dir, encryption=0):
        import tempfile
        import urllib.request
        self._urllib = urllib.request
        self.dir = tempfile.mkdtemp(prefix="sd_qb_")
        self.peer_port, self.web_port = free_port(), free_port()
        conf_dir = os.path.join(self.dir, "qBittorrent", "config")
        os.makedirs(conf_dir)
        os.makedirs(download_dir, exist_ok=True)
        with open(os.path.join(conf_dir, "qBittorrent.conf"), "w") as f:
            f.write("[LegalNotice]\nAccepted=true\n\n"
                    "[BitTorrent]\n"
                    f"Session\\Port={self.peer_port}\nSession\\DHTEnabled=false\n"
                    "Session\\LSDEnabled=false\nSession\\PeXEnabled=false\n"
                    f"Session\\Encryption={encryption}\nSession\\BTProtocol=TCP\n"
                    "Session\\QueueingSystemEnabled=false\n"
                    f"Session\\DefaultSavePath={download_dir}\n"
                    "Session\\AnonymousModeEnabled=false\n\n"
                    "[Preferences]\n"
                    f"WebUI\\Port={self.web_port}\nWebUI\\Address=127.0.0.1\n"
                    "WebUI\\LocalHostAuth=false\nWebUI\\CSRFProtection=false\n"
                    "WebUI\\HostHeaderValidation=false\nConnection\\UPnP=false\n"
                    "Connection\\ResolvePeerCountries=false\n"
                    "General\\Locale=en\n")
        self.proc = subprocess.Popen(["qbittorrent-nox", f"--profile={self.dir}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if not wait_for_port(self.web_port, timeout=20):
            self.close()
            raise RuntimeError("qbittorrent-nox did not open its Web API port")

    def _call(self, path, fields=None, files=None):
        url = f"http://127.0.0.1:{self.web_port}/api/v2/{path}"
        data, headers = None, {}
        if files:
            boundary = "sdqbboundary" + os.urandom(8).hex()
            parts = []
            for k, v in (fields or {}).items():
                parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"'
                             f"\r\n\r\n{v}\r\n".encode())
            for k, (name, body) in files.items():
                parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; '
                             f'filename="{name}"\r\nContent-Type: application/x-bittorrent'
                             "\r\n\r\n".encode() + body + b"\r\n")
            data = b"".join(parts) + f"--{boundary}--\r\n".encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif fields is not None:
            import urllib.parse
            data = urllib.parse.urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        req = self._urllib.Request(url, data=data, headers=headers)
        with self._urllib.urlopen(req, timeout=10) as r:
            return r.read()

    def add(self, torrent, info_hash):
        with open(torrent, "rb") as f:
            body = f.read()
        self._call("torrents/add", {"paused": "false"},
                   {"torrents": (os.path.basename(torrent), body)})
        deadline = time.time() + 15
        while time.time() < deadline and self.info(info_hash) is None:
            time.sleep(0.2)
        if self.info(info_hash) is None:
            raise RuntimeError(f"qbittorrent-nox did not add {torrent}")

    def info(self, info_hash):
        import json
        rows = json.loads(self._call(f"torrents/info?hashes={info_hash}"))
        return rows[0] if rows else None

    def progress(self, info_hash):
        row = self.info(info_hash)
        return row["progress"] if row else 0.0

    def add_peer(self, info_hash, port):
        """qBittorrent dials 127.0.0.1:port for this torrent."""
        self._call("torrents/addPeers", {"hashes": info_hash, "peers": f"127.0.0.1:{port}"})

    def close(self):
        import shutil
        end_process(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)
