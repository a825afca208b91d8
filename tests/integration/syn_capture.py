"""Captures, inside the peer namespace, the first SYN of every 4-tuple that
arrives on IFACE, with the kernel's receive timestamp; on SIGTERM writes
them to OUT as JSON [[t_s, src_ip, src_port, dst_ip, dst_port], ...].
Prints `ready` once the socket is bound. This is the outside view the
strict-budget test checks the engine's flow table against."""
import json
import signal
import socket
import struct
import sys

ETH_P_IP = 0x0800
SO_TIMESTAMPNS = 35

iface, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
s.bind((iface, 0))
s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 24)
s.settimeout(0.1)
seen, syns = set(), []
running = True


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
while running:
    try:
        data, anc, _, addr = s.recvmsg(2048, socket.CMSG_SPACE(16))
    except socket.timeout:
        continue
    except InterruptedError:
        continue
    if addr[2] == socket.PACKET_OUTGOING or len(data) < 14 + 20 + 20:
        continue
    ip = data[14:]
    ihl = (ip[0] & 0x0F) * 4
    if ip[9] != 6 or len(ip) < ihl + 20:
        continue
    tcp = ip[ihl:]
    flags = tcp[13]
    if flags & 0x02 == 0 or flags & 0x10:  # SYN without ACK
        continue
    t = None
    for level, kind, value in anc:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            sec, nsec = struct.unpack("qq", value[:16])
            t = sec + nsec / 1e9
    src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
    sport, dport = struct.unpack("!HH", tcp[:4])
    key = (src, sport, dst, dport)
    if key in seen:  # a retransmission of an attempt already counted
        continue
    seen.add(key)
    syns.append([t, src, sport, dst, dport])
with open(out, "w") as f:
    json.dump(syns, f)
