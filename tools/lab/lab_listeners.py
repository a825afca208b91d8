"""Listeners for the router lab, in the targets namespace: one socket per
port in [FIRST, LAST] on every address, BACKLOG deep, accepting at most
RATE connections a second over all ports (0: as fast as they come), so the
excess waits in the backlog and, once it is full, its SYNs are dropped.

  lab_listeners.py FIRST LAST BACKLOG RATE

Prints `ready`, runs until SIGTERM."""
import selectors
import signal
import socket
import sys
import time

first, last, backlog, rate = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
sel = selectors.DefaultSelector()
for port in range(first, last + 1):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(backlog)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
running = True
signal.signal(signal.SIGTERM, lambda *_: globals().__setitem__("running", False))
print("ready", flush=True)
tokens, last_t = 1.0, time.monotonic()
while running:
    if rate > 0:
        now = time.monotonic()
        tokens = min(rate / 100 + 1, tokens + (now - last_t) * rate)
        last_t = now
        if tokens < 1:
            time.sleep(max(0.0005, (1 - tokens) / rate))
            continue
    for key, _ in sel.select(timeout=0.1):
        try:
            c, _ = key.fileobj.accept()
            c.close()
        except BlockingIOError:
            continue
        if rate > 0:
            tokens -= 1
            if tokens < 1:
                break
