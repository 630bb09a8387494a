#!/usr/bin/env python3
"""Bounded TCP traffic for the netns lab (tests, captures, demo).

  traffic.py server ADDR PORT sink|stall CONNECTIONS
      accept CONNECTIONS connections (20 s accept timeout each); "sink" reads
      everything, "stall" shrinks its buffer and reads nothing for 4 s first
      (zero windows and probes), then drains.
  traffic.py client ADDR PORT CONNECTIONS BYTES TIMEOUT [close|abort]
      open CONNECTIONS connections one after another, send BYTES on each;
      refused or timed-out connects are expected and ignored. "abort" ends
      each connection with a RST (SO_LINGER 0) instead of a FIN.
Every loop is bounded in count and time.
"""
import socket
import struct
import sys
import time


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def server(addr, port, mode, connections):
    s = socket.socket(family(addr))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if mode == "stall":
        # Small from the handshake on, so the window closes the regular way
        # (TcpExtTCPToZeroWindowAdv) rather than by dropping data that a large
        # advertised window had already let in.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.bind((addr, port))
    s.listen(16)
    s.settimeout(20)
    for _ in range(connections):
        c, _ = s.accept()
        if mode == "stall":
            time.sleep(4)
        c.settimeout(10)
        try:
            while c.recv(65536):
                pass
        except OSError:
            pass
        c.close()


def client(addr, port, connections, size, timeout, ending="close"):
    for _ in range(connections):
        c = socket.socket(family(addr))
        c.settimeout(timeout)
        try:
            c.connect((addr, port))
            c.sendall(b"x" * size)
            if ending == "abort":
                time.sleep(0.2)  # let the data be acknowledged first
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        c.close()


if __name__ == "__main__":
    role, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if role == "server":
        server(addr, port, sys.argv[4], int(sys.argv[5]))
    else:
        client(addr, port, int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]),
               sys.argv[7] if len(sys.argv) > 7 else "close")
