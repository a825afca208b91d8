"""Runs in the peer namespace and answers every SYN that arrives on IFACE
with forgeries, as an attacker on the path would: a SYN-ACK with a wrong
ack, an RST that does not acknowledge the SYN, a SYN-ACK to a neighbouring
port of ours, an ICMP error quoting a sequence number we never sent, and,
when a source port comes back with a new ISN (its slot was reused), the old
flow's SYN-ACK replayed. None of them may end a genuine attempt. Prints
`ready`; on SIGTERM prints how many of each it sent as JSON. Bounded: at
most MAX_SYNS SYNs are answered."""
import json
import signal
import socket
import struct
import sys

ETH_P_IP = 0x0800
MAX_SYNS = 2000

iface = sys.argv[1]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
s.bind((iface, 0))
s.settimeout(0.1)
running = True
sent = {"bad_ack": 0, "rst_no_ack": 0, "wrong_port": 0, "icmp_wrong_seq": 0, "replay": 0}
last_syn = {}  # our port -> (ISN, target address, target port) of the SYN seen there before
answered = 0


def stop(*_):
    global running
    running = False


def csum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while t >> 16:
        t = (t & 0xFFFF) + (t >> 16)
    return ~t & 0xFFFF


def ipv4(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000, 64, proto, 0, src, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def tcp(src, dst, sport, dport, seq, ack, flags):
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(h))
    return h[:16] + struct.pack("!H", csum(pseudo + h)) + h[18:]


def send(eth, ip_packet, kind):
    s.send(eth + ip_packet)
    sent[kind] += 1


signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
while running:
    try:
        data, addr = s.recvfrom(2048)
    except (socket.timeout, InterruptedError):
        continue
    if addr[2] == socket.PACKET_OUTGOING or len(data) < 54:
        continue
    ip = data[14:]
    ihl = (ip[0] & 0x0F) * 4
    if ip[9] != 6:
        continue
    t = ip[ihl:]
    if t[13] & 0x12 != 0x02 or answered >= MAX_SYNS:  # SYNs only
        continue
    answered += 1
    # Back to the sender: swap the MACs, the addresses and the ports.
    eth = data[6:12] + data[0:6] + data[12:14]
    us, them = ip[12:16], ip[16:20]
    our_port, their_port = struct.unpack("!HH", t[:4])
    isn = struct.unpack("!I", t[4:8])[0]
    send(eth, ipv4(them, us, 6, tcp(them, us, their_port, our_port, 777, (isn + 5001) & 0xFFFFFFFF,
                                    0x12)), "bad_ack")
    send(eth, ipv4(them, us, 6, tcp(them, us, their_port, our_port, 0, (isn + 8) & 0xFFFFFFFF,
                                    0x14)), "rst_no_ack")
    send(eth, ipv4(them, us, 6, tcp(them, us, their_port, our_port ^ 1, 777,
                                    (isn + 1) & 0xFFFFFFFF, 0x12)), "wrong_port")
    quoted = ipv4(us, them, 6, tcp(us, them, our_port, their_port, (isn + 99) & 0xFFFFFFFF, 0,
                                   0x02))[:28]
    icmp = struct.pack("!BBHI", 3, 1, 0, 0) + quoted
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    send(eth, ipv4(them, us, 1, icmp), "icmp_wrong_seq")
    old = last_syn.get(our_port)
    if old is not None and old[0] != isn:
        old_isn, old_them, old_port = old
        send(eth, ipv4(old_them, us, 6, tcp(old_them, us, old_port, our_port, 778,
                                            (old_isn + 1) & 0xFFFFFFFF, 0x12)), "replay")
    last_syn[our_port] = (isn, them, their_port)
print(json.dumps(sent), flush=True)
