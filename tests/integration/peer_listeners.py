"""Kernel peers for the DPDK tests, run inside the peer namespace: listens on
ADDR:FIRST..FIRST+COUNT-1 and accepts until SIGTERM; closes each accepted
connection at once, or keeps it open with a 4th argument `keep`. Prints
`ready` once every socket listens."""
import selectors
import signal
import socket
import sys

addr, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
keep = len(sys.argv) > 4 and sys.argv[4] == "keep"
kept = []
sel = selectors.DefaultSelector()
for port in range(first, first + count):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(4096)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
running = True


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
while running:
    for key, _ in sel.select(timeout=0.1):
        try:
            c, _ = key.fileobj.accept()
            if keep:
                kept.append(c)
            else:
                c.close()
        except OSError:
            pass
