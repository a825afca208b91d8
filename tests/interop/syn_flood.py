"""A bounded SYN flood for the tests, run inside a client namespace:
  syn_flood.py DST_IP DST_PORT COUNT SECONDS
sends at most COUNT SYNs to DST within SECONDS, each from a random address
in 198.19.0.0/16 (which routes back into the test's namespace and dies
there) and a random port, then prints how many it sent."""
import random
import socket
import struct
import sys
import time

dst, dport, count, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])


def csum(b):
    t = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while t >> 16:
        t = (t & 0xFFFF) + (t >> 16)
    return ~t & 0xFFFF


s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
d = socket.inet_aton(dst)
rng = random.Random(7)
sent, end = 0, time.time() + seconds
while sent < count and time.time() < end:
    src = bytes([198, 19, rng.randrange(256), rng.randrange(1, 255)])
    sport = rng.randrange(1024, 65535)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, rng.getrandbits(32), 0, 5 << 4, 0x02, 64240, 0, 0)
    tcp = tcp[:16] + struct.pack("!H", csum(src + d + struct.pack("!BBH", 0, 6, 20) + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, rng.getrandbits(16), 0, 64, 6, 0, src, d)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    try:
        s.sendto(ip + tcp, (dst, 0))
        sent += 1
    except OSError:
        time.sleep(0.001)
print(sent, flush=True)
