#!/usr/bin/env python3
"""Crafted oracle: hand-built packet sequences, written to pcap files here,
judged by tshark 4.0 and by `tcpanomaly --read`; every counter the two share
must be equal (the same comparison as oracle.py).

The sequences are the ones of tests/unit/capture_quirks_test.cpp (a VLAN tag
on one direction, a SYN retried after a challenge ACK and RST, a repeated SYN
1 ms after a hole, a connect refused twice, a FIN retransmitted with backoff
for five minutes, a connection quiet for 15 minutes, IP lengths beyond the
frame, a TCP data offset beyond the segment) plus the probes that pinned down
what tshark does after a repeated SYN. Nothing here is our own output: the
unit tests carry the numbers, this test makes sure tshark still agrees.

usage: crafted_oracle.py TCPANOMALY_BINARY
"""
import os
import struct
import sys
import tempfile

import oracle

A = ("10.0.0.1", 40000)
B = ("10.0.0.2", 80)
FLAGS = {"F": 1, "S": 2, "R": 4, "P": 8, "A": 16}
ISN_A, ISN_B = 1000, 5000


def addr(a):
    return bytes(int(x) for x in a.split("."))


def frame(seg):
    """seg: dict with t (ms), a (from A?), seq, ack, fl (letters), and optional
    len, vlan, ip_len (IPv4 total length to claim), doff (TCP data offset)."""
    src, dst = (A, B) if seg["a"] else (B, A)
    flags = sum(FLAGS[c] for c in seg["fl"])
    payload = b"d" * seg.get("len", 0)
    tcp = struct.pack("!HHIIBBHHH", src[1], dst[1], seg["seq"], seg["ack"], seg.get("doff", 5) << 4, flags,
                      65535, 0, 0) + payload
    total = seg.get("ip_len", 20 + len(tcp))
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, 6, 0, addr(src[0]), addr(dst[0]))
    eth = b"\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x01"
    if seg.get("vlan") is not None:
        eth += struct.pack("!HH", 0x8100, seg["vlan"])
    return eth + b"\x08\x00" + ip + tcp


def write_pcap(path, segs):
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for seg in segs:
            f = frame(seg)
            us = int(round(seg["t"] * 1000))
            out.write(struct.pack("<IIII", us // 1_000_000, us % 1_000_000, len(f), len(f)))
            out.write(f)


def s(t, from_a, seq, ack, fl, length=0, **extra):
    return dict(t=t, a=from_a, seq=seq, ack=ack, fl=fl, len=length, **extra)


def handshake(t, vlan_a=None):
    return [s(t, True, ISN_A, 0, "S", vlan=vlan_a), s(t + 10, False, ISN_B, ISN_A + 1, "SA"),
            s(t + 20, True, ISN_A + 1, ISN_B + 1, "A", vlan=vlan_a)]


def sequences():
    x = ISN_A
    backoff = [200, 600, 1400, 3000, 6200, 12600, 25400, 51000, 102200, 204600, 324600]
    return {
        "one-sided-vlan": handshake(1000, vlan_a=10) + [
            s(1030, True, 1001, 5001, "A", 100, vlan=10), s(1040, True, 1101, 5001, "A", 100, vlan=10),
            s(1050, False, 5001, 1201, "A"), s(1300, True, 1001, 5001, "A", 100, vlan=10)],
        "syn-after-challenge-ack-and-rst": [
            s(1000, True, x, 0, "S"), s(1030, False, 7000, 500000, "A"), s(1031, True, 500000, 0, "R"),
            s(4000, True, x, 0, "S"), s(4030, False, 9000, x + 1, "SA"), s(4031, True, x + 1, 9001, "A"),
            s(4032, True, x + 1, 9001, "PA", 100), s(4400, True, x + 1, 9001, "PA", 100),
            s(4500, True, x + 101, 9001, "RA")],
        "repeated-syn-after-hole": [
            s(1000, True, x, 0, "S"), s(1001, True, x + 301, 0, "PA", 100), s(1002, True, x, 0, "S"),
            s(1100, True, x + 1, 0, "PA", 100)],
        "repeated-syn-after-hole-late": [
            s(1000, True, x, 0, "S"), s(1010, True, x + 1, 0, "PA", 100), s(1020, True, x + 301, 0, "PA", 100),
            s(4000, True, x, 0, "S"), s(4032, True, x + 101, 5001, "PA", 100),
            s(4040, True, x + 1, 5001, "PA", 100)],
        "repeated-syn-without-hole": [
            s(1000, True, x, 0, "S"), s(1010, True, x + 1, 0, "PA", 100), s(4000, True, x, 0, "S"),
            s(4030, False, 9000, x + 1, "SA"), s(4032, True, x + 1, 9001, "PA", 100)],
        "refused-twice": [
            s(1000, True, x, 0, "S"), s(1001, False, 0, x + 1, "RA"), s(1500, True, x, 0, "S"),
            s(1501, False, 0, x + 1, "RA")],
        "fin-backoff": handshake(1000) + [s(2000, True, 1001, 5001, "FA"), s(2010, False, 5001, 1002, "FA")] +
                       [s(2010 + d, False, 5001, 1002, "FA") for d in backoff],
        "quiet-15-minutes": handshake(1000) + [
            s(1030, True, 1001, 5001, "PA", 100), s(1040, False, 5001, 1101, "A"),
            s(901030, True, 1201, 5001, "PA", 100), s(901040, False, 5001, 1301, "A")],
        "ip-length-beyond-frame": handshake(1000) + [
            s(1030, True, 1001, 5001, "FA", 100, ip_len=29000), s(1040, False, 5001, 1102, "FA")],
        "data-offset-beyond-segment": [s(1000, True, x, 0, "S", doff=15), s(1001, True, x, 0, "SA", doff=6)],
    }


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    binary = sys.argv[1]
    checks = failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, segs in sequences().items():
            path = os.path.join(tmp, name + ".pcap")
            write_pcap(path, segs)
            n, bad = oracle.check_capture(binary, path, name)
            checks += n
            failures += bad
    print(f"crafted oracle: {checks - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
