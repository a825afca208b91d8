#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora (tests/fuzz/corpus/TARGET/): small,
valid examples of each input. Torrents come from python3-libtorrent (v1 and
hybrid, with pad files); the rest is built here from the specs (BEP 3, 15,
23; Ethernet/IPv4/TCP). Run with /usr/bin/python3 (libtorrent); the output
is committed, so the fuzz runs do not need it."""
import hashlib
import os
import struct
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")


def bencode(v):
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, list):
        return b"l" + b"".join(bencode(x) for x in v) + b"e"
    if isinstance(v, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, x) for k, x in v.items())
        return b"d" + b"".join(bencode(k) + bencode(x) for k, x in items) + b"e"
    raise TypeError(v)


def put(target, name, data):
    os.makedirs(os.path.join(OUT, target), exist_ok=True)
    with open(os.path.join(OUT, target, name), "wb") as f:
        f.write(data)


# bencode
put("bencode", "dict", bencode({"a": 1, "b": [b"x", -3, {"c": b""}], "d": b"\x00\xff"}))
put("bencode", "nested", bencode([[[[{"k": [1, 2, 3]}]]]]))
put("bencode", "announce", bencode({"interval": 1800, "peers": b"\x7f\x00\x00\x01\x1a\xe1"}))

# metainfo (libtorrent's own create_torrent)
try:
    import libtorrent as lt
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "set", "sub"))
        for rel, size in (("a.bin", 40000), ("sub/b.bin", 70001), ("c.bin", 1)):
            with open(os.path.join(d, "set", rel), "wb") as f:
                f.write(os.urandom(size))
        for name, flags in (("v1", lt.create_torrent.v1_only), ("hybrid", 0)):
            fs = lt.file_storage()
            lt.add_files(fs, os.path.join(d, "set"))
            t = lt.create_torrent(fs, 16384, flags=flags)
            lt.set_piece_hashes(t, d)
            put("metainfo", name, lt.bencode(t.generate()))
except ImportError:
    print("no python3-libtorrent: metainfo seeds from this script only", file=sys.stderr)
info = {"name": "one.bin", "length": 20000, "piece length": 16384,
        "pieces": hashlib.sha1(b"a").digest() + hashlib.sha1(b"b").digest()}
put("metainfo", "single", bencode({"announce": "udp://127.0.0.1:6969", "info": info}))

# resume (seed --state-dir) for fuzz_resume's fixed torrent: 10 pieces, 3 files
put("resume", "valid", b"d5:filesli250ei111eeli450ei222eeli250ei333ee4:have2:\xff\x809:info-hash20:"
    + b"\xab" * 20 + b"10:num-piecesi10e12:piece-lengthi100e7:versioni1ee")

# peer-wire streams: the first byte picks direction, read size and whether
# the fuzz target prepends a valid handshake (0x80).
def msg(mid, body=b""):
    return struct.pack(">IB", 1 + len(body), mid) + body
stream = (msg(2) + msg(6, struct.pack(">III", 0, 0, 16384)) + msg(6, struct.pack(">III", 12, 0, 77)) +
          msg(8, struct.pack(">III", 0, 0, 16384)) + struct.pack(">I", 0) + msg(3) +
          msg(20, b"\x00" + bencode({"m": {"ut_metadata": 1}, "reqq": 250})) + msg(14) + msg(4, struct.pack(">I", 5)))
put("peer_session", "inbound_messages", b"\x80" + stream)
put("peer_session", "outbound_small_reads", b"\x87" + stream)
put("peer_session", "raw_handshake", b"\x02" + b"\x13BitTorrent protocol" + bytes(8) +
    bytes.fromhex("0102030405060708090a0b0c0d0e0f1011121314") + b"-XX0001-abcdefghijkl" + msg(2))

# The leech side: the seed's bitfield (2 pieces), UNCHOKE, then zero blocks
# for both pieces (the fuzz target's torrent is all zeros). Byte 0x84: a
# valid handshake first, reads of 16384 bytes.
leech = msg(5, b"\xc0") + msg(1) + msg(7, struct.pack(">II", 0, 0) + bytes(16384)) + \
    msg(7, struct.pack(">II", 1, 0) + bytes(100))
put("leech_session", "complete", b"\x84" + leech)
put("leech_session", "have_all_small_reads", b"\x87" + msg(14) + msg(1) + msg(7, struct.pack(">II", 0, 0) + bytes(100)))

# HTTP announce replies
put("http_announce", "compact", bencode({"interval": 1800, "min interval": 60, "complete": 3, "incomplete": 1,
                                         "peers": b"\x7f\x00\x00\x01\x1a\xe1\xc6\x12\x00\x01\x1a\xe2",
                                         "peers6": b"\x00" * 15 + b"\x01\x1a\xe1"}))
put("http_announce", "dict_peers", bencode({"interval": 900, "peers": [{"ip": "127.0.0.2", "port": 6881,
                                                                           "peer id": b"-XX0001-abcdefghijkl"}]}))
put("http_announce", "failure", bencode({"failure reason": "unregistered torrent"}))

# UDP tracker replies (the target takes the transaction id from bytes 4-8)
tid = 0x01020304
put("udp_tracker", "connect", struct.pack(">IIQ", 0, tid, 0x41727101980))
put("udp_tracker", "announce", struct.pack(">IIIII", 1, tid, 1800, 2, 5) + bytes([127, 0, 0, 1, 0x1a, 0xe1]))
put("udp_tracker", "scrape", struct.pack(">II", 2, tid) + struct.pack(">III", 4, 100, 7))
put("udp_tracker", "error", struct.pack(">II", 3, tid) + b"torrent not registered")


# frames: Ethernet + IPv4 + TCP SYN-ACK / RST, ARP reply, ICMP unreachable
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(">%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv4(src, dst, proto, payload):
    h = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0x4000, 64, proto, 0, src, dst)
    return h[:10] + struct.pack(">H", csum(h)) + h[12:] + payload


def tcp(src, dst, sport, dport, seq, ack, flags, opts=b""):
    off = (20 + len(opts)) // 4
    h = struct.pack(">HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, 65535, 0, 0) + opts
    pseudo = src + dst + struct.pack(">BBH", 0, 6, len(h))
    return h[:16] + struct.pack(">H", csum(pseudo + h)) + h[18:]


eth = bytes.fromhex("020000000001" "020000000002") + b"\x08\x00"
peer, us = bytes([198, 18, 20, 1]), bytes([198, 18, 20, 100])
mss = b"\x02\x04\x05\xb4\x04\x02\x08\x0a" + bytes(8) + b"\x01\x03\x03\x07"
put("frame", "synack", eth + ipv4(peer, us, 6, tcp(peer, us, 6881, 40000, 1000, 2001, 0x12, mss)))
put("frame", "rst", eth + ipv4(peer, us, 6, tcp(peer, us, 6881, 40001, 0, 2001, 0x14)))
inner = ipv4(us, peer, 6, tcp(us, peer, 40002, 6881, 2000, 0, 0x02))[:28]
icmp = struct.pack(">BBHI", 3, 3, 0, 0) + inner
icmp = icmp[:2] + struct.pack(">H", csum(icmp)) + icmp[4:]
put("frame", "icmp_unreachable", eth + ipv4(peer, us, 1, icmp))
put("frame", "arp_reply", bytes.fromhex("020000000001" "020000000002") + b"\x08\x06" +
    struct.pack(">HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, bytes.fromhex("020000000002"), peer,
                bytes.fromhex("020000000001"), us))

# target lines
put("target_lines", "v4_v6", b"127.0.0.1:6881\n# a comment\n\n[::1]:51413\n198.18.3.7:80\n")
put("target_lines", "range", b"127.0.1.0/24:6881-6889,80")

# INI --config files: byte 0 is the command (dial, seed, tracker-load,
# ceiling, swarm) and, with 0x80, a valid command line beside the file.
put("config", "dial", b"\x80" + b"# a dial config\nhalf-open = 512\nrate = 20000\ntimeout = 1000\n"
    b"shards = 2\nformat = jsonl\nsummary = s.json\n")
put("config", "dial_range", b"\x00" + b"range = 198.18.0.0/24:6881-6889\nhalf-open = auto\n"
    b"half-open-min = 8\nseed = 7\npartition = 0/2\n")
put("config", "seed", b"\x81" + b"upload-limit = 1000000\nmax-peers = 40\nworkers = 2\n"
    b"inbound-rate = 5\nduration = 60\n")
put("config", "tracker_load", b"\x82" + b"rate = 20000\nduration = 30\npeers = 100\ntorrents = 10\n")
put("config", "ceiling", b"\x83" + b"start-rate = 100\nstep-duration = 2\nhalf-open-max = 4096\n")
put("config", "swarm", b"\x84" + b"listen = 127.0.0.1\npeers = 10\n")

# The handshake engine's scripts (see fuzz_handshake_engine.cpp): mode byte,
# then ops: 0 start(slot, peer, port), 1 ARP(who), 2 SYN-ACK(slot, flags,
# how, seq), 4 ICMP(slot, code, how), 6 time(x20 ms), 7 tx starve.
put("handshake_engine", "established", bytes([0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 6, 5]))
put("handshake_engine", "refused_and_timeout",
    bytes([1, 0, 0, 1, 0, 0, 1, 1, 1, 1, 3, 0, 0x14, 0, 0, 0, 0, 0, 6, 255, 6, 255]))
put("handshake_engine", "icmp_and_bad_ack",
    bytes([2, 0, 2, 2, 1, 1, 9, 4, 2, 3, 0, 2, 0, 0x12, 1, 0, 0, 0, 9, 0, 0, 0, 0, 7, 1, 6, 60]))
# mse: byte 0 picks the mode (bit 0: our two sides with corrupted
# messages; else a stranger's stream) and the policies
put("mse", "plaintext_stranger", b"\x00" + b"\x13BitTorrent protocol" + bytes(48))
put("mse", "key_stranger", b"\x10" + bytes(range(1, 97)) + bytes(600))
put("mse", "clean_exchange", b"\x01")
# XORs 3 into crypto_select (step 4, offset 11): B ends in RC4, A in plaintext
put("mse", "flipped_select", b"\x01" + bytes(18) + bytes([0, 11, 3, 0, 0, 0]))
put("mse", "corrupt_step3", b"\x01" + bytes([0, 0, 0, 0, 0, 0]) + bytes([0, 130, 1, 0, 0, 0]))
print(f"corpora written under {OUT}")
