"""A peer that turns swarmdial away once, as a client whose listening socket
is open before its torrent is loaded does: it accepts one connection, closes
it, closes the listener, prints `closed` and exits.

  accept_once.py ADDR PORT [TIMEOUT_S]

Prints `ready` once listening."""
import socket
import sys

addr, port = sys.argv[1], int(sys.argv[2])
timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 20
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((addr, port))
srv.listen(8)
srv.settimeout(timeout)
print("ready", flush=True)
try:
    conn, _ = srv.accept()
except socket.timeout:
    print("timeout", flush=True)
    sys.exit(1)
conn.close()
srv.close()
print("closed", flush=True)
