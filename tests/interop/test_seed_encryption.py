"""MSE/PE against python3-libtorrent with encryption forced (RC4 only, both
ways, as users who require encryption set it up):
- --encryption prefer (the default): the forced leecher connects to us and
  downloads over RC4, byte-identical;
- --encryption require, outbound: swarmdial dials the forced leecher through
  the engine and serves it over RC4;
- --encryption require: a plaintext leecher is refused and counted
  (plaintext_refused), and gets nothing;
- --encryption off: the forced leecher is refused and counted
  (encrypted_refused), and gets nothing;
- transmission-daemon with encryption required (settings "encryption": 2):
  --encryption require dials it and serves it over RC4, byte-identical;
  so does --encryption prefer, whose plaintext dial Transmission closes,
  and whose re-dial is encrypted;
  under --encryption off the same dial gets nothing (Transmission closes
  the plaintext handshake before any handshake completes).
Transmission's close of a plaintext handshake reaches us as a FIN
(peer_closed) or, when our handshake bytes were still unread on its side,
as a reset (io_error): both are the refusal the re-dial answers (one CI run
saw io_error)."""
import os
import signal
import tempfile
import time

from seedtest import (Check, Leecher, Transmission, free_port, make_data, make_torrent, read_json, same_tree,
                      start_seed, wait_for_port)

check = Check("seed encryption")
tmp = tempfile.mkdtemp(prefix="sd_seedenc_")
sizes = {"a.bin": 2 * 1024 * 1024 + 999, "b/c.bin": 300_000}
make_data(tmp, sizes)
torrent = os.path.join(tmp, "t.torrent")
make_torrent(tmp, 65536, torrent, v1_only=True)


def check_download(label, s, dl, took, progress, expect_done):
    """Served over RC4 and byte-identical, or (refused) nothing at all."""
    if expect_done:
        check.that(took is not None, f"{label}: download incomplete ({progress:.0%})")
        if took is not None:
            check.that(same_tree(tmp, dl, sizes), f"{label}: files differ")
            print(f"{label}: {sum(sizes.values()) / took / 1e6:.1f} MB/s in {took:.2f} s over RC4")
        check.that(1 <= s["peers_encrypted"] <= s["peers_served"],
                   f"{label}: served over RC4: {s['peers_encrypted']} of {s['peers_served']}")
    else:
        check.that(took is None and progress == 0, f"{label}: the client got data ({progress:.0%})")
        check.that(s["bytes_up"] == 0 and s["peers_encrypted"] == 0, f"{label}: {s}")


def run(label, seed_args, enc, outbound=False, expect_done=True, wait=40):
    dl = os.path.join(tmp, "dl_" + label.replace(" ", "_"))
    summary = os.path.join(tmp, f"s_{label.replace(' ', '_')}.json")
    args = ["--torrent", torrent, "--data", tmp, "--summary", summary, "--quiet",
            "--duration", 60, "--workers", 2] + seed_args
    if outbound:
        lport = free_port()
        seed = start_seed(args + ["--peers", f"127.0.0.1:{lport}", "--half-open", 4,
                                  "--redial-delay", 300])
        time.sleep(0.2)
        leecher = Leecher(torrent, dl, port=lport, settle=False, enc=enc)
    else:
        port = free_port()
        seed = start_seed(args + ["--listen", f"127.0.0.1:{port}"])
        check.that(wait_for_port(port), f"{label}: swarmdial listens")
        leecher = Leecher(torrent, dl, enc=enc)
        leecher.connect(port)
    took = leecher.wait_done(wait)
    progress = leecher.progress()
    seed.send_signal(signal.SIGTERM)
    rc = seed.wait(timeout=20)
    err = seed.stderr.read()
    check.that(rc == 0, f"{label}: seed exit {rc}: {err}")
    s = read_json(summary)["seed"]
    check_download(label, s, dl, took, progress, expect_done)
    del leecher
    return s


run("prefer inbound", [], "forced")
s = run("require outbound", ["--encryption", "require"], "forced", outbound=True)
# A plaintext leecher under require, and an encrypted one under off: each
# tries (libtorrent retries a refused peer), is cut off and counted by reason.
s = run("require plaintext", ["--encryption", "require"], "disabled", expect_done=False, wait=8)
check.that(s["disconnects"].get("plaintext_refused", 0) >= 1, f"plaintext refused: {s['disconnects']}")
s = run("off encrypted", ["--encryption", "off"], "forced", expect_done=False, wait=8)
check.that(s["disconnects"].get("encrypted_refused", 0) >= 1, f"encrypted refused: {s['disconnects']}")


def run_transmission(label, seed_args, expect_done, wait):
    dl = os.path.join(tmp, "dl_" + label.replace(" ", "_"))
    summary = os.path.join(tmp, f"s_{label.replace(' ', '_')}.json")
    tr = Transmission(torrent, dl, {"encryption": 2})
    try:
        seed = start_seed(["--torrent", torrent, "--data", tmp, "--summary", summary, "--quiet",
                           "--duration", 60, "--peers", f"127.0.0.1:{tr.peer_port}",
                           "--redial-delay", 300] + seed_args)
        took = tr.wait_done(wait)
        progress = tr.progress()
        seed.send_signal(signal.SIGTERM)
        rc = seed.wait(timeout=20)
        check.that(rc == 0, f"{label}: seed exit {rc}: {seed.stderr.read()}")
    finally:
        tr.close()
    s = read_json(summary)["seed"]
    check_download(label, s, dl, took, progress, expect_done)
    if not expect_done:
        check.that(s["peers_served"] == 0, f"{label}: Transmission completed a handshake: {s}")
    return s


def refusals(d):
    return d.get("peer_closed", 0) + d.get("io_error", 0)


run_transmission("transmission require", ["--encryption", "require"], True, 60)
s = run_transmission("transmission prefer", [], True, 60)
check.that(refusals(s["disconnects"]) >= 1 and s["redial"]["redials"] >= 1,
           f"the plaintext dial was closed and re-dialled: {s['disconnects']} {s['redial']}")
s = run_transmission("transmission off", ["--encryption", "off"], False, 8)
check.that(refusals(s["disconnects"]) >= 1, f"Transmission closed on us: {s['disconnects']}")
check.done()
