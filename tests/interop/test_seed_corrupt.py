"""A partially corrupt data directory: the corrupt pieces are reported by
index at start-up and never served; a libtorrent leecher still gets every
other piece, byte-identical."""
import os
import shutil
import signal
import tempfile

import libtorrent as lt

from seedtest import Check, Leecher, free_port, make_data, make_torrent, read_json, start_seed, wait_for_port

check = Check("corrupt data")
tmp = tempfile.mkdtemp(prefix="sd_corrupt_")
piece = 262144
sizes = {"a.bin": 3 * 1024 * 1024, "b.bin": 1024 * 1024 + 333}
make_data(tmp, sizes)
torrent = os.path.join(tmp, "t.torrent")
info = make_torrent(tmp, piece, torrent)
bad = [2, 13]  # piece 13 lies in b.bin
seeded = os.path.join(tmp, "seeded")
shutil.copytree(os.path.join(tmp, "set"), os.path.join(seeded, "set"))
offsets = {"a.bin": 0, "b.bin": sizes["a.bin"]}
for p in bad:
    off = p * piece + 1000
    name = "a.bin" if off < sizes["a.bin"] else "b.bin"
    with open(os.path.join(seeded, "set", name), "r+b") as f:
        f.seek(off - offsets[name])
        byte = f.read(1)
        f.seek(off - offsets[name])
        f.write(bytes([byte[0] ^ 0xFF]))

port = free_port()
summary = os.path.join(tmp, "s.json")
leecher = Leecher(torrent, os.path.join(tmp, "dl"))
seed = start_seed(["--torrent", torrent, "--data", seeded, "--listen", f"127.0.0.1:{port}",
                   "--summary", summary, "--quiet", "--duration", 60, "--status"])
check.that(wait_for_port(port), "listening")
leecher.connect(port)
n = info.num_pieces()
import time
deadline = time.time() + 30
while time.time() < deadline:
    st = leecher.handle.status()
    if sum(st.pieces) >= n - len(bad):
        break
    time.sleep(0.2)
time.sleep(1.0)
st = leecher.handle.status()
seed.send_signal(signal.SIGINT)
rc = seed.wait(timeout=20)
err = seed.stderr.read()
check.that(rc == 0, f"seed exit {rc}")
check.that(f"2 of {n} pieces failed verification" in err and "2, 13" in err,
           f"start-up reports the corrupt pieces by index: {err!r}")
have = [i for i, v in enumerate(st.pieces) if v]
check.that(have == [i for i in range(n) if i not in bad], f"leecher has {len(have)}/{n}, missing {sorted(set(range(n)) - set(have))}")
s = read_json(summary)
check.that(s["seed"]["corrupt_pieces"] == bad, f"summary corrupt_pieces {s['seed']['corrupt_pieces']}")
check.that(s["seed"]["pieces_verified"] == n - len(bad), "pieces_verified")
# Pieces that arrived are the original bytes.
with open(os.path.join(tmp, "set", "a.bin"), "rb") as orig, open(os.path.join(tmp, "dl", "set", "a.bin"), "rb") as got:
    o, g = orig.read(), got.read()
    for p in (0, 1, 3, 11):
        check.that(o[p * piece:(p + 1) * piece] == g[p * piece:(p + 1) * piece], f"piece {p} identical")
check.done()
