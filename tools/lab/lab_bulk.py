"""A bulk transfer across the router lab, standing in for a leecher that
downloads from the dialer's side through the narrow uplink: it keeps the
uplink's queue full, so every handshake behind it waits in that queue.

  lab_bulk.py sink PORT        (targets namespace: accepts, reads, discards)
  lab_bulk.py send HOST PORT   (dialer namespace: writes until SIGTERM)

Prints `ready`, runs until SIGTERM."""
import signal
import socket
import sys
import threading

signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
if sys.argv[1] == "sink":
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", int(sys.argv[2])))
    srv.listen(8)
    print("ready", flush=True)

    def drain(c):
        while c.recv(1 << 16):
            pass

    while True:
        c, _ = srv.accept()
        threading.Thread(target=drain, args=(c,), daemon=True).start()
else:
    s = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=10)
    s.settimeout(None)  # a full queue may stall it for long; it must not give up
    print("ready", flush=True)
    chunk = b"\0" * (1 << 16)
    while True:
        s.sendall(chunk)
