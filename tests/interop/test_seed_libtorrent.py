"""python3-libtorrent downloads a multi-file torrent (several MiB) from
`swarmdial seed`, for pieces of 16 KiB (a hybrid v1+v2 torrent with BEP 47
pad files, libtorrent's default) and 256 KiB (v1 only), both ways:
the client connects to --listen (inbound, also with --send-zc zero-copy
sends), and swarmdial dials the client through the engine (outbound). Every
download is byte-identical."""
import os
import signal
import tempfile
import time

from seedtest import (Check, Leecher, free_port, make_data, make_torrent, read_json, same_tree,
                      start_seed, wait_for_port)

check = Check("seed to libtorrent")
tmp = tempfile.mkdtemp(prefix="sd_seedlt_")
sizes = {"a.bin": 3 * 1024 * 1024 + 4321, "sub/b.bin": 2 * 1024 * 1024 + 17, "sub/deeper/c.txt": 10,
         "d.bin": 700_000}
make_data(tmp, sizes)
for piece, v1 in ((16384, False), (262144, True)):
    torrent = os.path.join(tmp, f"t{piece}.torrent")
    make_torrent(tmp, piece, torrent, v1_only=v1)
    for direction in ("inbound", "outbound", "inbound-send-zc"):
        label = f"{piece // 1024} KiB pieces, {direction}"
        dl = os.path.join(tmp, f"dl_{piece}_{direction}")
        summary = os.path.join(tmp, f"s_{piece}_{direction}.json")
        args = ["--torrent", torrent, "--data", tmp, "--summary", summary, "--quiet",
                "--duration", 60, "--workers", 2]
        if direction.startswith("inbound"):
            port = free_port()
            zc = ["--send-zc"] if direction.endswith("send-zc") else []
            seed = start_seed(args + ["--listen", f"127.0.0.1:{port}"] + zc)
            check.that(wait_for_port(port), f"{label}: swarmdial listens")
            leecher = Leecher(torrent, dl)
            leecher.connect(port)
        else:
            # swarmdial starts first and the client a moment later, not yet
            # ready for it: the download completes only because swarmdial
            # dials again (refused, or turned away while loading).
            lport = free_port()
            seed = start_seed(args + ["--peers", f"127.0.0.1:{lport}", "--half-open", 4,
                                      "--redial-delay", 300])
            time.sleep(0.2)
            leecher = Leecher(torrent, dl, port=lport, settle=False)
        took = leecher.wait_done(45)
        seed.send_signal(signal.SIGINT)
        rc = seed.wait(timeout=20)
        err = seed.stderr.read()
        check.that(took is not None, f"{label}: download incomplete ({leecher.progress():.0%})")
        check.that(rc == 0, f"{label}: seed exit {rc}: {err}")
        if took is not None:
            print(f"{label}: {sum(sizes.values()) / took / 1e6:.1f} MB/s in {took:.2f} s")
            check.that(same_tree(tmp, dl, sizes), f"{label}: files differ")
        s = read_json(summary)
        check.that(s["seed"]["bytes_up"] >= sum(sizes.values()), f"{label}: bytes_up {s['seed']['bytes_up']}")
        check.that(s["seed"]["pieces_served"] >= s["seed"]["pieces"], f"{label}: pieces served")
        check.that(s["seed"]["peers_served"] >= 1, f"{label}: peers served")
        # --send-zc sends with IORING_OP_SEND_ZC (each send's notification is
        # counted; a send carries at most 4 blocks); without it, none.
        zc = s["seed"]["zero_copy_sends"]
        check.that(zc >= s["seed"]["blocks_served"] / 4 if direction.endswith("send-zc") else zc == 0,
                   f"{label}: zero-copy sends {zc}")
        if direction == "outbound":
            check.that(s["outcomes"]["established"] >= 1, f"{label}: dialed through the engine")
        else:
            check.that(s["seed"]["inbound"]["accepted"] >= 1, f"{label}: inbound accepted")
        del leecher
check.done()
