"""A python3-libtorrent peer for the DPDK tests, run inside the peer
namespace with Debian's /usr/bin/python3.

  netns_libtorrent.py seed TORRENT DATA_DIR LISTEN_IP PORT
      seeds TORRENT from DATA_DIR; prints `ready` once listening.
  netns_libtorrent.py leech TORRENT SAVE_DIR LISTEN_IP PORT PEER_IP PEER_PORT TIMEOUT
      downloads TORRENT (plaintext, TCP only), dialing PEER unless its port is
      0 (then it waits to be dialed); prints `ready`, then `done` when
      complete or `timeout PROGRESS` and exits.
Runs until SIGTERM (seed) or completion (leech)."""
import signal
import sys
import time

import libtorrent as lt

mode, torrent, data_dir, listen_ip, port = sys.argv[1:6]
ses = lt.session({
    "listen_interfaces": f"{listen_ip}:{port}", "enable_dht": False, "enable_lsd": False,
    "enable_upnp": False, "enable_natpmp": False, "out_enc_policy": 2, "in_enc_policy": 2,
    "allow_multiple_connections_per_ip": True, "alert_mask": 0,
    "enable_outgoing_utp": False, "enable_incoming_utp": False})
params = {"ti": lt.torrent_info(torrent), "save_path": data_dir}
if mode == "seed":
    params["flags"] = lt.torrent_flags.seed_mode
handle = ses.add_torrent(params)
deadline = time.time() + 10
while not ses.listen_port() and time.time() < deadline:
    time.sleep(0.05)
print("ready", flush=True)
running = True


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
if mode == "seed":
    while running:
        time.sleep(0.1)
    sys.exit(0)

peer_ip, peer_port, timeout = sys.argv[6], int(sys.argv[7]), float(sys.argv[8])
if peer_port:
    handle.connect_peer((peer_ip, peer_port))
end = time.time() + timeout
while running and time.time() < end:
    st = handle.status()
    if st.is_seeding:
        print("done", flush=True)
        sys.exit(0)
    time.sleep(0.1)
    if peer_port and int((end - time.time()) * 10) % 20 == 0:  # re-dial now and then
        handle.connect_peer((peer_ip, peer_port))
print(f"timeout {handle.status().progress:.3f}", flush=True)
sys.exit(1)
