"""An echo server for the DPDK handoff tests, run inside the peer
namespace: every connection gets back exactly what it sends, until it
closes. Prints `ready` once listening; runs until SIGTERM."""
import signal
import socket
import sys
import threading

addr, port = sys.argv[1], int(sys.argv[2])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((addr, port))
srv.listen(64)
srv.settimeout(0.2)
running = True


def stop(*_):
    global running
    running = False


def serve(c):
    with c:
        while True:
            try:
                data = c.recv(1 << 16)
            except OSError:
                return
            if not data:
                return
            c.sendall(data)


signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
while running:
    try:
        conn, _ = srv.accept()
    except (socket.timeout, OSError):
        continue
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
