"""A UDP tracker (BEP 15) with planted faults, for tracker-load's tests.
Of every ten announces it drops one, answers one under a wrong transaction
id, and answers one with an empty peer list while it says the swarm holds
100 peers; the rest get a proper reply with 10 peers. Connects and scrapes
are answered properly. With --freeze-at A --freeze-for S it stops reading
for S seconds, A seconds after the first announce.

Prints "ready PORT", then serves until stdin closes; at exit prints JSON
with what it did."""
import json
import select
import socket
import struct
import sys
import threading
import time

freeze_at = freeze_for = None
if "--freeze-at" in sys.argv:
    freeze_at = float(sys.argv[sys.argv.index("--freeze-at") + 1])
    freeze_for = float(sys.argv[sys.argv.index("--freeze-for") + 1])

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("127.0.0.1", 0))
print("ready", s.getsockname()[1], flush=True)
done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
counts = {"connect": 0, "announce": 0, "scrape": 0, "dropped": 0, "wrong_tid": 0, "empty": 0,
          "proper": 0, "frozen_s": 0.0}
peers = b"".join(struct.pack(">4sH", bytes([10, 0, 0, i + 1]), 6881) for i in range(10))
first = None
frozen = False
while not done.is_set():
    if select.select([s], [], [], 0.1)[0] == []:
        continue
    data, addr = s.recvfrom(2048)
    if len(data) < 16:
        continue
    action, tid = struct.unpack(">II", data[8:16])
    if action == 0:
        counts["connect"] += 1
        s.sendto(struct.pack(">IIQ", 0, tid, 0xC0FFEE), addr)
    elif action == 2:
        counts["scrape"] += 1
        n = (len(data) - 16) // 20
        s.sendto(struct.pack(">II", 2, tid) + struct.pack(">III", 1, 0, 1) * n, addr)
    elif action == 1:
        i = counts["announce"]
        counts["announce"] += 1
        now = time.monotonic()
        first = first or now
        if freeze_at is not None and not frozen and now - first >= freeze_at:
            frozen = True
            time.sleep(freeze_for)  # what arrives meanwhile waits in the socket
            counts["frozen_s"] = freeze_for
        if i % 10 == 0:
            counts["dropped"] += 1
        elif i % 10 == 1:
            counts["wrong_tid"] += 1
            s.sendto(struct.pack(">IIIII", 1, tid ^ 0x5A5A5A5A, 1800, 50, 50) + peers, addr)
        elif i % 10 == 2:
            counts["empty"] += 1
            s.sendto(struct.pack(">IIIII", 1, tid, 1800, 50, 50), addr)
        else:
            counts["proper"] += 1
            s.sendto(struct.pack(">IIIII", 1, tid, 1800, 50, 50) + peers, addr)
print(json.dumps(counts), flush=True)
