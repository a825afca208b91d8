"""seed --state-dir (fast resume), with real files and a real client:

- the first start hashes every piece and writes the state;
- a restart with nothing changed hashes none, and a python3-libtorrent
  leecher still downloads everything byte-identical from that run;
- a file rewritten in place (one byte flipped, new mtime) sends exactly its
  pieces back to hashing; the flipped piece is reported and not served;
  putting the byte back restores it at the next start;
- a state file that is garbage, nested too deep, or another torrent's is
  named on stderr and ignored: every piece is hashed, the run goes on;
- --state-dir that is not a writable directory: one line, exit 2."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

from seedtest import (SWARMDIAL, Check, Leecher, free_port, make_data, make_torrent, read_json, same_tree,
                      start_seed, wait_for_port)

check = Check("fast resume")
tmp = tempfile.mkdtemp(prefix="sd_resume_")
piece = 262144
sizes = {"a.bin": 1024 * 1024, "b.bin": 700 * 1024 + 17, "c.bin": 500 * 1024}
make_data(tmp, sizes)
torrent = os.path.join(tmp, "t.torrent")
info = make_torrent(tmp, piece, torrent)
n = info.num_pieces()
state = os.path.join(tmp, "state")
data = tmp  # holds the torrent's directory, set/
order = [info.files().file_path(i).split("/")[-1] for i in range(info.num_files())]
offsets = {order[i]: info.files().file_offset(i) for i in range(info.num_files())}


def pieces_of(name):
    first = offsets[name] // piece
    last = (offsets[name] + sizes[name] - 1) // piece
    return list(range(first, last + 1))


def run(seconds=1.5, extra=()):
    summary = os.path.join(tmp, "s.json")
    if os.path.exists(summary):
        os.unlink(summary)
    r = subprocess.run([SWARMDIAL, "seed", "--torrent", torrent, "--data", data, "--listen", "127.0.0.1:0",
                        "--state-dir", state, "--duration", str(seconds), "--summary", summary, *extra],
                       capture_output=True, text=True, timeout=60)
    s = read_json(summary)["seed"] if os.path.exists(summary) else {}
    return r.returncode, r.stderr, s


def flip(name, at):
    path = os.path.join(data, "set", name)
    with open(path, "r+b") as f:
        f.seek(at)
        b = f.read(1)
        f.seek(at)
        f.write(bytes([b[0] ^ 0xFF]))
    t = time.time() + 5  # a new mtime whatever the clock's granularity
    os.utime(path, (t, t))


state_file = os.path.join(state, f"{info.info_hash()}.resume")
rc, err, s = run()
check.that(rc == 0 and s.get("resume", {}).get("loaded") is False, f"first run: rc {rc} {s.get('resume')} {err!r}")
check.that(s.get("resume", {}).get("pieces_hashed") == n, f"first run hashes all {n}: {s.get('resume')}")
check.that(os.path.exists(state_file), f"state written: {os.listdir(state) if os.path.isdir(state) else None}")

rc, err, s = run()
r = s.get("resume", {})
check.that(rc == 0 and r.get("loaded") and r.get("pieces_hashed") == 0 and r.get("pieces_from_state") == n,
           f"unchanged restart hashes nothing: {r}")
check.that("resumed set from" in err, f"the restart says it resumed: {err!r}")

# A flipped byte in b.bin: b's pieces (and only those) are hashed again.
flip_at = 300 * 1024
flipped_piece = (offsets["b.bin"] + flip_at) // piece
flip("b.bin", flip_at)
rc, err, s = run()
r = s.get("resume", {})
print(f"after rewriting b.bin: {r}; corrupt {s.get('corrupt_pieces')}")
check.that(r.get("pieces_hashed") == len(pieces_of("b.bin")),
           f"rehashed {r.get('pieces_hashed')}, b.bin spans {pieces_of('b.bin')}")
check.that(s.get("corrupt_pieces") == [flipped_piece], f"corrupt {s.get('corrupt_pieces')} != [{flipped_piece}]")
check.that(f"failed verification" in err and str(flipped_piece) in err, f"the bad piece is reported: {err!r}")

# Put it back: the bad piece (saved as not verified) is hashed and restored.
flip("b.bin", flip_at)
rc, err, s = run()
r = s.get("resume", {})
check.that(s.get("corrupt_pieces") == [] and s.get("pieces_verified") == n, f"restored: {r} {s.get('corrupt_pieces')}")

# Nothing hashed this time, and a real client gets every byte.
port = free_port()
summary = os.path.join(tmp, "lt.json")
leecher = Leecher(torrent, os.path.join(tmp, "dl"))
seed = start_seed(["--torrent", torrent, "--data", data, "--listen", f"127.0.0.1:{port}", "--state-dir", state,
                   "--summary", summary, "--quiet", "--duration", 60])
try:
    check.that(wait_for_port(port), "listening")
    leecher.connect(port)
    took = leecher.wait_done(30)
    check.that(took is not None, f"the leecher completes from a resumed seed: {leecher.progress():.0%}")
finally:
    seed.send_signal(signal.SIGTERM)
    rc = seed.wait(timeout=30)
check.that(rc == 0, f"resumed seed exit {rc}")
s = read_json(summary)["seed"]
check.that(s["resume"]["pieces_hashed"] == 0, f"that run hashed nothing: {s['resume']}")
check.that(same_tree(tmp, os.path.join(tmp, "dl"), sizes), "byte-identical download")

# States that do not fit are named and ignored.
good = open(state_file, "rb").read()
for name, bytes_, why in (("garbage", b"this is not bencode", "not a resume file"),
                          ("too deep", b"d5:files" + b"l" * 500 + b"e" * 500 + b"e", "not a resume file"),
                          ("truncated", good[:-3], "not a resume file"),
                          ("another torrent's", good.replace(info.info_hash().to_bytes(), b"\0" * 20),
                           "saved for another torrent")):
    with open(state_file, "wb") as f:
        f.write(bytes_)
    rc, err, s = run(seconds=0.5)
    r = s.get("resume", {})
    check.that(rc == 0 and r.get("pieces_hashed") == n and why in r.get("ignored", ""),
               f"{name} state: rc {rc} {r}")
    check.that(f"ignoring {state_file}: {why}" in err, f"{name} state named on stderr: {err!r}")

# Not a writable directory: one line naming the flag, exit 2.
not_dir = os.path.join(tmp, "a-file")
open(not_dir, "w").close()
r = subprocess.run([SWARMDIAL, "seed", "--torrent", torrent, "--data", data, "--listen", "127.0.0.1:0",
                    "--state-dir", not_dir], capture_output=True, text=True, timeout=30)
lines = r.stderr.strip().splitlines()
check.that(r.returncode == 2 and len(lines) == 1 and "--state-dir" in lines[0], f"bad --state-dir: {r.returncode} {lines}")

shutil.rmtree(tmp, ignore_errors=True)
check.done()
