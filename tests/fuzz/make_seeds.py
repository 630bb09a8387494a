#!/usr/bin/env python3
"""Seed corpora for the fuzz targets from the test captures: the capture files
themselves (capture_file), and runs of frames from the classic-pcap ones in
fuzz_packets' input format (packets): [link type selector] ([gap][len][frame])*.

usage: make_seeds.py OUT_DIR CAPTURE...
"""
import os
import struct
import sys

SELECTOR = {1: 0, 113: 1, 276: 2, 101: 3, 228: 4, 229: 5, 0: 6, 108: 7, 12: 8}


def frames(path):
    data = open(path, "rb").read()
    if len(data) < 24:
        return None, []
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        return None, []  # pcapng: only a capture_file seed
    link = struct.unpack(endian + "I", data[20:24])[0] & 0xFFFF
    out, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return link, out


def main():
    out, captures = sys.argv[1], sys.argv[2:]
    os.makedirs(os.path.join(out, "capture_file"), exist_ok=True)
    os.makedirs(os.path.join(out, "packets"), exist_ok=True)
    for path in captures:
        name = os.path.basename(path)
        with open(os.path.join(out, "capture_file", name), "wb") as f:
            f.write(open(path, "rb").read()[:64 * 1024])
        link, fr = frames(path)
        if link not in SELECTOR:
            continue
        for k in range(0, min(len(fr), 64), 16):  # a few seeds of 16 frames each
            seed = bytes([SELECTOR[link]])
            for frame in fr[k:k + 16]:
                frame = frame[:255]
                seed += bytes([1, len(frame)]) + frame
            with open(os.path.join(out, "packets", f"{name}.{k}"), "wb") as f:
                f.write(seed)


if __name__ == "__main__":
    main()
